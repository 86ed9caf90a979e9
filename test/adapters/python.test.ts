/** The Python example adapter, driven through StdioAdapter against a local HTTP Ekso on 127.0.0.1. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RPC_ERRORS, type TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { StdioAdapter } from '../../src/targets/adapters/index.js';
import { startLocalEkso, type LocalEkso } from './local-ekso.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const hasPython = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!hasPython)('examples/python-sdk/adapter.py', () => {
  let ekso: LocalEkso;
  let adapter: StdioAdapter | undefined;
  beforeAll(async () => {
    ekso = await startLocalEkso();
  });
  afterAll(async () => {
    await ekso.close();
  });
  afterEach(async () => {
    await adapter?.kill();
    adapter = undefined;
  });

  const start = async () => {
    // -B: no __pycache__ in the examples folder.
    adapter = await StdioAdapter.start(`python3 -B ${join(ROOT, 'examples/python-sdk/adapter.py')}`, { cwd: ROOT });
    return adapter;
  };

  it('answers initialize and a call with an API key', async () => {
    const a = await start();
    const init = await a.initialize({ protocolVersion: 1 });
    expect(init).toMatchObject({ protocolVersion: 1, capabilities: { apiKey: true, refreshable: true, clock: true, tokenStore: false } });
    ekso.apiKeys.add('ek_live_python_key_0000000000');
    await a.createClient({ client: 'k', tenant: 'acme', baseUrl: ekso.baseUrl, auth: { type: 'apiKey', key: 'ek_live_python_key_0000000000' } });
    expect(await a.call({ client: 'k', method: 'GET', path: '/api/field' })).toEqual({ outcome: 'response', status: 200, body: { via: 'key', path: '/api/field' } });
    expect(await a.resolveBaseUrl({ tenant: 'acme' })).toEqual({ baseUrl: 'https://acme.ekso.app' });
    await expect(a.storeLoad({ tenant: 't', clientId: 'c', environment: 'e' })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
    expect(await a.shutdown()).toEqual({});
    expect(a.exitStatus()?.code).toBe(0);
  });

  it('refreshes once for concurrent calls, notifies first, and maps errors', async () => {
    const a = await start();
    await a.initialize({ protocolVersion: 1 });
    const notes: TokensRefreshedParams[] = [];
    const order: string[] = [];
    a.onTokensRefreshed((e) => {
      notes.push(e);
      order.push('notify');
    });
    const pair = ekso.issue(60_000);
    await a.createClient({
      client: 'r',
      tenant: 'acme',
      baseUrl: `${ekso.baseUrl}/`,
      auth: { type: 'refreshable', accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: pair.expiresAt, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' },
    });
    await a.advanceClock({ ms: 45_000 }); // inside the 30 s margin on the adapter's clock
    const before = ekso.tokenRequests.length;
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        a.call({ client: 'r', method: 'GET', path: '/api/field' }).then((o) => {
          order.push('result');
          return o;
        }),
      ),
    );
    expect(ekso.tokenRequests.length - before).toBe(1);
    expect(ekso.tokenRequests.at(-1)!.get('refresh_token')).toBe(pair.refreshToken);
    expect(notes).toHaveLength(1);
    expect(order[0]).toBe('notify');
    for (const o of outcomes) expect(o).toMatchObject({ outcome: 'response', status: 200, body: { via: notes[0]!.accessToken } });

    expect(await a.call({ client: 'r', method: 'GET', path: '/api/status/429' })).toMatchObject({ outcome: 'error', error: { type: 'EksoRateLimitException', retryAfterMs: 2000 } });
    expect(await a.call({ client: 'r', method: 'POST', path: '/api/status/400', body: {} })).toMatchObject({
      outcome: 'error',
      error: { type: 'EksoValidationException', statusCode: 400, fieldErrors: { name: ['required'] } },
    });
    expect(await a.call({ client: 'r', method: 'GET', path: '/api/status/500' })).toMatchObject({ outcome: 'error', error: { type: 'EksoApiException', statusCode: 500 } });
  });

  it('a 401 gets one refresh and one retry; a refused refresh is Expired with the endpoint status', async () => {
    const a = await start();
    await a.initialize({ protocolVersion: 1 });
    const pair = ekso.issue(600_000);
    const auth = { type: 'refreshable' as const, accessToken: 'at-unknown-to-the-server', refreshToken: pair.refreshToken, expiresAt: pair.expiresAt, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' };
    await a.createClient({ client: 'u', tenant: 'acme', baseUrl: ekso.baseUrl, auth });
    const before = ekso.apiRequests.length;
    expect(await a.call({ client: 'u', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'response', status: 200 });
    expect(ekso.apiRequests.length - before).toBe(2);
    // The same (now superseded) refresh token again: refused, and the session is over.
    await a.createClient({ client: 'v', tenant: 'acme', baseUrl: ekso.baseUrl, auth });
    const tokenCalls = ekso.tokenRequests.length;
    expect(await a.call({ client: 'v', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Expired', statusCode: 400 } });
    expect(await a.call({ client: 'v', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Expired' } });
    expect(ekso.tokenRequests.length - tokenCalls).toBe(1);
  });
});
