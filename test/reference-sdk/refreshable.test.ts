import { describe, expect, it } from 'vitest';
import {
  EksoApiException,
  EksoAuthException,
  EksoClient,
  EksoNetworkException,
  EksoRateLimitException,
  RefreshableBearerAuth,
  type RefreshableBearerAuthOptions,
  type TokensRefreshedEvent,
} from '../../src/reference/sdk/index.js';
import { FakeEkso, json, settle } from './fake-ekso.js';

function setup(opts: { lifetimeMs?: number; auth?: Partial<RefreshableBearerAuthOptions>; timeoutMs?: number } = {}) {
  const fake = new FakeEkso();
  const pair = fake.issue(opts.lifetimeMs ?? 300_000);
  const auth = new RefreshableBearerAuth({
    ...pair,
    tokenEndpoint: fake.tokenEndpoint,
    clientId: 'ekso-sdk',
    fetch: fake.fetch,
    now: fake.now,
    ...opts.auth,
  });
  const events: TokensRefreshedEvent[] = [];
  auth.onTokensRefreshed((e) => {
    events.push(e);
    fake.events.push(`event ${e.accessToken}`);
  });
  const client = new EksoClient({ tenant: 'acme', auth, fetch: fake.fetch, now: fake.now, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
  return { fake, pair, auth, client, events };
}

describe('RefreshableBearerAuth: sending (SDK-03) and proactive refresh (SDK-04, SDK-05)', () => {
  it('sends its current access token as a bearer token on every request', async () => {
    const { fake, pair, client } = setup();
    for (let i = 0; i < 3; i++) await client.request('GET', '/api/field');
    expect(fake.apiRequests.map((r) => r.authorization)).toEqual(Array(3).fill(`Bearer ${pair.accessToken}`));
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('refreshes first when less than the margin remains, and not before', async () => {
    const { fake, client, events } = setup({ lifetimeMs: 60_000 });
    fake.advance(29_000); // 31 s left: outside the 30 s margin
    await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(0);
    fake.advance(2_000); // 29 s left: inside it
    const res = await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(1);
    expect(res.body).toEqual({ via: events[0]!.accessToken });
  });

  it('refreshes first when the token has expired (never sends it)', async () => {
    const { fake, pair, client } = setup({ lifetimeMs: 60_000 });
    fake.advance(120_000);
    await client.request('GET', '/api/field');
    expect(fake.apiRequests.every((r) => r.authorization !== `Bearer ${pair.accessToken}`)).toBe(true);
    expect(fake.events[0]).toBe('token');
  });

  it('honours a custom refreshMarginMs', async () => {
    const { fake, client } = setup({ lifetimeMs: 60_000, auth: { refreshMarginMs: 5_000 } });
    fake.advance(50_000);
    await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(0);
    fake.advance(6_000);
    await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('refreshes at most once per access-token lifetime while calls succeed', async () => {
    const { fake, client } = setup({ lifetimeMs: 60_000 });
    fake.advance(45_000);
    for (let i = 0; i < 20; i++) {
      await client.request('GET', '/api/field');
      fake.advance(1_000);
    }
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('does not refresh on every call when the server issues tokens shorter than the margin', async () => {
    const { fake, client } = setup({ lifetimeMs: 10_000 });
    fake.expiresInS = 20; // shorter than the 30 s margin
    await client.request('GET', '/api/field'); // initial token inside the margin: refresh
    for (let i = 0; i < 5; i++) await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(1);
    fake.advance(11_000); // past half of the 20 s lifetime
    await client.request('GET', '/api/field');
    expect(fake.tokenRequests).toHaveLength(2);
  });
});

describe('single flight (SDK-06) and rotation (SDK-07, SDK-08)', () => {
  it('8 concurrent calls needing a refresh share exactly one token request and all use the new token', async () => {
    const { fake, client, events } = setup({ lifetimeMs: 10_000 });
    fake.advance(20_000);
    const release = fake.holdTokens();
    const calls = Array.from({ length: 8 }, () => client.request('GET', '/api/field'));
    await settle();
    expect(fake.tokenRequests).toHaveLength(1);
    release();
    const results = await Promise.all(calls);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(events).toHaveLength(1);
    const fresh = events[0]!.accessToken;
    expect(results.map((r) => r.body)).toEqual(Array(8).fill({ via: fresh }));
    expect(fake.apiRequests.map((r) => r.authorization)).toEqual(Array(8).fill(`Bearer ${fresh}`));
  });

  it('8 concurrent calls that all get 401 share one refresh and each retries once', async () => {
    const { fake, pair, client, events } = setup();
    fake.revokedAccess.add(pair.accessToken); // server-side rejection the SDK cannot foresee
    const calls = Array.from({ length: 8 }, () => client.request('GET', '/api/field'));
    const results = await Promise.all(calls);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(fake.apiRequests).toHaveLength(16);
  });

  it('never presents a superseded refresh token: each refresh uses the latest one', async () => {
    const { fake, pair, client, events } = setup({ lifetimeMs: 1_000 });
    for (let i = 0; i < 4; i++) {
      fake.advance(400_000);
      await client.request('GET', '/api/field');
    }
    const presented = fake.tokenRequests.map((r) => r.form.get('refresh_token'));
    expect(presented).toEqual([pair.refreshToken, ...events.slice(0, 3).map((e) => e.refreshToken)]);
    expect(new Set(presented).size).toBe(presented.length);
  });

  it('fires TokensRefreshed exactly once per rotation with the new pair and expiry', async () => {
    const { fake, auth, client, events } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    await client.request('GET', '/api/field');
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(fake.liveRefresh.has(e.refreshToken)).toBe(true);
    expect(fake.accessTokens.get(e.accessToken)).toBe(e.expiresAt.getTime());
    expect(auth.currentTokens()).toEqual(e);
  });

  it('fires the event before any call uses the new access token, even with a slow listener', async () => {
    const { fake, auth, client } = setup({ lifetimeMs: 1_000 });
    auth.onTokensRefreshed(async (e) => {
      await new Promise((r) => setTimeout(r, 20));
      fake.events.push(`persisted ${e.accessToken}`);
    });
    fake.advance(5_000);
    await Promise.all(Array.from({ length: 4 }, () => client.request('GET', '/api/field')));
    const fresh = auth.currentTokens().accessToken;
    const firstUse = fake.events.indexOf(`api ${fresh}`);
    expect(fake.events.indexOf(`event ${fresh}`)).toBeLessThan(firstUse);
    expect(fake.events.indexOf(`persisted ${fresh}`)).toBeLessThan(firstUse);
  });

  it('a throwing listener does not undo the rotation', async () => {
    const errors: unknown[] = [];
    const { fake, auth, client, events } = setup({ lifetimeMs: 1_000, auth: { onListenerError: (e) => errors.push(e) } });
    auth.onTokensRefreshed(() => {
      throw new Error('disk full');
    });
    fake.advance(5_000);
    const res = await client.request('GET', '/api/field');
    expect(res.status).toBe(200);
    expect(errors).toHaveLength(1);
    expect(events).toHaveLength(1);
  });
});

describe('401 handling (SDK-09)', () => {
  it('a 401 leads to one refresh and one retry that succeeds', async () => {
    const { fake, pair, client, events } = setup();
    fake.revokedAccess.add(pair.accessToken);
    const res = await client.request('GET', '/api/field');
    expect(res.status).toBe(200);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests.map((r) => r.authorization)).toEqual([`Bearer ${pair.accessToken}`, `Bearer ${events[0]!.accessToken}`]);
  });

  it('a second 401 surfaces EksoAuthException without looping', async () => {
    const { fake, client } = setup();
    fake.apiHandler = () => new Response('{}', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"' } });
    const error = await client.request('GET', '/api/field').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EksoAuthException);
    expect((error as EksoAuthException).reason).toBe('Revoked');
    expect((error as EksoAuthException).statusCode).toBe(401);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(2);
  });

  it('a bare second 401 gets reason Invalid; "expired" gets Expired', async () => {
    for (const [challenge, reason] of [
      ['Bearer', 'Invalid'],
      ['Bearer error="invalid_token", error_description="expired"', 'Expired'],
    ] as const) {
      const { fake, client } = setup();
      fake.apiHandler = () => new Response('', { status: 401, headers: { 'www-authenticate': challenge } });
      const error = await client.request('GET', '/x').catch((e: unknown) => e);
      expect((error as EksoAuthException).reason).toBe(reason);
    }
  });

  it('uses a token rotated while the failed request was in flight instead of refreshing again', async () => {
    const { fake, pair, auth, client } = setup({ lifetimeMs: 60_000 });
    // The first request is answered 401 only after another caller has rotated the token.
    let first = true;
    fake.apiHandler = async (req) => {
      if (first && req.authorization === `Bearer ${pair.accessToken}`) {
        first = false;
        fake.advance(40_000); // now inside the margin: the next call refreshes proactively
        await client.request('GET', '/api/other');
        return new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' } });
      }
      return undefined;
    };
    const res = await client.request('GET', '/api/field');
    expect(res.status).toBe(200);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests.at(-1)!.authorization).toBe(`Bearer ${auth.currentTokens().accessToken}`);
  });

  it('joins a refresh already in flight', async () => {
    const { fake, pair, client } = setup({ lifetimeMs: 60_000 });
    fake.revokedAccess.add(pair.accessToken);
    const release = fake.holdTokens();
    const a = client.request('GET', '/api/a'); // 401 → refresh (held)
    await settle();
    const b = client.request('GET', '/api/b'); // waits for the in-flight refresh
    await settle();
    release();
    await Promise.all([a, b]);
    expect(fake.tokenRequests).toHaveLength(1);
  });
});

describe('refusal (SDK-10) and transient failures (SDK-11)', () => {
  it('invalid_grant fails every waiting call with EksoAuthException Expired and kills the session', async () => {
    const { fake, client, auth } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    fake.tokenFailures.push('invalid_grant');
    const release = fake.holdTokens();
    const calls = Array.from({ length: 8 }, () => client.request('GET', '/api/field').catch((e: unknown) => e));
    await settle();
    release();
    const errors = await Promise.all(calls);
    for (const e of errors) {
      expect(e).toBeInstanceOf(EksoAuthException);
      expect((e as EksoAuthException).reason).toBe('Expired');
      expect((e as EksoAuthException).statusCode).toBe(400);
    }
    expect(auth.isSessionDead).toBe(true);
    const later = await client.request('GET', '/api/field').catch((e: unknown) => e);
    expect((later as EksoAuthException).reason).toBe('Expired');
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('a refused refresh after a 401 is Expired too, and no further refresh follows', async () => {
    const { fake, pair, client } = setup();
    fake.revokedAccess.add(pair.accessToken);
    fake.tokenFailures.push('invalid_client_401');
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect((e as EksoAuthException).reason).toBe('Expired');
    expect((e as EksoAuthException).statusCode).toBe(401);
    await client.request('GET', '/api/field').catch(() => undefined);
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('a 5xx keeps the session: the call fails with EksoApiException, a later call refreshes with the same token', async () => {
    const { fake, pair, client } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    fake.tokenFailures.push(503);
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoApiException);
    expect((e as EksoApiException).statusCode).toBe(503);
    const res = await client.request('GET', '/api/field');
    expect(res.status).toBe(200);
    expect(fake.tokenRequests.map((r) => r.form.get('refresh_token'))).toEqual([pair.refreshToken, pair.refreshToken]);
  });

  it('a connection reset keeps the session: EksoNetworkException, then success', async () => {
    const { fake, pair, client } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    fake.tokenFailures.push('reset');
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoNetworkException);
    expect((await client.request('GET', '/api/field')).status).toBe(200);
    expect(fake.tokenRequests.map((r) => r.form.get('refresh_token'))).toEqual([pair.refreshToken, pair.refreshToken]);
  });

  it('a token-endpoint timeout keeps the session', async () => {
    const { fake, client } = setup({ lifetimeMs: 1_000, auth: { timeoutMs: 50 } });
    fake.advance(5_000);
    fake.tokenFailures.push('hang');
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoNetworkException);
    expect((e as Error).message).toMatch(/timed out/);
    expect((await client.request('GET', '/api/field')).status).toBe(200);
  });

  it('a 429 from the token endpoint is a transient EksoRateLimitException', async () => {
    const { fake, client } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    fake.tokenFailures.push(429);
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoRateLimitException);
    expect((e as EksoRateLimitException).retryAfterMs).toBe(7000);
    expect((await client.request('GET', '/api/field')).status).toBe(200);
  });

  it('a 400 without an OAuth error body is not a refusal', async () => {
    const { fake, client, auth } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    fake.tokenFailures.push('no_oauth_400');
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoApiException);
    expect(auth.isSessionDead).toBe(false);
  });
});

describe('the refresh request (SDK-12)', () => {
  it('is a form POST with grant_type, refresh_token and client_id to the configured endpoint', async () => {
    const { fake, pair, client } = setup({ lifetimeMs: 1_000 });
    fake.advance(5_000);
    await client.request('GET', '/api/field');
    const req = fake.tokenRequests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(fake.tokenEndpoint);
    expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(req.form)).toEqual({ grant_type: 'refresh_token', refresh_token: pair.refreshToken, client_id: 'ekso-sdk' });
    expect(req.headers.get('authorization')).toBeNull();
  });

  it('adds scope and HTTP Basic for a confidential client', async () => {
    const { fake, client } = setup({ lifetimeMs: 1_000, auth: { clientSecret: 's3cr:t', scope: 'api offline' } });
    fake.advance(5_000);
    await client.request('GET', '/api/field');
    const req = fake.tokenRequests[0]!;
    expect(req.form.get('scope')).toBe('api offline');
    expect(req.headers.get('authorization')).toBe(`Basic ${Buffer.from('ekso-sdk:s3cr%3At').toString('base64')}`);
  });

  it('accepts expiresAt as Date, ISO string or epoch ms', () => {
    const fake = new FakeEkso();
    for (const expiresAt of [new Date(fake.clock), new Date(fake.clock).toISOString(), fake.clock]) {
      const auth = new RefreshableBearerAuth({ accessToken: 'a', refreshToken: 'r', tokenEndpoint: fake.tokenEndpoint, clientId: 'c', expiresAt });
      expect(auth.currentTokens().expiresAt.getTime()).toBe(fake.clock);
    }
    expect(() => new RefreshableBearerAuth({ accessToken: 'a', refreshToken: 'r', tokenEndpoint: fake.tokenEndpoint, clientId: 'c', expiresAt: 'soon' })).toThrow(TypeError);
  });

  it('keeps the presented refresh token when the server does not rotate', async () => {
    const { fake, pair, client, events } = setup({ lifetimeMs: 1_000 });
    fake.apiHandler = undefined;
    const originalFetch = fake.fetch;
    const noRotate: typeof fetch = async (input, init) => {
      if (String(input) === fake.tokenEndpoint) return json(200, { access_token: 'at-norotate', token_type: 'Bearer', expires_in: 300 });
      return originalFetch(input, init);
    };
    const auth = new RefreshableBearerAuth({ ...pair, tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk', fetch: noRotate, now: fake.now });
    fake.advance(5_000);
    await auth.getCredential();
    expect(auth.currentTokens().refreshToken).toBe(pair.refreshToken);
    expect(client).toBeDefined();
    expect(events).toHaveLength(0);
  });
});
