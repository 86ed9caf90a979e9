import { afterEach, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../src/reference/backend/index.js';
import { decodeJwtPayload, form, get, json, pkcePair, request, start, type Started } from './helpers.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let s: Started | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function deviceStart(baseUrl: string, clientId = 'ekso-cli'): Promise<any> {
  const reply = await form(baseUrl, '/device_authorization', { client_id: clientId });
  expect(reply.status).toBe(200);
  return reply.json;
}

function poll(baseUrl: string, deviceCode: string, clientId = 'ekso-cli') {
  return form(baseUrl, '/token', { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId });
}

function approve(baseUrl: string, userCode: string, decision: 'approve' | 'deny', user = 'admin') {
  return json(baseUrl, 'POST', '/__conformance/device/approve', { user_code: userCode, decision, user });
}

describe('reference backend: discovery', () => {
  it('DF-01: discovery advertises absolute endpoints, S256 and the hooks', async () => {
    s = await start();
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const reply = await get(s.baseUrl, path);
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({
        issuer: s.baseUrl,
        authorization_endpoint: `${s.baseUrl}/authorize`,
        token_endpoint: `${s.baseUrl}/token`,
        device_authorization_endpoint: `${s.baseUrl}/device_authorization`,
        registration_endpoint: `${s.baseUrl}/register`,
        code_challenge_methods_supported: ['S256'],
        response_types_supported: ['code'],
        ekso_conformance_test_hooks: '/__conformance',
      });
      expect(reply.json.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', DEVICE_GRANT]));
    }
    // Built from the Host the client used.
    const viaHost = await get(s.baseUrl, '/.well-known/oauth-authorization-server', undefined, { Host: 'ekso.localhost:7070' });
    expect(viaHost.json.token_endpoint).toBe('http://ekso.localhost:7070/token');
  });

  it('hooks are absent (404, not advertised) unless enabled', async () => {
    const backend = createReferenceBackend();
    const { baseUrl } = await backend.listen(0);
    try {
      expect((await get(baseUrl, '/.well-known/oauth-authorization-server')).json.ekso_conformance_test_hooks).toBeUndefined();
      for (const path of ['/__conformance/token', '/__conformance/clock', '/__conformance/device/approve', '/__conformance/api-key']) {
        expect((await json(baseUrl, 'POST', path, { marker: 'Web', user: 'admin', advanceMs: 0 })).status).toBe(404);
      }
      // Without hooks nobody can sign in at /authorize.
      const { challenge } = pkcePair();
      const q = new URLSearchParams({ response_type: 'code', client_id: 'ekso-web', redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: challenge, code_challenge_method: 'S256', state: 's1', login_hint: 'admin' });
      const reply = await get(baseUrl, `/authorize?${q}`);
      expect(reply.status).toBe(302);
      const location = new URL(reply.headers.location!);
      expect(location.searchParams.get('error')).toBe('login_required');
      expect(location.searchParams.get('state')).toBe('s1');
    } finally {
      await backend.close();
    }
  });
});

