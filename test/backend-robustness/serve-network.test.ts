/**
 * The "done when": `serve --test-hooks` in one process, `ekso-conformance --base-url URL`
 * in another, over the network — exit 0, the four reports, every key revoked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, readReports, runCli, startServe, type Serve } from '../support/cli.js';

let serve: Serve;
let out: string;

beforeAll(async () => {
  serve = await startServe();
  out = await mkdtemp(join(tmpdir(), 'ekso-serve-run-'));
});

afterAll(async () => {
  await serve?.stop();
  await rm(out, { recursive: true, force: true });
});

describe('serve --test-hooks, then --base-url over the network', () => {
  it('is conformant: exit 0 and four reports', { timeout: 240_000 }, async () => {
    const result = await runCli(['--base-url', serve.baseUrl, '--out', out, '--no-color']);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/conformant/);
    const { report, files } = await readReports(out);
    expect(report.exitCode).toBe(0);
    expect(report.target.baseUrl).toBe(serve.baseUrl);
    expect(report.checks.filter((c) => c.status === 'failed' || c.status === 'inconclusive')).toEqual([]);
    for (const r of report.requirements.filter((r) => r.side === 'backend')) {
      expect(r.status, r.id).toBe(r.id === 'ERR-04' ? 'skipped' : 'passed');
    }
    expect(report.cleanup.leaked).toBe(0);
    expect(report.cleanup.revoked).toBe(report.cleanup.minted);
    expect(files['junit.xml']).toMatch(/<testsuites/);
    expect(files['report.md']).toMatch(/ekso-conformance|Ekso/);
    expect(files['report.html']).toMatch(/<html/i);
    // The serve process is still healthy after the run.
    expect((await fetch(`${serve.baseUrl}/api/field`, { headers: { authorization: `Bearer ${serve.adminKey}` } })).status).toBe(200);
  });
});
