/**
 * A tiny Ekso over real HTTP on 127.0.0.1, for adapters running in another process: a token
 * endpoint with single-use rotating refresh tokens and a few API routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalEkso {
  baseUrl: string;
  tokenEndpoint: string;
  issue(lifetimeMs: number): { accessToken: string; refreshToken: string; expiresAt: string };
  apiKeys: Set<string>;
  tokenRequests: URLSearchParams[];
  apiRequests: Array<{ method: string; path: string; authorization: string | undefined; body: string }>;
  /** Holds token responses until released. */
  holdTokens(): () => void;
  close(): Promise<void>;
}

export async function startLocalEkso(): Promise<LocalEkso> {
  let seq = 0;
  const access = new Map<string, number>();
  const live = new Set<string>();
  const apiKeys = new Set<string>();
  const tokenRequests: URLSearchParams[] = [];
  const apiRequests: LocalEkso['apiRequests'] = [];
  let gate: Promise<void> | null = null;

  const issue = (lifetimeMs: number) => {
    const n = ++seq;
    const accessToken = `at-${n}-${Math.random().toString(36).slice(2)}`;
    const refreshToken = `rt-${n}-${Math.random().toString(36).slice(2)}`;
    access.set(accessToken, Date.now() + lifetimeMs);
    live.add(refreshToken);
    return { accessToken, refreshToken, expiresAt: new Date(Date.now() + lifetimeMs).toISOString() };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/token') {
      const form = new URLSearchParams(body);
      tokenRequests.push(form);
      if (gate) await gate;
      const rt = form.get('refresh_token') ?? '';
      if (form.get('grant_type') !== 'refresh_token' || !live.has(rt)) return send(res, 400, { error: 'invalid_grant' }, { 'cache-control': 'no-store' });
      live.delete(rt);
      const pair = issue(300_000);
      return send(res, 200, { access_token: pair.accessToken, refresh_token: pair.refreshToken, token_type: 'Bearer', expires_in: 300 }, { 'cache-control': 'no-store' });
    }
    const auth = req.headers.authorization;
    apiRequests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, authorization: auth, body });
    const status = /^\/api\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      const code = Number(status[1]);
      if (code === 429) return send(res, 429, { message: 'slow down' }, { 'retry-after': '2' });
      if (code === 400) return send(res, 400, { kind: 'Validation', message: 'bad', fields: [{ field: 'name', code: 'required' }] });
      return send(res, code, { kind: 'Exception', message: `status ${code}` });
    }
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (token && apiKeys.has(token)) return send(res, 200, { via: 'key', path: url.pathname });
    const exp = token ? access.get(token) : undefined;
    if (!token || exp === undefined) return send(res, 401, { message: 'unauthorized' }, { 'www-authenticate': token ? 'Bearer error="invalid_token", error_description="invalid"' : 'Bearer' });
    if (Date.now() >= exp) return send(res, 401, { message: 'unauthorized' }, { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' });
    return send(res, 200, { via: token, path: url.pathname });
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch(() => send(res, 500, { kind: 'Exception', message: 'fake failed' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    tokenEndpoint: `${baseUrl}/token`,
    issue,
    apiKeys,
    tokenRequests,
    apiRequests,
    holdTokens() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