describe('reference backend: device flow', () => {
  it('DF-01: the device authorization response has every RFC 8628 §3.2 field', async () => {
    s = await start({ deviceCodeTtlSeconds: 120, deviceIntervalSeconds: 2 });
    const reply = await form(s.baseUrl, '/device_authorization', { client_id: 'ekso-cli' });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.json).toEqual({
      device_code: expect.stringMatching(/^ekso_dc_/),
      user_code: expect.stringMatching(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/),
      verification_uri: `${s.baseUrl}/auth/device`,
      verification_uri_complete: `${s.baseUrl}/auth/device?user_code=${reply.json.user_code}`,
      expires_in: 120,
      interval: 2,
    });
    const page = await get(s.baseUrl, `/auth/device?user_code=${encodeURIComponent('<script>')}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).not.toContain('<script>');
  });

  it('DF-01: device authorization needs a known client', async () => {
    s = await start();
    expect((await form(s.baseUrl, '/device_authorization', {})).json.error).toBe('invalid_request');
    const unknown = await form(s.baseUrl, '/device_authorization', { client_id: 'nope' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('invalid_client');
  });

  it('DF-02: pending before approval, one pair after, never a second time', async () => {
    s = await start();
    const started = await deviceStart(s.baseUrl);
    const pending = await poll(s.baseUrl, started.device_code);
    expect(pending.status).toBe(400);
    expect(pending.json.error).toBe('authorization_pending');
    // User codes are case-insensitive and ignore the dash (RFC 8628 §6.1).
    const approved = await approve(s.baseUrl, started.user_code.replace('-', '').toLowerCase(), 'approve');
    expect(approved.status).toBe(200);
    const tokens = await poll(s.baseUrl, started.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.headers['cache-control']).toBe('no-store');
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(decodeJwtPayload(tokens.json.access_token)).toMatchObject({ EksoClient: 'Cli', sub: 'admin', client_id: 'ekso-cli' });
    const again = await poll(s.baseUrl, started.device_code);
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('invalid_grant');
    // Approving twice is refused too.
    expect((await approve(s.baseUrl, started.user_code, 'approve')).status).toBe(422);
  });

  it('DF-02: concurrent polls after approval redeem the device code exactly once', async () => {
    s = await start();
    const started = await deviceStart(s.baseUrl);
    await approve(s.baseUrl, started.user_code, 'approve');
    const base = s.baseUrl;
    const replies = await Promise.all(Array.from({ length: 8 }, () => poll(base, started.device_code)));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('DF-02: a device code is bound to its client', async () => {
    s = await start();
    const started = await deviceStart(s.baseUrl, 'ekso-cli');
    await approve(s.baseUrl, started.user_code, 'approve', 'user');
    expect((await poll(s.baseUrl, started.device_code, 'ekso-web')).json.error).toBe('invalid_grant');
    const ok = await poll(s.baseUrl, started.device_code, 'ekso-cli');
    expect(ok.status).toBe(200);
    expect(decodeJwtPayload(ok.json.access_token).sub).toBe('user');
  });

  it('DF-03: a denied request gets access_denied', async () => {
    s = await start();
    const started = await deviceStart(s.baseUrl);
    expect((await approve(s.baseUrl, started.user_code, 'deny')).json).toEqual({ status: 'denied' });
    for (let i = 0; i < 2; i++) {
      const reply = await poll(s.baseUrl, started.device_code);
      expect(reply.status).toBe(400);
      expect(reply.json.error).toBe('access_denied');
    }
  });

  it('DF-03: an expired device code gets expired_token (also when approved too late)', async () => {
    s = await start({ deviceCodeTtlSeconds: 60 });
    const started = await deviceStart(s.baseUrl);
    const late = await deviceStart(s.baseUrl);
    await approve(s.baseUrl, late.user_code, 'approve');
    s.clock.advance(60_000);
    expect((await poll(s.baseUrl, started.device_code)).json.error).toBe('expired_token');
    expect((await poll(s.baseUrl, late.device_code)).json.error).toBe('expired_token');
    expect((await approve(s.baseUrl, started.user_code, 'approve')).status).toBe(422);
  });

  it('DF-02: unknown or garbage device codes are invalid_grant / invalid_request, never 5xx', async () => {
    s = await start();
    for (const code of ['nope', 'ekso_dc_' + 'A'.repeat(43), '☃', 'x'.repeat(50_000)]) {
      const reply = await poll(s.baseUrl, code);
      expect(reply.status).toBe(400);
      expect(reply.json.error).toBe('invalid_grant');
    }
    expect((await form(s.baseUrl, '/token', { grant_type: DEVICE_GRANT, client_id: 'ekso-cli' })).json.error).toBe('invalid_request');
    const unknownUserCode = await approve(s.baseUrl, 'ZZZZ-ZZZZ', 'approve');
    expect(unknownUserCode.status).toBe(422);
    expect(unknownUserCode.json.kind).toBe('Logic');
  });
});

describe('reference backend: authorization code + PKCE (Web)', () => {
  async function authorize(baseUrl: string, params: Record<string, string>) {
    const reply = await get(baseUrl, `/authorize?${new URLSearchParams(params)}`);
    return { reply, location: reply.headers.location ? new URL(reply.headers.location) : null };
  }

  const redirectUri = 'http://127.0.0.1:9/callback';

  it('CM-03: an S256 code flow issues a Web family (no EksoClient claim); the code is single-use', async () => {
    s = await start();
    const { verifier, challenge } = pkcePair();
    const { reply, location } = await authorize(s.baseUrl, {
      response_type: 'code', client_id: 'ekso-web', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', login_hint: 'admin',
    });
    expect(reply.status).toBe(302);
    expect(location!.origin + location!.pathname).toBe(redirectUri);
    expect(location!.searchParams.get('state')).toBe('xyz');
    const code = location!.searchParams.get('code')!;
    const exchange = { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'ekso-web', redirect_uri: redirectUri };
    const tokens = await form(s.baseUrl, '/token', exchange);
    expect(tokens.status).toBe(200);
    const claims = decodeJwtPayload(tokens.json.access_token);
    expect(claims.EksoClient).toBeUndefined();
    expect(claims.client_id).toBe('ekso-web');
    // Second use: refused, and the family issued from the code is revoked (RFC 6749 §4.1.2).
    const again = await form(s.baseUrl, '/token', exchange);
    expect(again.json.error).toBe('invalid_grant');
    expect((await get(s.baseUrl, '/api/field', tokens.json.access_token)).status).toBe(401);
  });

  it('plain or missing PKCE is invalid_request; a wrong verifier is invalid_grant', async () => {
    s = await start();
    const { verifier, challenge } = pkcePair();
    const base = { response_type: 'code', client_id: 'ekso-web', redirect_uri: redirectUri, state: 's', login_hint: 'admin' };
    const extras: Array<Record<string, string>> = [{}, { code_challenge: challenge }, { code_challenge: challenge, code_challenge_method: 'plain' }, { code_challenge_method: 'S256' }, { code_challenge: 'short', code_challenge_method: 'S256' }];
    for (const extra of extras) {
      const { reply, location } = await authorize(s.baseUrl, { ...base, ...extra });
      expect(reply.status).toBe(302);
      expect(location!.searchParams.get('error')).toBe('invalid_request');
      expect(location!.searchParams.get('code')).toBeNull();
    }
    const { location } = await authorize(s.baseUrl, { ...base, code_challenge: challenge, code_challenge_method: 'S256' });
    const code = location!.searchParams.get('code')!;
    const wrong = await form(s.baseUrl, '/token', { grant_type: 'authorization_code', code, code_verifier: pkcePair().verifier, client_id: 'ekso-web', redirect_uri: redirectUri });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toBe('invalid_grant');
    // The wrong verifier burnt the code.
    const right = await form(s.baseUrl, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'ekso-web', redirect_uri: redirectUri });
    expect(right.json.error).toBe('invalid_grant');
    const noVerifier = await form(s.baseUrl, '/token', { grant_type: 'authorization_code', code, client_id: 'ekso-web', redirect_uri: redirectUri });
    expect(noVerifier.json.error).toBe('invalid_request');
  });

  it('codes are short-lived and bound to client and redirect_uri', async () => {
    s = await start();
    const { verifier, challenge } = pkcePair();
    const params = { response_type: 'code', client_id: 'ekso-web', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'user' };
    const code = (await authorize(s.baseUrl, params)).location!.searchParams.get('code')!;
    const exchange = { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: 'ekso-web', redirect_uri: redirectUri };
    expect((await form(s.baseUrl, '/token', { ...exchange, client_id: 'ekso-cli' })).json.error).toBe('invalid_grant');
    expect((await form(s.baseUrl, '/token', { ...exchange, redirect_uri: 'http://127.0.0.1:9/other' })).json.error).toBe('invalid_grant');
    const ok = await form(s.baseUrl, '/token', exchange);
    expect(ok.status).toBe(200);
    expect(decodeJwtPayload(ok.json.access_token).sub).toBe('user');

    const late = (await authorize(s.baseUrl, params)).location!.searchParams.get('code')!;
    s.clock.advance(60_000);
    expect((await form(s.baseUrl, '/token', { ...exchange, code: late })).json.error).toBe('invalid_grant');
  });

  it('bad client or redirect_uri is answered without redirecting', async () => {
    s = await start();
    const { challenge } = pkcePair();
    const base = { response_type: 'code', client_id: 'ekso-web', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'admin' };
    const unknownClient = await authorize(s.baseUrl, { ...base, client_id: 'evil' });
    expect(unknownClient.reply.status).toBe(401);
    expect(unknownClient.location).toBeNull();
    for (const uri of ['javascript:alert(1)', 'not a url', 'http://127.0.0.1/cb#frag']) {
      const bad = await authorize(s.baseUrl, { ...base, redirect_uri: uri });
      expect(bad.reply.status).toBe(400);
      expect(bad.location).toBeNull();
    }
    const wrongType = await authorize(s.baseUrl, { ...base, response_type: 'token' });
    expect(wrongType.location!.searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('dynamic registration (RFC 7591) yields a public client with exact redirect URIs', async () => {
    s = await start();
    const reg = await json(s.baseUrl, 'POST', '/register', { client_name: 'MCP tool', redirect_uris: ['http://127.0.0.1:9/mcp'] });
    expect(reg.status).toBe(201);
    const clientId = reg.json.client_id as string;
    const { verifier, challenge } = pkcePair();
    const params = { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', login_hint: 'admin' };
    expect((await authorize(s.baseUrl, params)).reply.status).toBe(400);
    const code = (await authorize(s.baseUrl, { ...params, redirect_uri: 'http://127.0.0.1:9/mcp' })).location!.searchParams.get('code')!;
    const tokens = await form(s.baseUrl, '/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: 'http://127.0.0.1:9/mcp' });
    expect(tokens.status).toBe(200);
    expect((await json(s.baseUrl, 'POST', '/register', { redirect_uris: [] })).json.error).toBe('invalid_redirect_uri');
    expect((await request(s.baseUrl, '/register', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' })).status).toBe(400);
  });
});
