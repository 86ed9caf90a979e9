/**
 * Issue 11 point 3: a key whose mint is in flight when the run stops (Ctrl-C, --max-time) was left
 * active and uncounted ("0 leaked"). Every key the harness mints now carries the run's tag in its
 * name; at the end the cleanup lists the target's keys and settles every tagged key the ledger does
 * not know: recorded as minted and revoked (or reported as leaked with its id).
 *
 * The target is the reference backend behind a proxy whose second mint is forwarded (the key is
 * created) but never answered — a mint that "answers slowly" past the end of the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pathOf, proxy, startFixture, type Arrival, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { readJsonReport, spawnCli, startServe } from '../support/cli.js';
import { createRecordingBackend } from '../support/recording-reference.js';
import { runBackend } from '../support/harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface ListedKey {
  id: string;
  name: string;
  revokedAt: string | null;
}

const BOOTSTRAP = new Set(['bootstrap super-admin key', 'bootstrap user key']);

async function listKeys(baseUrl: string, adminKey: string): Promise<ListedKey[]> {
  const response = await fetch(`${baseUrl}/api/admin/api-key`, { headers: { authorization: `Bearer ${adminKey}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as ListedKey[]).filter((k) => !BOOTSTRAP.has(k.name));
}

const isMint = (arrival: Arrival) => arrival.method === 'POST' && pathOf(arrival) === '/api/admin/api-key';

/**
 * A proxy to `upstream` whose `stuckMint`-th mint never gets an answer: forwarded (so the key is
 * created) when `createStuck`, else never forwarded. `stuck` resolves when it arrives.
 */
async function stallingProxy(upstream: string, options: { stuckMint: number; createStuck: boolean }): Promise<{ fixture: Fixture; stuck: Promise<void> }> {
  let mints = 0;
  let arrived!: () => void;
  const stuck = new Promise<void>((resolve) => (arrived = resolve));
  const fixture = await startFixture(
    proxy(upstream, (arrival, answer) => {
      if (!isMint(arrival)) return 'forward';
      if (answer === undefined) {
        mints += 1;
        if (mints !== options.stuckMint) return 'forward';
        arrived();
        return options.createStuck ? 'forward' : 'hang';
      }
      return mints === options.stuckMint ? 'hang' : 'forward';
    }),
  );
  cleanups.push(() => fixture.close());
  return { fixture, stuck };
}

describe('keys whose mint got no answer', () => {
  it('--max-time mid-mint: the created key is found in the listing, revoked and counted', { timeout: 60_000 }, async () => {
    const backend = createRecordingBackend({ listRevokedKeys: true });
    const upstream = (await backend.listen(0, '127.0.0.1')).baseUrl;
    cleanups.push(() => backend.close());
    const { fixture } = await stallingProxy(upstream, { stuckMint: 2, createStuck: true });
    const { code, report } = await runBackend({ baseUrl: fixture.baseUrl, check: [/^ak\.revocation$/], maxTime: 2, seed: 5, timeout: 30 });
    expect(code).toBe(4);
    const keys = await listKeys(upstream, backend.bootstrap.adminKey);
    const context = JSON.stringify({ keys, cleanup: report.cleanup, diagnostics: report.diagnostics }, null, 1);
    // Every key the run made is on the target with the run's tag, and revoked.
    const tag = /\[ekso-conformance [0-9a-f]{8}\]$/;
    expect(keys.every((k) => tag.test(k.name)), context).toBe(true);
    expect(keys.filter((k) => !k.revokedAt), context).toEqual([]);
    expect(report.cleanup, context).toEqual({ minted: keys.length, revoked: keys.length, leaked: 0 });
    expect(report.diagnostics.join('\n')).toMatch(/1 key\(s\) named by this run were not in the ledger .* found in the listing and counted/);
  });

  it('a mint that got no answer and created nothing (yet) is reported with the tag to look for', { timeout: 60_000 }, async () => {
    const backend = createRecordingBackend({ listRevokedKeys: true });
    const upstream = (await backend.listen(0, '127.0.0.1')).baseUrl;
    cleanups.push(() => backend.close());
    const { fixture } = await stallingProxy(upstream, { stuckMint: 2, createStuck: false });
    const { report } = await runBackend({ baseUrl: fixture.baseUrl, check: [/^ak\.revocation$/], maxTime: 2, seed: 5, timeout: 30 });
    expect(report.diagnostics.join('\n')).toMatch(/1 mint\(s\) got no answer and no key of theirs is listed: .*look for keys named "… \[ekso-conformance [0-9a-f]{8}\]" on the target/);
    expect(report.cleanup.leaked).toBe(0);
  });

  it('Ctrl-C mid-mint (the CLI): the same, and the target agrees', { timeout: 120_000 }, async () => {
    const serve = await startServe(['--list-revoked-keys']);
    cleanups.push(() => serve.stop());
    const { fixture, stuck } = await stallingProxy(serve.baseUrl, { stuckMint: 2, createStuck: true });
    const out = await mkdtemp(join(tmpdir(), 'ekso-inflight-'));
    cleanups.push(() => rm(out, { recursive: true, force: true }));
    const run = spawnCli(['--base-url', fixture.baseUrl, '--check', 'ak.revocation', '--seed', '5', '--out', out, '--reporter', 'json', '--no-color']);
    cleanups.push(async () => void run.child.kill('SIGKILL'));
    await stuck;
    // The stuck mint has reached the target: give the upstream a moment to create the key.
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGINT');
    const result = await run.done;
    expect([1, 4], result.stderr).toContain(result.code);
    const report = await readJsonReport(out);
    const keys = await listKeys(serve.baseUrl, serve.adminKey);
    const context = JSON.stringify({ keys, cleanup: report.cleanup, diagnostics: report.diagnostics }, null, 1);
    expect(keys.filter((k) => !k.revokedAt), context).toEqual([]);
    expect(report.cleanup, context).toEqual({ minted: keys.length, revoked: keys.length, leaked: 0 });
  });
});
