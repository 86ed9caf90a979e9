/**
 * examples/dotnet-sdk: the C# SDK written from the seed and its stdio adapter, built with Mono's
 * compiler and run in real time (no clock capability: the SDK takes the platform clock).
 *
 * - The adapter speaks the protocol: capabilities, protocol faults, the token store, one shared
 *   refresh for concurrent calls with the notification first, the documented error types.
 * - The harness, as a user runs it (`node dist/cli.js sdk --adapter "mono …"`), judges a
 *   representative subset conformant: API keys, base URLs, error mapping, the 401 retry, single
 *   flight in real time, the token store. The full run (every check, default runs) is the soak
 *   test test/soak/dotnet-sdk.soak.test.ts.
 *
 * Skipped, with the reason printed, where mcs or mono is missing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RPC_ERRORS, type TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { StdioAdapter } from '../../src/targets/adapters/index.js';
import { startLocalEkso, type LocalEkso } from '../adapters/local-ekso.js';
import { requireBuiltCli, ROOT } from '../support/cli.js';
import { ADAPTER_COMMAND, buildDotnetExample, monoMissing, problems, runHarness, statusOf } from '../support/dotnet-example.js';

const missing = monoMissing();
if (missing) console.warn(`test/examples/dotnet-sdk.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('examples/dotnet-sdk (C# on Mono, over stdio, real time)', () => {
  let ekso: LocalEkso;
  let adapter: StdioAdapter | undefined;

  beforeAll(async () => {
    buildDotnetExample();
    ekso = await startLocalEkso();
  }, 180_000);
  afterAll(async () => {
    await ekso?.close();
  });
  afterEach(async () => {
    // shutdown first: the adapter then removes its temporary token store (a kill would leave it).
    await adapter?.shutdown().catch(() => undefined);
    await adapter?.kill();
    adapter = undefined;
  });

  const start = async () => {
    adapter = await StdioAdapter.start(ADAPTER_COMMAND, { cwd: ROOT });
    return adapter;
  };

  it('declares no clock, a token store with its file, its margin; protocol faults are JSON-RPC errors', async () => {
    const a = await start();
    const init = await a.initialize({ protocolVersion: 1 });
    expect(init).toMatchObject({ name: 'ekso-dotnet-example', protocolVersion: 1, capabilities: { apiKey: true, refreshable: true, clock: false, tokenStore: true } });
    expect(init.capabilities.refreshMarginMs).toBeGreaterThan(0);
    expect(init.capabilities.storePath).toMatch(/tokens\.json$/);
    expect(await a.resolveBaseUrl({ tenant: 'acme' })).toEqual({ baseUrl: 'https://acme.ekso.app' });
    expect(await a.resolveBaseUrl({ tenant: 'acme', baseUrl: `${ekso.baseUrl}/self-host/v1/` })).toEqual({ baseUrl: `${ekso.baseUrl}/self-host/v1` });
    await expect(a.resolveBaseUrl({ tenant: 'evil.com/x?' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await expect(a.advanceClock!({ ms: 1000 })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
    await expect(a.call({ client: 'nobody', method: 'GET', path: '/api/field' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    const stored = { type: 'stored' as const, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-cli' };
    await expect(a.createClient({ client: 's', tenant: 'acme', baseUrl: ekso.baseUrl, auth: stored })).rejects.toMatchObject({ code: RPC_ERRORS.noStoredTokens });
    // The store keys by all three parts: a naive concatenation would confuse these two.
    const tokens = { accessToken: 'at-a', refreshToken: 'rt-a', expiresAt: '2030-01-01T00:00:00.000Z' };
    await a.storeSave!({ tenant: 'a-b', clientId: 'c', environment: 'x', tokens });
    expect(await a.storeLoad!({ tenant: 'a-b', clientId: 'c', environment: 'x' })).toEqual({ tokens });
    expect(await a.storeLoad!({ tenant: 'a', clientId: 'b-c', environment: 'x' })).toEqual({ tokens: null });
    expect(await a.shutdown()).toEqual({});
    expect(a.exitStatus()?.code).toBe(0);
  }, 30_000);

  it('shares one refresh among concurrent calls, notifies first, saves the pair, and maps errors', async () => {
    const a = await start();
    await a.initialize({ protocolVersion: 1 });
    const notes: TokensRefreshedParams[] = [];
    const order: string[] = [];
    a.onTokensRefreshed((e) => {
      notes.push(e);
      order.push('notify');
    });
    // 100 ms left: inside the adapter's margin, so the first calls must refresh before sending.
    const pair = ekso.issue(100);
    await a.createClient({
      client: 'r',
      tenant: 'acme',
      environment: 'staging',
      baseUrl: `${ekso.baseUrl}/`,
      auth: { type: 'refreshable', accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: pair.expiresAt, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' },
    });
    const before = ekso.tokenRequests.length;
    const release = ekso.holdTokens(); // the refresh stays in flight until every call has arrived
    const calls = Array.from({ length: 6 }, () =>
      a.call({ client: 'r', method: 'GET', path: '/api/field' }).then((o) => {
        order.push('result');
        return o;
      }),
    );
    for (let i = 0; i < 50 && ekso.tokenRequests.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    release();
    const outcomes = await Promise.all(calls);
    expect(ekso.tokenRequests.length - before).toBe(1);
    const form = ekso.tokenRequests.at(-1)!;
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'refresh_token', refresh_token: pair.refreshToken, client_id: 'ekso-sdk' });
    expect(notes).toHaveLength(1);
    expect(order[0]).toBe('notify');
    for (const o of outcomes) expect(o).toEqual({ outcome: 'response', status: 200, body: { via: notes[0]!.accessToken, path: '/api/field' } });
    // The rotated pair is in the store under (acme, ekso-sdk, staging), and a client resumes from it.
    const loaded = await a.storeLoad!({ tenant: 'acme', clientId: 'ekso-sdk', environment: 'staging' });
    expect(loaded.tokens).toMatchObject({ accessToken: notes[0]!.accessToken, refreshToken: notes[0]!.refreshToken });
    await a.createClient({ client: 'resumed', tenant: 'acme', environment: 'staging', baseUrl: ekso.baseUrl, auth: { type: 'stored', tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' } });
    expect(await a.call({ client: 'resumed', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'response', status: 200, body: { via: notes[0]!.accessToken } });

    expect(await a.call({ client: 'r', method: 'GET', path: '/api/status/429' })).toMatchObject({ outcome: 'error', error: { type: 'EksoRateLimitException', retryAfterMs: 2000, statusCode: 429 } });
    expect(await a.call({ client: 'r', method: 'POST', path: '/api/status/400', body: { name: '' } })).toMatchObject({
      outcome: 'error',
      error: { type: 'EksoValidationException', statusCode: 400, fieldErrors: { name: ['required'] } },
    });
    expect(await a.call({ client: 'r', method: 'GET', path: '/api/status/503' })).toMatchObject({ outcome: 'error', error: { type: 'EksoApiException', statusCode: 503 } });
  }, 30_000);

  it('a 401 gets one refresh and one retry; a refused refresh is Expired, with the endpoint status, and final', async () => {
    const a = await start();
    await a.initialize({ protocolVersion: 1 });
    const pair = ekso.issue(600_000);
    const auth = { type: 'refreshable' as const, accessToken: 'at-unknown-to-the-server', refreshToken: pair.refreshToken, expiresAt: pair.expiresAt, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' };
    await a.createClient({ client: 'u', tenant: 'acme', baseUrl: ekso.baseUrl, auth });
    const apiBefore = ekso.apiRequests.length;
    expect(await a.call({ client: 'u', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'response', status: 200 });
    expect(ekso.apiRequests.length - apiBefore).toBe(2);
    // The same (now superseded) refresh token again: refused, and the session is over.
    await a.createClient({ client: 'v', tenant: 'acme', baseUrl: ekso.baseUrl, auth });
    const tokenBefore = ekso.tokenRequests.length;
    expect(await a.call({ client: 'v', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Expired', statusCode: 400 } });
    expect(await a.call({ client: 'v', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Expired' } });
    expect(ekso.tokenRequests.length - tokenBefore).toBe(1);
    // An unknown API key: EksoAuthException Invalid, no retry, no token request.
    await a.createClient({ client: 'k', tenant: 'acme', baseUrl: ekso.baseUrl, auth: { type: 'apiKey', key: 'ek_live_not_a_key' } });
    const keyBefore = ekso.apiRequests.length;
    expect(await a.call({ client: 'k', method: 'DELETE', path: '/api/item/1' })).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Invalid', statusCode: 401 } });
    expect(ekso.apiRequests.length - keyBefore).toBe(1);
    expect(ekso.tokenRequests.length - tokenBefore).toBe(1);
  }, 30_000);

  it('is judged conformant by the harness over stdio in real time (a representative subset of the checks)', async () => {
    requireBuiltCli();
    const seed = (Math.random() * 0x7fffffff) | 0;
    console.log(`dotnet example seed: ${seed}`);
    const checks = 'sdk.api-key.*,sdk.base-url,sdk.error-mapping,sdk.unauthorized-retry,sdk.single-flight,store.keying,store.on-disk';
    const run = await runHarness(seed, ['--check', checks, '--num-runs', '2'], 120_000);
    expect(problems(run.report), `seed ${seed}`).toEqual([]);
    expect(run.code, `seed ${seed}: ${run.stderr}`).toBe(0);
    expect(run.report.target.adapter).toContain('stdio adapter');
    for (const id of ['SDK-01', 'SDK-02', 'SDK-06', 'SDK-09', 'SDK-13', 'SDK-14', 'STORE-01', 'STORE-03']) {
      expect(statusOf(run.report, id), `${id} (seed ${seed})`).toBe('passed');
    }
  }, 150_000);
});
