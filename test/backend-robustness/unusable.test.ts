/**
 * A target that cannot be used at all → exit 3 (CONTRACT §1): unreachable, a rejected admin or
 * user key. One diagnostic line, no stack trace, and still the four reports, in which every
 * backend requirement is inconclusive (never passed) and the report states exit code 3.
 */
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import type { Report } from '../../src/report/schema.js';
import { hasStackTrace, lines, readJsonReport, readReports, runCli, type CliResult } from '../support/cli.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ekso-unusable-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A port on 127.0.0.1 where nothing listens (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function reference(): Promise<{ backend: ReferenceBackend; baseUrl: string }> {
  const backend = createReferenceBackend({ testHooks: true, deviceIntervalSeconds: 0 });
  const { baseUrl } = await backend.listen(0, '127.0.0.1');
  cleanups.push(() => backend.close());
  return { backend, baseUrl };
}

/** Exactly one diagnostic line ("ekso-conformance: …"); the rest is the usual summary. */
function expectOneDiagnostic(result: CliResult, pattern: RegExp): void {
  const context = `stderr:\n${result.stderr}`;
  expect(result.code, context).toBe(3);
  expect(hasStackTrace(result.stderr + result.stdout), context).toBe(false);
  const diagnostics = lines(result.stderr).filter((l) => l.startsWith('ekso-conformance: '));
  expect(diagnostics, context).toHaveLength(1);
  expect(diagnostics[0]).toMatch(pattern);
}

function expectNothingPassed(report: Report): void {
  expect(report.exitCode).toBe(3);
  const backend = report.requirements.filter((r) => r.side === 'backend');
  expect(backend.length).toBeGreaterThan(30);
  for (const r of backend) expect(r.status, r.id).toBe('inconclusive');
  expect(report.checks.every((c) => c.status === 'inconclusive' && c.runs === 0)).toBe(true);
  expect(report.summary.passed).toBe(0);
}

describe('an unusable target exits 3 and still writes its reports', () => {
  it('unreachable (a closed port on 127.0.0.1)', async () => {
    const port = await closedPort();
    const out = await tempDir();
    const result = await runCli(['--base-url', `http://127.0.0.1:${port}`, '--out', out, '--no-color']);
    expectOneDiagnostic(result, new RegExp(`unreachable.*127\\.0\\.0\\.1:${port}`));
    const { report, files } = await readReports(out);
    expectNothingPassed(report);
    expect(report.diagnostics?.join('\n')).toMatch(/unreachable/);
    expect(report.cleanup).toEqual({ minted: 0, revoked: 0, leaked: 0 });
    for (const [name, text] of Object.entries(files)) expect(text.length, name).toBeGreaterThan(100);
    // The summary says what happened rather than "inconclusive".
    expect(result.stderr).toMatch(/target unusable/);
  });

  it('with --quiet the diagnostic line is still printed', async () => {
    const out = await tempDir();
    const result = await runCli(['--base-url', `http://127.0.0.1:${await closedPort()}`, '--out', out, '--quiet', '--reporter', 'json']);
    expectOneDiagnostic(result, /unreachable/);
  });

  it('a rejected --admin-key (401): exit 3, and nothing is minted on the target', async () => {
    const { backend, baseUrl } = await reference();
    const out = await tempDir();
    const result = await runCli(['--base-url', baseUrl, '--admin-key', 'ek_live_notARealKeyNotARealKeyNotARealKey12345', '--out', out, '--no-color']);
    expectOneDiagnostic(result, /admin key .*rejected with 401/);
    const { report } = await readReports(out);
    expectNothingPassed(report);
    // The test hooks would have minted a user identity; a rejected key stops the run before that.
    const listing = await fetch(`${baseUrl}/api/admin/api-key`, { headers: { authorization: `Bearer ${backend.bootstrap.adminKey}` } });
    const keys = (await listing.json()) as Array<{ name: string }>;
    expect(keys.map((k) => k.name).sort()).toEqual(['bootstrap super-admin key', 'bootstrap user key']);
    expect(report.cleanup).toEqual({ minted: 0, revoked: 0, leaked: 0 });
    expect(result.stderr + result.stdout).not.toContain('ek_live_notARealKey');
  });

  it('a rejected --user-key (401): exit 3 too (its checks would only give bogus verdicts)', async () => {
    const { backend, baseUrl } = await reference();
    const out = await tempDir();
    const result = await runCli(['--base-url', baseUrl, '--admin-key', backend.bootstrap.adminKey, '--user-key', 'ek_live_notARealKeyNotARealKeyNotARealKey12345', '--out', out, '--reporter', 'json']);
    expectOneDiagnostic(result, /user key .*rejected with 401/);
    expectNothingPassed(await readJsonReport(out));
  });
});
