/**
 * H-02 on Ctrl-C: the CLI run against `serve --test-hooks` is interrupted mid-run; it exits 1 or 4
 * (not 130), writes its reports marked interrupted, and every key it minted is revoked on the
 * target. A second Ctrl-C forces the exit (130).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReports, spawnCli, startServe, type Serve } from '../support/cli.js';
import { pathOf, proxy, startFixture } from './fixtures/targets.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ekso-sigint-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(): Promise<Serve> {
  // Audit-style listing: the revoked keys stay visible, so the test can count them.
  const s = await startServe(['--list-revoked-keys']);
  cleanups.push(() => s.stop());
  return s;
}

interface ListedKey {
  id: string;
  name: string;
  revokedAt: string | null;
}

async function listKeys(s: Serve): Promise<ListedKey[]> {
  const response = await fetch(`${s.baseUrl}/api/admin/api-key`, { headers: { authorization: `Bearer ${s.adminKey}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as ListedKey[];
}

const BOOTSTRAP = new Set(['bootstrap super-admin key', 'bootstrap user key']);

/** Three check lines printed: the run is under way, with checks still to come. */
const UNDER_WAY = /^\s+(?:PASS|FAIL|INCO|SKIP) .*\n(?:.*\n)*?\s+(?:PASS|FAIL|INCO|SKIP) .*\n(?:.*\n)*?\s+(?:PASS|FAIL|INCO|SKIP) .*\n/m;

describe('Ctrl-C (SIGINT) during a run', () => {
  it('stops, revokes every key it minted, writes the reports (interrupted), exits 1 or 4', { timeout: 120_000 }, async () => {
    const target = await serve();
    const out = await tempDir();
    const run = spawnCli(['--base-url', target.baseUrl, '--out', out, '--no-color', '--seed', '3']);
    await run.waitFor(UNDER_WAY);
    run.child.kill('SIGINT');
    const result = await run.done;
    const context = `exit ${result.code} ${result.signal ?? ''}\nstderr:\n${result.stderr.slice(-3000)}`;
    expect(result.signal, context).toBeNull();
    expect([1, 4], context).toContain(result.code);
    expect(result.stderr).toMatch(/SIGINT: stopping/);

    const { report } = await readReports(out);
    expect(report.interrupted).toBe(true);
    expect(report.exitCode).toBe(result.code);
    // Checks after the interruption did not run: inconclusive, never passed.
    expect(report.checks.some((c) => c.status === 'inconclusive' && /interrupted/.test(c.message ?? ''))).toBe(true);
    expect(report.checks.filter((c) => /interrupted/.test(c.message ?? '')).every((c) => c.status === 'inconclusive')).toBe(true);
    expect(report.cleanup.minted).toBeGreaterThan(0);
    expect(report.cleanup).toEqual({ minted: report.cleanup.minted, revoked: report.cleanup.minted, leaked: 0 });

    // The target agrees: every key but its two bootstrap keys is revoked (the harness's own
    // identities, minted through the test hooks, included).
    const keys = await listKeys(target);
    const minted = keys.filter((k) => !BOOTSTRAP.has(k.name));
    expect(minted.length).toBe(report.cleanup.minted);
    expect(minted.filter((k) => !k.revokedAt).map((k) => k.name)).toEqual([]);
  });

  it('a second Ctrl-C forces the exit (130)', { timeout: 120_000 }, async () => {
    const target = await serve();
    // Once the first signal is sent, revocations are slow, so that the second signal arrives
    // while the first is being handled (cleanup), whatever the speed of the machine.
    let slowRevocations = false;
    const forward = proxy(target.baseUrl);
    const delayed = await startFixture(async (req, res, arrival) => {
      if (slowRevocations && /\/revoke$/.test(pathOf(arrival))) await new Promise((r) => setTimeout(r, 3000));
      await forward(req, res, arrival);
    });
    cleanups.push(() => delayed.close());
    const out = await tempDir();
    const run = spawnCli(['--base-url', delayed.baseUrl, '--out', out, '--no-color', '--timeout', '30']);
    await run.waitFor(/\s+(?:PASS|FAIL|INCO|SKIP) /);
    slowRevocations = true;
    run.child.kill('SIGINT');
    await run.waitFor(/SIGINT: stopping/);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
  });
});
