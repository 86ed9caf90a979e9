import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { ReferenceBackend, createReferenceBackend, type RequestContext } from '../../src/reference/backend/index.js';
import { decodeJwtPayload, get, hookToken, json, mintKey, request, start, type Started } from './helpers.js';

let s: Started | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function forge(header: unknown, payload: unknown, key: Buffer | null): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = key ? createHmac('sha256', key).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}

/** Flips one character of a token part at `index` to another base64url character. */
function flip(token: string, index: number): string {
  const c = token[index]!;
  const replacement = c === 'A' ? 'B' : 'A';
  return token.slice(0, index) + replacement + token.slice(index + 1);
}

describe('reference backend: authentication enforcement and errors', () => {
  it('ERR-01/ERR-02: bad credentials get 401 with the right WWW-Authenticate, never 2xx or 5xx', async () => {
    const secret = randomBytes(32);
    s = await start({ jwtSecret: secret });
    const pair = await hookToken(s.baseUrl, 'Web');
    const claims = decodeJwtPayload(pair.access_token);
    const [h, p, sig] = pair.access_token.split('.') as [string, string, string];
    const presented: Record<string, string> = {
      'unknown ek_live_ key': `ek_live_${randomBytes(32).toString('base64url')}`,
      'short ek_live_ key': 'ek_live_abc',
      'garbage': 'garbage',
      'truncated JWT': pair.access_token.slice(0, -5),
      'JWT without signature': `${h}.${p}`,
      'JWT with empty signature': `${h}.${p}.`,
      'tampered payload': `${h}.${b64({ ...claims, sub: 'user' })}.${sig}`,
      'tampered signature (first char)': `${h}.${p}.${flip(sig, 0)}`,
      'tampered signature (last char, same bytes)': `${h}.${p}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
      'signature padded': `${h}.${p}.${sig}=`,
      'alg none': forge({ alg: 'none', typ: 'JWT' }, claims, null),
      'alg None': forge({ alg: 'None' }, claims, null),
      'alg HS512 with our key': `${b64({ alg: 'HS512' })}.${p}.${createHmac('sha512', secret).update(`${b64({ alg: 'HS512' })}.${p}`).digest('base64url')}`,
      'signed with another key': forge({ alg: 'HS256', typ: 'JWT' }, claims, randomBytes(32)),
      'our key, unknown family': forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, fam: 'nope' }, secret),
      'our key, other user on the family': forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, sub: 'user' }, secret),
      'our key, wrong issuer': forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'Evil' }, secret),
      'our key, Web family claiming Cli': forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, EksoClient: 'Cli' }, secret),
      'our key, unknown EksoClient': forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, EksoClient: 'Sdk' }, secret),
      'our key, crit header': forge({ alg: 'HS256', crit: ['exp'] }, claims, secret),
      'three dots': 'a.b.c.d',
      'huge token (under the header limit)': 'A'.repeat(12_000),
    };
    for (const [label, token] of Object.entries(presented)) {
      const reply = await get(s.baseUrl, '/api/field', token);
      expect(reply.status, label).toBe(401);
      expect(reply.headers['www-authenticate'], label).toBe('Bearer realm="ekso", error="invalid_token", error_description="invalid"');
      expect(typeof reply.json.message).toBe('string');
    }
    // The real token still works (nothing above revoked it).
    expect((await get(s.baseUrl, '/api/field', pair.access_token)).status).toBe(200);
  });

  it('ERR-01/ERR-02: missing or malformed Authorization headers', async () => {
    s = await start();
    const none = await get(s.baseUrl, '/api/field');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="ekso"');
    const cases: Array<[string, string]> = [
      ['Bearer', 'Bearer realm="ekso", error="invalid_token", error_description="invalid"'],
      ['Bearer ', 'Bearer realm="ekso", error="invalid_token", error_description="invalid"'],
      ['Bearer a b', 'Bearer realm="ekso", error="invalid_token", error_description="invalid"'],
      ['Bearer \u00e9t\u00e9', 'Bearer realm="ekso", error="invalid_token", error_description="invalid"'],
      [`Basic ${Buffer.from('admin:admin').toString('base64')}`, 'Bearer realm="ekso"'],
      [s.admin, 'Bearer realm="ekso"'],
    ];
    for (const [header, challenge] of cases) {
      const reply = await request(s.baseUrl, '/api/field', { headers: { Authorization: header } });
      expect(reply.status, header).toBe(401);
      expect(reply.headers['www-authenticate'], header).toBe(challenge);
    }
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await request(s.baseUrl, '/api/field', { headers: { Authorization: `bearer ${s.admin}` } })).status).toBe(200);
  });

  it('ERR-01: every protected /api endpoint requires credentials', async () => {
    s = await start();
    const endpoints: Array<[string, string]> = [
      ['GET', '/api/field'],
      ['PUT', '/api/field/list'],
      ['PUT', '/api/field/list/data'],
      ['GET', '/api/admin/api-key'],
      ['POST', '/api/admin/api-key'],
      ['POST', `/api/admin/api-key/${s.backend.bootstrap.userKeyId}/revoke`],
      ['DELETE', `/api/admin/api-key/${s.backend.bootstrap.userKeyId}`],
    ];
    for (const [method, path] of endpoints) {
      const reply = await json(s.baseUrl, method, path, { name: 'x' });
      expect(reply.status, `${method} ${path}`).toBe(401);
    }
    expect((await get(s.baseUrl, '/api/field', s.user)).status).toBe(200);
  });

  it('ERR-03: error bodies have {kind, message, fields?} with kind matching the status', async () => {
    s = await start();
    const validation = await mintKey(s.baseUrl, s.admin, {});
    expect(validation.status).toBe(400);
    expect(validation.json).toEqual({ kind: 'Validation', message: expect.any(String), fields: [{ field: 'name', code: 'required' }] });
    const permission = await mintKey(s.baseUrl, s.user);
    expect(permission.json).toEqual({ kind: 'Permission', message: expect.any(String) });
    const logic = await request(s.baseUrl, '/api/admin/api-key/nope', { method: 'DELETE', headers: { Authorization: `Bearer ${s.admin}` } });
    expect(logic.status).toBe(422);
    expect(logic.json).toEqual({ kind: 'Logic', message: expect.any(String) });
  });

  it('ERR-03: a handler failure is 500 Exception, and the server keeps serving', async () => {
    class Broken extends ReferenceBackend {
      protected override async handleGetFields(_ctx: RequestContext): Promise<void> {
        throw new Error('database on fire: secret detail');
      }
    }
    const backend = new Broken({ testHooks: true });
    const { baseUrl } = await backend.listen(0);
    try {
      const reply = await get(baseUrl, '/api/field', backend.bootstrap.adminKey);
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ kind: 'Exception', message: expect.any(String) });
      expect(reply.text).not.toContain('secret detail');
      expect((await get(baseUrl, '/api/admin/api-key', backend.bootstrap.adminKey)).status).toBe(200);
    } finally {
      await backend.close();
    }
  });

  it('malformed JSON, wrong content types and non-object bodies get 400 Validation', async () => {
    s = await start();
    const auth = { Authorization: `Bearer ${s.admin}` };
    const cases: Array<[Record<string, string>, string | Buffer]> = [
      [{ 'Content-Type': 'application/json' }, '{"name": '],
      [{ 'Content-Type': 'application/json' }, '{name: "x"}'],
      [{ 'Content-Type': 'application/json' }, ''],
      [{ 'Content-Type': 'application/json' }, Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
      [{ 'Content-Type': 'application/json' }, 'null'],
      [{ 'Content-Type': 'text/plain' }, '{"name":"x"}'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=x'],
      [{}, '{"name":"x"}'],
    ];
    for (const [headers, body] of cases) {
      for (const [method, path] of [['POST', '/api/admin/api-key'], ['PUT', '/api/field/list'], ['PUT', '/api/field/list/data']] as const) {
        const reply = await request(s.baseUrl, path, { method, headers: { ...auth, ...headers }, body });
        expect(reply.status, `${method} ${path} ${JSON.stringify(headers)} ${String(body)}`).toBe(400);
        expect(reply.json.kind).toBe('Validation');
        expect(Array.isArray(reply.json.fields)).toBe(true);
      }
    }
    // application/json with a charset parameter is fine.
    const ok = await request(s.baseUrl, '/api/admin/api-key', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json; charset=utf-8' }, body: '{"name":"x"}' });
    expect(ok.status).toBe(200);
  });

  it('bodies over 1 MiB get 413 without being read in full (declared and chunked)', async () => {
    s = await start();
    const auth = { Authorization: `Bearer ${s.admin}`, 'Content-Type': 'application/json' };
    const huge = `{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const declared = await requestTolerant(s.baseUrl, '/api/admin/api-key', { method: 'POST', headers: auth, body: huge });
    expect(declared).toBe(413);
    const chunked = await requestTolerant(s.baseUrl, '/api/admin/api-key', { method: 'POST', headers: auth, body: huge, chunked: true });
    expect(chunked).toBe(413);
    const token = await requestTolerant(s.baseUrl, '/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `refresh_token=${'x'.repeat(2 * 1024 * 1024)}`, chunked: true });
    expect(token).toBe(413);
    // A body just under the limit is read and judged on its merits.
    const underLimit = `{"name":"${'x'.repeat(1024 * 1024 - 20)}"}`;
    const under = await request(s.baseUrl, '/api/admin/api-key', { method: 'POST', headers: auth, body: underLimit });
    expect(under.status).toBe(400);
    expect(under.json.fields).toEqual([{ field: 'name', code: 'tooLong' }]);
    expect((await get(s.baseUrl, '/api/field', s.admin)).status).toBe(200);
  });

  it('an unauthenticated huge upload is answered 401 and the connection closed', async () => {
    s = await start();
    const status = await requestTolerant(s.baseUrl, '/api/admin/api-key', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(4 * 1024 * 1024), chunked: true });
    expect(status).toBe(401);
  });

  it('unknown routes are 404, wrong methods 405 with Allow', async () => {
    s = await start();
    for (const path of ['/api/nope', '/api', '/nope', '/api/admin/api-key/a/b/c', '/.well-known/nope']) {
      expect((await get(s.baseUrl, path, s.admin)).status, path).toBe(404);
    }
    const wrong = await request(s.baseUrl, '/api/field', { method: 'DELETE', headers: { Authorization: `Bearer ${s.admin}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    const tokenGet = await get(s.baseUrl, '/token');
    expect(tokenGet.status).toBe(405);
    expect(tokenGet.json.error).toBe('invalid_request');
  });

  it('the token endpoint refuses malformed requests with OAuth errors', async () => {
    s = await start();
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{ 'Content-Type': 'application/json' }, '{"grant_type":"refresh_token"}', 400, 'invalid_request'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, '', 400, 'invalid_request'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=password&client_id=ekso-cli', 400, 'unsupported_grant_type'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=ekso-cli', 400, 'invalid_request'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=refresh_token&refresh_token=a', 400, 'invalid_request'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=refresh_token&refresh_token=a&client_id=evil', 401, 'invalid_client'],
      [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'grant_type=refresh_token&refresh_token=%ZZ&client_id=ekso-cli', 400, 'invalid_grant'],
    ];
    for (const [headers, body, status, error] of cases) {
      const reply = await request(s.baseUrl, '/token', { method: 'POST', headers, body });
      expect(reply.status, body).toBe(status);
      expect(reply.json.error, body).toBe(error);
      expect(reply.headers['cache-control']).toBe('no-store');
    }
  });

  it('garbage on the wire never crashes the server', async () => {
    s = await start();
    const { port } = new URL(s.baseUrl);
    for (const garbage of ['NOT HTTP AT ALL\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', `GET /api/field HTTP/1.1\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, '\u0000\u0001\u0002']) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(garbage));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
        socket.setTimeout(2000, () => socket.destroy());
      });
      expect(answer === '' || /^HTTP\/1\.1 4\d\d/.test(answer)).toBe(true);
    }
    expect((await get(s.baseUrl, '/api/field', s.admin)).status).toBe(200);
  });

  it('hook validation: bad hook bodies are 400 Validation', async () => {
    s = await start();
    expect((await json(s.baseUrl, 'POST', '/__conformance/token', { marker: 'Sdk', user: 'admin' })).json.fields).toEqual([{ field: 'marker', code: 'invalid' }]);
    expect((await json(s.baseUrl, 'POST', '/__conformance/token', { marker: 'Cli', user: 'root' })).status).toBe(400);
    expect((await json(s.baseUrl, 'POST', '/__conformance/token', { marker: 'Cli', user: 'admin', client_id: 'evil' })).status).toBe(400);
    expect((await json(s.baseUrl, 'POST', '/__conformance/clock', { advanceMs: -1 })).status).toBe(400);
    expect((await json(s.baseUrl, 'POST', '/__conformance/clock', {})).status).toBe(400);
    const read = await json(s.baseUrl, 'POST', '/__conformance/clock', { advanceMs: 0 });
    expect(Date.parse(read.json.now)).toBe(s.clock.now());
    expect((await json(s.baseUrl, 'POST', '/__conformance/api-key', { user: 'nobody' })).status).toBe(400);
    expect((await json(s.baseUrl, 'POST', '/__conformance/device/approve', { user_code: 'X', decision: 'maybe' })).status).toBe(400);
  });

  it('ERR-04: past the rate limit the API answers 429 with Retry-After; hooks are exempt', async () => {
    const backend = createReferenceBackend({ testHooks: true, rateLimitPerSecond: 5 });
    const { baseUrl } = await backend.listen(0);
    try {
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof get>> | undefined;
      for (let i = 0; i < 10; i++) {
        const reply = await get(baseUrl, '/api/field', backend.bootstrap.adminKey);
        statuses.push(reply.status);
        if (reply.status === 429) limited ??= reply;
      }
      expect(statuses.filter((st) => st === 200).length).toBeLessThanOrEqual(5);
      expect(limited).toBeDefined();
      expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // The token endpoint is limited too; the hooks are not.
      expect((await request(baseUrl, '/token', { method: 'POST' })).status).toBe(429);
      expect((await json(baseUrl, 'POST', '/__conformance/clock', { advanceMs: 0 })).status).toBe(200);
    } finally {
      await backend.close();
    }
  });

  it('close() ends keep-alive connections promptly', async () => {
    const backend = createReferenceBackend();
    const { baseUrl } = await backend.listen(0);
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${baseUrl}/.well-known/oauth-authorization-server`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    await backend.close(); // would hang for the keep-alive timeout if idle sockets were left open
    agent.destroy();
    await expect(get(baseUrl, '/.well-known/oauth-authorization-server')).rejects.toThrow();
  });
});

/**
 * Sends a request and returns the status, tolerating the server closing the connection while
 * the body is still being written (what a 413 / early 401 with `Connection: close` does).
 */
function requestTolerant(baseUrl: string, path: string, options: { method: string; headers: Record<string, string>; body: string; chunked?: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (!options.chunked) headers['Content-Length'] = Buffer.byteLength(options.body);
    const req = http.request(new URL(path, baseUrl), { method: options.method, headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error) => reject(error));
    if (options.chunked) {
      // Write in 64 KiB pieces so that the server sees a long stream.
      const piece = 64 * 1024;
      let offset = 0;
      const writeMore = (): void => {
        while (offset < options.body.length) {
          const chunk = options.body.slice(offset, offset + piece);
          offset += piece;
          if (!req.write(chunk)) {
            req.once('drain', writeMore);
            return;
          }
        }
        req.end();
      };
      writeMore();
    } else {
      req.end(options.body);
    }
  });
}
