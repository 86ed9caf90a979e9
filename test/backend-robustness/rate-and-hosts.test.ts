/**
 * H-06: the harness honours --rate (and its default of 40/s off loopback), and sends no request
 * to any host but the target's — not even to endpoints the target's own discovery document puts
 * on another origin. Lower bounds on durations only (a rate cap is a lower bound): nothing here
 * depends on the machine being fast.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import { readJsonReport, runCli } from '../support/cli.js';
import { pathOf, proxy, startFixture, unauthorized, type Arrival, type Fixture } from './fixtures/targets.js';

let dir: string;
const fixtures: Fixture[] = [];
let reference: ReferenceBackend;
let upstream: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-h06-'));
  reference = createReferenceBackend({ testHooks: true, deviceIntervalSeconds: 0 });
  upstream = (await reference.listen(0, '127.0.0.1')).baseUrl;
});

afterAll(async () => {
  for (const f of fixtures) await f.close();
  await reference.close();
  await rm(dir, { recursive: true, force: true });
});

async function fixture(...args: Parameters<typeof startFixture>): Promise<Fixture> {
  const f = await startFixture(...args);
  fixtures.push(f);
  return f;
}

/** Milliseconds between the first and the last arrival. */
function span(requests: readonly Arrival[]): number {
  const times = requests.map((r) => r.at).sort((a, b) => a - b);
  return times[times.length - 1]! - times[0]!;
}

describe('--rate', () => {
  it('--rate 5: n requests take at least (n-1)/5 seconds', { timeout: 120_000 }, async () => {
    const target = await fixture(unauthorized);
    const out = join(dir, 'rate-5');
    const result = await runCli(['--base-url', target.baseUrl, '--rate', '5', '--check', 'ERR-01', '--num-runs', '30', '--out', out, '--reporter', 'json', '--no-color']);
    expect([0, 1, 4], result.stderr).toContain(result.code);
    const n = target.requests.length;
    expect(n).toBeGreaterThanOrEqual(30);
    // Starts are spaced 200 ms apart; arrivals may jitter a little either way.
    expect(span(target.requests)).toBeGreaterThanOrEqual((n - 1) * 200 - 400);
    expect((await readJsonReport(out)).options).toMatchObject({ rate: 5 });
  });

  it('off loopback the default is 40 requests per second', { timeout: 120_000 }, async () => {
    const target = await fixture(unauthorized);
    // 0.0.0.0: not a loopback address (so the default cap applies and --insecure is needed for
    // http://), yet Linux connects it to the local host, where the fixture listens.
    const url = `http://0.0.0.0:${new URL(target.baseUrl).port}`;
    const out = join(dir, 'rate-default');
    const result = await runCli(['--base-url', url, '--insecure', '--check', 'ERR-01,ERR-02', '--num-runs', '40', '--out', out, '--reporter', 'json', '--no-color']);
    expect([0, 1, 4], result.stderr).toContain(result.code);
    const n = target.requests.length;
    expect(n).toBeGreaterThanOrEqual(30);
    expect(span(target.requests)).toBeGreaterThanOrEqual((n - 1) * 25 - 400);
  });
});

