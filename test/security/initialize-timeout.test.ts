/**
 * Issue 11 point 10: `sdk --timeout` also bounds the adapter's `initialize` (it was always 30 s),
 * over stdio and in-process alike. The run then ends as for any adapter that cannot be used:
 * exit 3, one diagnosis naming the timeout, every check inconclusive, the reports written.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { runSdk } from '../support/sdk-harness.js';

const FIXTURES = join(ROOT, 'test/security/fixtures');

describe('sdk --timeout applies to initialize', () => {
  it('a stdio adapter that never answers initialize: "within 1000 ms" with --timeout 1', { timeout: 20_000 }, async () => {
    const run = await runSdk({ adapter: `node ${join(FIXTURES, 'silent-adapter.mjs')}`, timeout: 1, seed: 1 });
    expect(run.code).toBe(3);
    expect(run.report.diagnostics.join('\n')).toMatch(/did not answer "initialize" within 1000 ms/);
    expect(run.report.checks.every((c) => c.status === 'inconclusive')).toBe(true);
  });

  it('an in-process adapter whose initialize never settles: the same bound', { timeout: 20_000 }, async () => {
    const run = await runSdk({ adapter: join(FIXTURES, 'hanging-init.mjs'), timeout: 1, seed: 1 });
    expect(run.code).toBe(3);
    expect(run.report.diagnostics.join('\n')).toMatch(/did not answer "initialize" within 1000 ms/);
  });
});
