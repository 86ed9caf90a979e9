/**
 * Test helpers: a reference backend on a free loopback port and a tiny HTTP client that opens a
 * fresh connection per request (so that concurrent requests really overlap on the server).
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { createReferenceBackend, ManualClock, type ReferenceBackend, type ReferenceBackendOptions } from '../../src/reference/backend/index.js';

export interface Started {
  backend: ReferenceBackend;
  baseUrl: string;
  clock: ManualClock;
  admin: string;
  user: string;
  close(): Promise<void>;
}

export async function start(options: ReferenceBackendOptions = {}): Promise<Started> {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const backend = createReferenceBackend({ testHooks: true, clock, ...options });
  const { baseUrl } = await backend.listen(0);
  return {
    backend,
    baseUrl,
    clock: (options.clock as ManualClock | undefined) ?? clock,
    admin: backend.bootstrap.adminKey,
    user: backend.bootstrap.userKey,
    close: () => backend.close(),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Write the body in chunks (chunked transfer encoding) instead of with a Content-Length. */
  chunked?: boolean;
}

const agent = new http.Agent({ keepAlive: false });

export function request(baseUrl: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    if (options.body !== undefined && !options.chunked) headers['Content-Length'] = Buffer.byteLength(options.body);
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

export function json(baseUrl: string, method: string, path: string, body: unknown, bearer?: string): Promise<Reply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  return request(baseUrl, path, { method, headers, body: JSON.stringify(body) });
}

export function get(baseUrl: string, path: string, bearer?: string, extraHeaders: Record<string, string> = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  return request(baseUrl, path, { headers });
}

export function form(baseUrl: string, path: string, params: Record<string, string>): Promise<Reply> {
  return request(baseUrl, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
}

export interface Pair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
}

export async function hookToken(baseUrl: string, marker: 'Cli' | 'Web', user: 'admin' | 'user' = 'admin', clientId?: string): Promise<Pair> {
  const body: Record<string, string> = { marker, user };
  if (clientId) body.client_id = clientId;
  const reply = await json(baseUrl, 'POST', '/__conformance/token', body);
  if (reply.status !== 200) throw new Error(`token hook: ${reply.status} ${reply.text}`);
  return reply.json as Pair;
}

export function refresh(baseUrl: string, refreshToken: string, clientId: string): Promise<Reply> {
  return form(baseUrl, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
}

export async function mintKey(baseUrl: string, bearer: string, body: unknown = { name: 'test key' }): Promise<Reply> {
  return json(baseUrl, 'POST', '/api/admin/api-key', body, bearer);
}

/** The core list field used by the marker gate, read with `bearer`. */
export async function coreField(baseUrl: string, bearer: string): Promise<any> {
  const reply = await get(baseUrl, '/api/field', bearer);
  if (reply.status !== 200) throw new Error(`GET /api/field: ${reply.status}`);
  return (reply.json.typeList as any[]).find((f) => f.isCore);
}

export function decodeJwtPayload(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
