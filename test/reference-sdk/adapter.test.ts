import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdapterRpcError, RPC_ERRORS, type SdkAdapter, type TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { createAdapter } from '../../src/reference/sdk/index.js';
import { FakeEkso, json } from './fake-ekso.js';

let dir: string;
let fake: FakeEkso;
let adapter: SdkAdapter;
let notifications: TokensRefreshedParams[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-adapter-test-'));
  fake = new FakeEkso();
  // The injected clock is the base of the adapter's clock; advanceClock adds to it (§5.5). The
  // fake server's clock moves by the same amounts in advance(), so both share one timeline.
  const base = fake.clock;
  adapter = createAdapter({ fetch: fake.fetch, now: () => base, storeDir: dir });
  notifications = [];
  adapter.onTokensRefreshed((e) => {
    notifications.push(e);
    fake.events.push(`notify ${e.accessToken}`);
  });
  await adapter.initialize({ protocolVersion: 1 });
});
afterEach(async () => {
  await adapter.shutdown({});
  await rm(dir, { recursive: true, force: true });
});

/** Moves both clocks, as the harness does (§5.5). */
async function advance(ms: number): Promise<void> {
  fake.advance(ms);
  await adapter.advanceClock!({ ms });
}

async function refreshableClient(id: string, lifetimeMs = 60_000, environment?: string) {
  const pair = fake.issue(lifetimeMs);
  await adapter.createClient({
    client: id,
    tenant: 'acme',
    baseUrl: 'http://127.0.0.1:1/',
    ...(environment ? { environment } : {}),
    auth: { type: 'refreshable', accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: pair.expiresAt.toISOString(), tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk' },
  });
  return pair;
}

describe('reference adapter (in-process, through SdkAdapter)', () => {
  it('declares every capability, its margin and its store path', async () => {
    const init = await adapter.initialize({ protocolVersion: 1 });
    expect(init).toMatchObject({ protocolVersion: 1, capabilities: { apiKey: true, refreshable: true, clock: true, tokenStore: true, refreshMarginMs: 30_000, storePath: join(dir, 'tokens.json') } });
  });

  it('resolveBaseUrl: tenant default and override', async () => {
    expect(await adapter.resolveBaseUrl({ tenant: 'acme' })).toEqual({ baseUrl: 'https://acme.ekso.app' });
    expect(await adapter.resolveBaseUrl({ tenant: 'acme', baseUrl: 'http://127.0.0.1:9/p/' })).toEqual({ baseUrl: 'http://127.0.0.1:9/p' });
    await expect(adapter.resolveBaseUrl({ tenant: 'a.b/c' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
  });

  it('call with an API key returns the response outcome', async () => {
    fake.apiKeys.set('ek_live_k1k1k1k1k1k1k1k1', 'ok');
    await adapter.createClient({ client: 'c1', tenant: 'acme', baseUrl: 'http://127.0.0.1:1', auth: { type: 'apiKey', key: 'ek_live_k1k1k1k1k1k1k1k1' } });
    expect(await adapter.call({ client: 'c1', method: 'GET', path: '/api/field' })).toEqual({ outcome: 'response', status: 200, body: { via: 'key' } });
    expect(fake.apiRequests[0]!.url).toBe('http://127.0.0.1:1/api/field');
  });

  it('maps SDK exceptions to error outcomes', async () => {
    fake.apiKeys.set('ek_live_k1k1k1k1k1k1k1k1', 'ok');
    await adapter.createClient({ client: 'c1', tenant: 'acme', baseUrl: 'http://127.0.0.1:1', auth: { type: 'apiKey', key: 'ek_live_k1k1k1k1k1k1k1k1' } });
    const answers: Record<string, Response | 'throw'> = {
      '/429': new Response('', { status: 429, headers: { 'retry-after': '3' } }),
      '/400': json(400, { kind: 'Validation', message: 'm', fields: [{ field: 'name', code: 'required' }] }),
      '/500': json(500, { kind: 'Exception', message: 'boom' }),
      '/net': 'throw',
      '/401': new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"' } }),
    };
    fake.apiHandler = (req) => {
      const a = answers[new URL(req.url).pathname];
      if (a === 'throw') throw new TypeError('fetch failed');
      return a;
    };
    const outcome = (path: string) => adapter.call({ client: 'c1', method: 'GET', path });
    expect(await outcome('/429')).toMatchObject({ outcome: 'error', error: { type: 'EksoRateLimitException', statusCode: 429, retryAfterMs: 3000 } });
    expect(await outcome('/400')).toMatchObject({ outcome: 'error', error: { type: 'EksoValidationException', statusCode: 400, fieldErrors: { name: ['required'] } } });
    expect(await outcome('/500')).toMatchObject({ outcome: 'error', error: { type: 'EksoApiException', statusCode: 500 } });
    expect(await outcome('/net')).toMatchObject({ outcome: 'error', error: { type: 'EksoNetworkException' } });
    expect(await outcome('/401')).toMatchObject({ outcome: 'error', error: { type: 'EksoAuthException', reason: 'Revoked', statusCode: 401 } });
  });

  it('advanceClock drives proactive refresh; the notification precedes the call result and the pair is stored', async () => {
    await refreshableClient('c1', 60_000);
    await adapter.call({ client: 'c1', method: 'GET', path: '/api/field' });
    expect(fake.tokenRequests).toHaveLength(0);
    await advance(45_000);
    const pending = adapter.call({ client: 'c1', method: 'GET', path: '/api/field' });
    const outcome = await pending;
    expect(fake.tokenRequests).toHaveLength(1);
    expect(notifications).toHaveLength(1);
    const n = notifications[0]!;
    expect(n.client).toBe('c1');
    expect(outcome).toEqual({ outcome: 'response', status: 200, body: { via: n.accessToken } });
    expect(fake.events.indexOf(`notify ${n.accessToken}`)).toBeLessThan(fake.events.indexOf(`api ${n.accessToken}`));
    expect(new Date(n.expiresAt).getTime()).toBe(fake.accessTokens.get(n.accessToken));
    expect(await adapter.storeLoad!({ tenant: 'acme', clientId: 'ekso-sdk', environment: 'default' })).toEqual({
      tokens: { accessToken: n.accessToken, refreshToken: n.refreshToken, expiresAt: n.expiresAt },
    });
    expect((await stat(join(dir, 'tokens.json'))).mode & 0o777).toBe(0o600);
  });

  it('STORE-02: a client resumed from the store presents the rotated refresh token', async () => {
    const original = await refreshableClient('c1', 1_000, 'staging');
    await advance(5_000);
    await adapter.call({ client: 'c1', method: 'GET', path: '/api/field' });
    const rotated = notifications[0]!;
    await adapter.disposeClient({ client: 'c1' });
    await adapter.createClient({ client: 'c2', tenant: 'acme', baseUrl: 'http://127.0.0.1:1', environment: 'staging', auth: { type: 'stored', tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk' } });
    await advance(400_000);
    expect(await adapter.call({ client: 'c2', method: 'GET', path: '/api/field' })).toMatchObject({ outcome: 'response', status: 200 });
    expect(fake.tokenRequests.map((r) => r.form.get('refresh_token'))).toEqual([original.refreshToken, rotated.refreshToken]);
  });

  it('stored auth without an entry is -32001; unknown clients and bad params are -32602', async () => {
    await expect(
      adapter.createClient({ client: 'c9', tenant: 'acme', environment: 'nope', auth: { type: 'stored', tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk' } }),
    ).rejects.toMatchObject({ code: RPC_ERRORS.noStoredTokens });
    await expect(adapter.call({ client: 'ghost', method: 'GET', path: '/' })).rejects.toBeInstanceOf(AdapterRpcError);
    await expect(adapter.call({ client: 'ghost', method: 'GET', path: '/' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await expect(adapter.createClient({ client: 'x', tenant: 'acme', auth: { type: 'bogus' } } as never)).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await expect(
      adapter.createClient({ client: 'x', tenant: 'acme', auth: { type: 'refreshable', accessToken: 'a', refreshToken: 'r', expiresAt: 'never', tokenEndpoint: fake.tokenEndpoint, clientId: 'c' } }),
    ).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
  });

  it('invalid_grant is an Expired outcome with the token endpoint status', async () => {
    await refreshableClient('c1', 1_000);
    await advance(5_000);
    fake.tokenFailures.push('invalid_grant');
    expect(await adapter.call({ client: 'c1', method: 'GET', path: '/api/field' })).toMatchObject({
      outcome: 'error',
      error: { type: 'EksoAuthException', reason: 'Expired', statusCode: 400 },
    });
  });

  it('storeSave / storeLoad keep keys apart; dispose is final', async () => {
    const t = (n: number) => ({ accessToken: `a${n}`, refreshToken: `r${n}`, expiresAt: new Date(n * 1000).toISOString() });
    await adapter.storeSave!({ tenant: 'acme', clientId: 'ekso-cli', environment: 'prod', tokens: t(1) });
    await adapter.storeSave!({ tenant: 'acme', clientId: 'ekso-cli', environment: 'dev', tokens: t(2) });
    expect(await adapter.storeLoad!({ tenant: 'acme', clientId: 'ekso-cli', environment: 'prod' })).toEqual({ tokens: t(1) });
    expect(await adapter.storeLoad!({ tenant: 'acme', clientId: 'ekso-web', environment: 'prod' })).toEqual({ tokens: null });
    fake.apiKeys.set('ek_live_k1k1k1k1k1k1k1k1', 'ok');
    await adapter.createClient({ client: 'd', tenant: 'acme', baseUrl: 'http://127.0.0.1:1', auth: { type: 'apiKey', key: 'ek_live_k1k1k1k1k1k1k1k1' } });
    await adapter.disposeClient({ client: 'd' });
    await expect(adapter.call({ client: 'd', method: 'GET', path: '/' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await expect(adapter.createClient({ client: 'd', tenant: 'acme', auth: { type: 'apiKey', key: 'k' } })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
  });

  it('without storeDir the store lives in a temp dir that shutdown removes', async () => {
    const a = createAdapter({ fetch: fake.fetch, now: fake.now });
    const { capabilities } = await a.initialize({ protocolVersion: 1 });
    await a.storeSave!({ tenant: 't', clientId: 'c', environment: 'e', tokens: { accessToken: 'a', refreshToken: 'r', expiresAt: 'x' } });
    expect((await stat(capabilities.storePath!)).isFile()).toBe(true);
    await a.shutdown({});
    await expect(stat(capabilities.storePath!)).rejects.toThrow();
  });
});