describe('no request to another host', () => {
  /**
   * The reference behind a proxy whose discovery document advertises endpoints on another origin
   * (127.0.0.2, also loopback, so nothing leaves the machine even if the harness followed them).
   */
  async function advertising(change: (doc: Record<string, unknown>, elsewhere: string) => void): Promise<{ target: Fixture; elsewhere: Fixture }> {
    const elsewhere = await fixture(proxy(upstream), { host: '127.0.0.2' });
    const target = await fixture(
      proxy(upstream, (arrival, answer) => {
        if (!answer || !pathOf(arrival).startsWith('/.well-known/')) return 'forward';
        const doc = JSON.parse(answer.body) as Record<string, unknown>;
        change(doc, elsewhere.baseUrl);
        return { ...answer, body: JSON.stringify(doc) };
      }),
    );
    return { target, elsewhere };
  }

  it('a token and device endpoint advertised on another origin are not followed: inconclusive, with the reason', { timeout: 120_000 }, async () => {
    const { target, elsewhere } = await advertising((doc, other) => {
      doc.token_endpoint = `${other}/token`;
      doc.device_authorization_endpoint = `${other}/device_authorization`;
    });
    const out = join(dir, 'foreign-token');
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'RT-01,RT-03,DF-*,AK-01', '--out', out, '--reporter', 'json', '--no-color']);
    expect(elsewhere.requests).toEqual([]);
    expect(target.requests.length).toBeGreaterThan(0);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/discovery advertises token_endpoint on another origin \(http:\/\/127\.0\.0\.2:\d+\): not followed/);
    const report = await readJsonReport(out);
    expect(report.diagnostics?.join('\n')).toMatch(/token_endpoint on another origin/);
    expect(report.diagnostics?.join('\n')).toMatch(/device_authorization_endpoint on another origin/);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    for (const id of ['rt.rotation.shape', 'df.polling']) {
      expect(byId[id]?.status, id).toBe('inconclusive');
      expect(byId[id]?.message, id).toMatch(/refusing to send a request to http:\/\/127\.0\.0\.2:\d+/);
    }
    // What does not need those endpoints still runs and passes.
    expect(report.checks.filter((c) => c.id.startsWith('ak.') && c.status === 'passed').length).toBeGreaterThan(0);
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(report.cleanup.leaked).toBe(0);
  });

  it('test hooks advertised on another origin are not used (nor contacted)', { timeout: 120_000 }, async () => {
    const { target, elsewhere } = await advertising((doc, other) => {
      doc.ekso_conformance_test_hooks = `${other}/__conformance`;
    });
    const out = join(dir, 'foreign-hooks');
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'AK-01,RT-01', '--out', out, '--reporter', 'json', '--no-color']);
    expect(elsewhere.requests).toEqual([]);
    expect([0, 4], result.stderr).toContain(result.code);
    const report = await readJsonReport(out);
    expect(report.diagnostics?.join('\n')).toMatch(/ekso_conformance_test_hooks on another origin .*not used/);
    // Without hooks (and without keys or a token source) those checks are skipped, naming the option.
    for (const c of report.checks) expect(c.status, c.id).toBe('skipped');
    expect(report.cleanup.minted).toBe(0);
  });

  it('a discovery value that only looks like a path cannot turn into another host', { timeout: 120_000 }, async () => {
    // Glued to a base URL "http://127.0.0.1:PORT", ".evil.example/token" would name another host.
    const { target, elsewhere } = await advertising((doc) => {
      doc.token_endpoint = '.evil.example/token';
    });
    const out = join(dir, 'glued');
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'RT-01', '--out', out, '--reporter', 'json', '--no-color']);
    expect(elsewhere.requests).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/token_endpoint ".evil.example\/token" is neither an absolute URL nor a path: ignored/);
    // The documented default (/token on the target) is used instead.
    expect(target.requests.some((r) => pathOf(r) === '/token')).toBe(true);
  });

  it('redirects to another host are not followed', { timeout: 120_000 }, async () => {
    const elsewhere = await fixture(proxy(upstream), { host: '127.0.0.2' });
    const target = await fixture(
      proxy(upstream, (arrival) =>
        pathOf(arrival).startsWith('/api') || pathOf(arrival) === '/token'
          ? { status: 307, headers: { location: `${elsewhere.baseUrl}${arrival.url}`, 'content-type': 'text/plain' }, body: 'moved' }
          : 'forward',
      ),
    );
    const out = join(dir, 'redirect');
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'AK-01,RT-01,ERR-01', '--num-runs', '2', '--out', out, '--reporter', 'json', '--no-color']);
    expect(elsewhere.requests).toEqual([]);
    expect([1, 4], result.stderr).toContain(result.code);
  });

  it('an endpoint on another origin that the user names in --profile is used (their choice, not the target\'s)', { timeout: 120_000 }, async () => {
    const { target, elsewhere } = await advertising((doc, other) => {
      doc.token_endpoint = `${other}/token`;
    });
    const profile = join(dir, 'profile-other-origin.json');
    await writeFile(profile, JSON.stringify({ tokenEndpoint: `${elsewhere.baseUrl}/token` }));
    const out = join(dir, 'profile-other-origin');
    const result = await runCli(['--base-url', target.baseUrl, '--profile', profile, '--check', 'RT-01', '--out', out, '--reporter', 'json', '--no-color']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/another origin/);
    expect(elsewhere.requests.length).toBeGreaterThan(0);
    expect(elsewhere.requests.every((r) => pathOf(r) === '/token')).toBe(true);
  });
});
