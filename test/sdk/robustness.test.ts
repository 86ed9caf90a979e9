/**
 * SDK mode against adapters that break (H-05): crashing at start or mid-call, hanging, printing
 * non-JSON, answering unknown ids, lacking capabilities. Every run ends with verdicts
 * (inconclusive / skipped / failed), the adapter's stderr tail (redacted) in the diagnostics, all
 * four reports written, and no adapter process (nor its grandchild) left running.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/schema.js';
import { lines, readReports, requireBuiltCli, ROOT, runCli } from '../support/cli.js';
import { runSdk } from '../support/sdk-harness.js';

const FIXTURE = join(ROOT, 'test/sdk/fixtures/bad-adapter.mjs');
const ALL_REPORTERS = ['json', 'junit', 'md', 'html'] as const;
/** A raw API key the model server issued (ek_live_ + 43 base64url characters). */
const RAW_KEY = /ek_live_[A-Za-z0-9_-]{40,}/;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ekso-sdk-robust-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (killed, not yet reaped) counts as dead.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Outcome {
  code: number;
  report: Report;
  files: Record<string, string>;
  pids: number[];
}

async function runBroken(mode: string, extra: { timeout?: number; numRuns?: number } = {}): Promise<Outcome> {
  const out = join(work, mode);
  const pidFile = join(work, `${mode}.pids`);
  const { code } = await runSdk({
    adapter: `node ${FIXTURE} ${mode} ${pidFile}`,
    out,
    reporter: [...ALL_REPORTERS],
    seed: 7,
    timeout: extra.timeout ?? 5,
    numRuns: extra.numRuns ?? 2,
  });
  const { report, files } = await readReports(out);
  const pids = (await readFile(pidFile, 'utf8')).trim().split(/\s+/).map(Number);
  return { code, report, files, pids };
}

function status(report: Report, id: string): string | undefined {
  return report.requirements.find((r) => r.id === id)?.status;
}

/** What every broken run must show, whatever broke. */
function expectCleanEnd(o: Outcome): void {
  expect(Object.keys(o.files).sort()).toEqual(['ekso-conformance.json', 'junit.xml', 'report.html', 'report.md']);
  for (const [name, text] of Object.entries(o.files)) expect(RAW_KEY.test(text), `a raw API key in ${name}`).toBe(false);
  expect(o.pids).toHaveLength(2);
  for (const pid of o.pids) expect(isAlive(pid), `process ${pid} of the adapter's group is still running`).toBe(false);
}

describe('sdk --adapter CMD against broken adapters', () => {
  it('an adapter that crashes at start: exit 3, every check inconclusive, its last stderr line in the diagnostics', async () => {
    const o = await runBroken('crash-start');
    expect(o.code).toBe(3);
    expect(o.report.checks.length).toBeGreaterThan(0);
    for (const c of o.report.checks) expect(c.status, c.id).toBe('inconclusive');
    expect(o.report.diagnostics.join('\n')).toMatch(/could not be used.*boot failed: cannot load libekso/);
    expect(o.report.diagnostics).toContain('adapter stderr (last lines):');
    expect(o.report.exitCode).toBe(3);
    expectCleanEnd(o);
  });

  it('an adapter that crashes mid-call: inconclusive verdicts, the redacted stderr tail in the diagnostics', async () => {
    const o = await runBroken('crash-call');
    expect(o.code).toBe(4);
    expect(status(o.report, 'SDK-01')).toBe('inconclusive');
    expect(o.report.checks.find((c) => c.id === 'sdk.api-key.bearer')?.message).toMatch(/crashed/);
    const diagnostics = o.report.diagnostics.join('\n');
    expect(diagnostics).toContain('adapter stderr (last lines):');
    expect(diagnostics).toContain('bad-adapter: fatal: the SDK blew up');
    // The key the adapter echoed on stderr appears as a fingerprint, never raw.
    expect(diagnostics).toMatch(/bad-adapter: client c1 uses key \S*ek_live_/);
    expectCleanEnd(o);
  });

  it('an adapter that never answers a call (--timeout 1): inconclusive, and its group killed although it ignores SIGTERM', async () => {
    const o = await runBroken('hang', { timeout: 1, numRuns: 1 });
    expect(o.code).toBe(4);
    expect(status(o.report, 'SDK-01')).toBe('inconclusive');
    expect(o.report.checks.find((c) => c.id === 'sdk.api-key.bearer')?.message).toMatch(/did not answer/);
    expectCleanEnd(o);
  });

  it('an adapter that prints non-JSON on stdout: inconclusive (protocol broken)', async () => {
    const o = await runBroken('nonjson');
    expect(o.code).toBe(4);
    expect(status(o.report, 'SDK-01')).toBe('inconclusive');
    expect(o.report.checks.find((c) => c.id === 'sdk.api-key.bearer')?.message).toMatch(/broke the protocol.*non-JSON/);
    expectCleanEnd(o);
  });

  it('an adapter that answers an unknown id: inconclusive (protocol broken)', async () => {
    const o = await runBroken('unknown-id');
    expect(o.code).toBe(4);
    expect(status(o.report, 'SDK-01')).toBe('inconclusive');
    expect(o.report.checks.find((c) => c.id === 'sdk.api-key.bearer')?.message).toMatch(/unknown request id/);
    expectCleanEnd(o);
  });

  it('an adapter lacking capabilities that answers without calling the API: failed, and skipped naming the missing capability', async () => {
    const o = await runBroken('fake');
    expect(o.code).toBe(1);
    expect(status(o.report, 'SDK-01')).toBe('failed');
    for (const id of ['SDK-03', 'SDK-04', 'SDK-06', 'SDK-07', 'SDK-08', 'SDK-09', 'SDK-10', 'SDK-12']) {
      const v = o.report.requirements.find((r) => r.id === id)!;
      expect(v.status, id).toBe('skipped');
      expect(v.reason, id).toMatch(/refreshable capability/);
    }
    for (const id of ['STORE-01', 'STORE-02', 'STORE-03']) expect(o.report.requirements.find((r) => r.id === id)?.reason, id).toMatch(/tokenStore capability/);
    expectCleanEnd(o);
  });
});

describe('sdk --adapter: unusable adapters (exit codes)', () => {
  it('a missing .ts adapter module exits 2 with one line and writes no report', async () => {
    requireBuiltCli();
    const out = join(work, 'missing-module');
    const r = await runCli(['sdk', '--adapter', 'test/sdk/fixtures/no-such-adapter.ts', '--out', out]);
    expect(r.code).toBe(2);
    expect(lines(r.stdout + r.stderr)).toEqual([expect.stringMatching(/adapter module .*no-such-adapter\.ts not found/)]);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('an adapter command that cannot start exits 3, says why, and still writes its reports', async () => {
    requireBuiltCli();
    const out = join(work, 'cannot-start');
    const r = await runCli(['sdk', '--adapter', 'no-such-ekso-adapter-command --stdio', '--out', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the adapter could not be used: adapter exited with code 127.*not found/);
    const { report } = await readReports(out);
    expect(report.exitCode).toBe(3);
    expect(report.checks.every((c) => c.status === 'inconclusive')).toBe(true);
  });
});
