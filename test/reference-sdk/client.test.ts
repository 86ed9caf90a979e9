import { describe, expect, it } from 'vitest';
import {
  ApiKeyAuth,
  EksoApiException,
  EksoAuthException,
  EksoClient,
  EksoNetworkException,
  EksoRateLimitException,
  EksoValidationException,
  defaultBaseUrl,
  resolveBaseUrl,
} from '../../src/reference/sdk/index.js';
import { FakeEkso, json, unauthorized } from './fake-ekso.js';

const KEY = 'ek_live_0123456789abcdef0123456789abcdef';

function keyClient(fake: FakeEkso, extra: { baseUrl?: string; timeoutMs?: number } = {}) {
  fake.apiKeys.set(KEY, 'ok');
  return new EksoClient({ tenant: 'acme', auth: new ApiKeyAuth(KEY), fetch: fake.fetch, now: fake.now, ...extra });
}

describe('ApiKeyAuth (SDK-01, SDK-14)', () => {
  it('sends the key as a bearer token on every request and never calls a token endpoint', async () => {
    const fake = new FakeEkso();
    const client = keyClient(fake);
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) await client.request(method, '/api/field', method === 'GET' ? undefined : { a: 1 });
    expect(fake.apiRequests.map((r) => r.authorization)).toEqual(Array(4).fill(`Bearer ${KEY}`));
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('a rejected key is EksoAuthException Invalid, not retried', async () => {
    const fake = new FakeEkso();
    const client = new EksoClient({ tenant: 'acme', auth: new ApiKeyAuth('ek_live_unknown_key_000000'), fetch: fake.fetch, now: fake.now });
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoAuthException);
    expect((e as EksoAuthException).reason).toBe('Invalid');
    expect((e as EksoAuthException).statusCode).toBe(401);
    expect(fake.apiRequests).toHaveLength(1);
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('a revoked key is EksoAuthException Revoked; an "expired" key is still Invalid (only Revoked/Invalid apply)', async () => {
    const fake = new FakeEkso();
    fake.apiKeys.set(KEY, 'revoked');
    const client = new EksoClient({ tenant: 'acme', auth: new ApiKeyAuth(KEY), fetch: fake.fetch, now: fake.now });
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect((e as EksoAuthException).reason).toBe('Revoked');
    fake.apiHandler = () => unauthorized('expired');
    const e2 = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect((e2 as EksoAuthException).reason).toBe('Invalid');
    expect(fake.apiRequests).toHaveLength(2);
  });

  it('refuses an empty key', () => {
    expect(() => new ApiKeyAuth('')).toThrow(TypeError);
  });
});

describe('base URL (SDK-02)', () => {
  it('defaults to https://{tenant}.ekso.app', async () => {
    const fake = new FakeEkso();
    expect(defaultBaseUrl('acme')).toBe('https://acme.ekso.app');
    expect(resolveBaseUrl('acme')).toBe('https://acme.ekso.app');
    await keyClient(fake).request('GET', '/api/field?x=1');
    expect(fake.apiRequests[0]!.url).toBe('https://acme.ekso.app/api/field?x=1');
  });

  it('a configured base URL replaces it, keeping a path prefix', async () => {
    const fake = new FakeEkso();
    fake.apiHandler = () => json(200, {});
    const client = keyClient(fake, { baseUrl: 'http://127.0.0.1:6050/tenant-a/' });
    expect(client.baseUrl).toBe('http://127.0.0.1:6050/tenant-a');
    await client.request('GET', '/api/field');
    await client.request('GET', 'api/other');
    expect(fake.apiRequests.map((r) => r.url)).toEqual(['http://127.0.0.1:6050/tenant-a/api/field', 'http://127.0.0.1:6050/tenant-a/api/other']);
  });

  it('a path can never change the host', async () => {
    const fake = new FakeEkso();
    fake.apiHandler = () => json(200, {});
    await keyClient(fake, { baseUrl: 'http://127.0.0.1:6050' }).request('GET', '//evil.example/x');
    expect(fake.apiRequests[0]!.url).toBe('http://127.0.0.1:6050//evil.example/x');
  });

  it('refuses tenants that are not DNS labels and base URLs that are not absolute http(s)', () => {
    expect(() => defaultBaseUrl('evil.com/x?')).toThrow(TypeError);
    expect(() => defaultBaseUrl('')).toThrow(TypeError);
    expect(() => resolveBaseUrl('acme', 'ftp://x')).toThrow(TypeError);
    expect(() => resolveBaseUrl('acme', '/relative')).toThrow(TypeError);
  });
});

describe('error mapping (SDK-13)', () => {
  async function errorFor(response: () => Response, fake = new FakeEkso()) {
    fake.apiHandler = response;
    return keyClient(fake).request('POST', '/api/thing', { a: 1 }).catch((x: unknown) => x);
  }

  it('429 → EksoRateLimitException with Retry-After seconds', async () => {
    const e = await errorFor(() => new Response('', { status: 429, headers: { 'retry-after': '12' } }));
    expect(e).toBeInstanceOf(EksoRateLimitException);
    expect((e as EksoRateLimitException).retryAfterMs).toBe(12_000);
    expect((e as EksoRateLimitException).statusCode).toBe(429);
  });

  it('429 with an HTTP-date Retry-After is measured on the SDK clock', async () => {
    const fake = new FakeEkso();
    const at = new Date(fake.clock + 90_000).toUTCString();
    const e = await errorFor(() => new Response('', { status: 429, headers: { 'retry-after': at } }), fake);
    expect((e as EksoRateLimitException).retryAfterMs).toBe(90_000);
  });

  it('429 without Retry-After still has retryAfterMs', async () => {
    const e = await errorFor(() => new Response('', { status: 429 }));
    expect((e as EksoRateLimitException).retryAfterMs).toBeGreaterThan(0);
  });

  it('400 with a validation body → EksoValidationException with field → codes', async () => {
    const body = { kind: 'Validation', message: 'bad', fields: [{ field: 'name', code: 'required' }, { field: 'expiresAt', code: 'past' }, { field: 'name', code: 'too_short' }] };
    const e = await errorFor(() => json(400, body, { 'x-request-id': 'req-42' }));
    expect(e).toBeInstanceOf(EksoValidationException);
    expect((e as EksoValidationException).fieldErrors).toEqual({ name: ['required', 'too_short'], expiresAt: ['past'] });
    expect((e as EksoValidationException).statusCode).toBe(400);
    expect((e as EksoValidationException).requestId).toBe('req-42');
  });

  it('422 with fields is a validation error; 422 Logic without fields is an EksoApiException', async () => {
    const v = await errorFor(() => json(422, { kind: 'Logic', message: 'x', fields: [{ field: 'id', code: 'unknown' }] }));
    expect(v).toBeInstanceOf(EksoValidationException);
    const a = await errorFor(() => json(422, { kind: 'Logic', message: 'already closed', fields: [] }));
    expect(a).toBeInstanceOf(EksoApiException);
    expect((a as EksoApiException).statusCode).toBe(422);
  });

  it('400 without a validation body, 403, 404, 500 → EksoApiException with status and body', async () => {
    for (const status of [400, 403, 404, 500, 503]) {
      const body = { kind: status === 403 ? 'Permission' : 'Exception', message: `m${status}` };
      const e = await errorFor(() => json(status, body));
      expect(e).toBeInstanceOf(EksoApiException);
      expect((e as EksoApiException).statusCode).toBe(status);
      expect((e as EksoApiException).body).toEqual(body);
    }
    const html = await errorFor(() => new Response('<html>oops</html>', { status: 502 }));
    expect((html as EksoApiException).body).toBe('<html>oops</html>');
  });

  it('transport failure → EksoNetworkException wrapping the cause', async () => {
    const fake = new FakeEkso();
    fake.apiHandler = () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    };
    const e = await keyClient(fake).request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoNetworkException);
    expect((e as EksoNetworkException).cause).toBeInstanceOf(TypeError);
    expect((e as Error).message).toContain('ECONNREFUSED');
  });

  it('a hanging server → EksoNetworkException after timeoutMs', async () => {
    const fake = new FakeEkso();
    fake.apiHandler = () => new Promise<Response>(() => undefined) as unknown as Response; // never answers, ignores the signal
    const e = await keyClient(fake, { timeoutMs: 30 }).request('GET', '/api/field').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EksoNetworkException);
    expect((e as Error).message).toMatch(/timed out after 30 ms/);
  });

  it('2xx responses resolve with status and parsed body; empty bodies are undefined', async () => {
    const fake = new FakeEkso();
    fake.apiHandler = (req) => (req.method === 'DELETE' ? new Response(null, { status: 204 }) : json(201, { id: 7 }));
    const client = keyClient(fake);
    expect(await client.request('POST', '/api/x', { a: 1 })).toMatchObject({ status: 201, body: { id: 7 } });
    expect((await client.request('DELETE', '/api/x/7')).body).toBeUndefined();
    expect(fake.apiRequests[0]!.body).toBe('{"a":1}');
    expect(fake.apiRequests[0]!.headers.get('content-type')).toBe('application/json');
  });
});
