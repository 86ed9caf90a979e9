/**
 * A tiny Ekso in-process, reached through an injected `fetch`: a token endpoint with single-use
 * rotating refresh tokens, and an API that checks bearer credentials. Knobs let a test hold token
 * responses (to make calls overlap), inject failures, and script API answers.
 */

export type TokenFailure = 'invalid_grant' | 'invalid_client_401' | 503 | 429 | 'reset' | 'hang' | 'no_oauth_400';

export interface TokenRequest {
  form: URLSearchParams;
  headers: Headers;
  url: string;
  method: string;
}

export interface ApiRequest {
  method: string;
  url: string;
  authorization: string | null;
  body: string | undefined;
  headers: Headers;
}

type ApiHandler = (req: ApiRequest, fake: FakeEkso) => Response | undefined | Promise<Response | undefined>;

export class FakeEkso {
  readonly tokenEndpoint = 'https://login.test/token';
  readonly baseUrl = 'https://acme.ekso.app';
  clock = Date.parse('2030-01-01T00:00:00Z');
  expiresInS = 300;
  readonly accessTokens = new Map<string, number>();
  readonly revokedAccess = new Set<string>();
  readonly liveRefresh = new Set<string>();
  readonly deadRefresh = new Set<string>();
  readonly apiKeys = new Map<string, 'ok' | 'revoked'>();
  readonly tokenRequests: TokenRequest[] = [];
  readonly apiRequests: ApiRequest[] = [];
  /** Ordered events: `token`, `api <token>` … for ordering assertions. */
  readonly events: string[] = [];
  readonly tokenFailures: TokenFailure[] = [];
  clientId = 'ekso-sdk';
  /** When set, token responses wait for it. */
  gate: Promise<void> | null = null;
  apiHandler: ApiHandler | undefined;
  private seq = 0;

  now = (): number => this.clock;

  advance(ms: number): void {
    this.clock += ms;
  }

  /** Issues a live pair expiring `lifetimeMs` from now. */
  issue(lifetimeMs = this.expiresInS * 1000): { accessToken: string; refreshToken: string; expiresAt: Date } {
    const n = ++this.seq;
    const accessToken = `at-${n}-${'x'.repeat(8)}`;
    const refreshToken = `rt-${n}-${'y'.repeat(8)}`;
    this.accessTokens.set(accessToken, this.clock + lifetimeMs);
    this.liveRefresh.add(refreshToken);
    return { accessToken, refreshToken, expiresAt: new Date(this.clock + lifetimeMs) };
  }

  /** Holds every token response until the returned function is called. */
  holdTokens(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  readonly fetch: typeof globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const signal = init?.signal ?? undefined;
    if (url === this.tokenEndpoint) return this.token({ form: new URLSearchParams(body ?? ''), headers, url, method }, signal);
    const req: ApiRequest = { method, url, authorization: headers.get('authorization'), body, headers };
    this.apiRequests.push(req);
    this.events.push(`api ${req.authorization?.replace(/^Bearer /, '') ?? '-'}`);
    const scripted = await this.apiHandler?.(req, this);
    if (scripted) return scripted;
    return this.api(req);
  };

  private async token(req: TokenRequest, signal: AbortSignal | undefined): Promise<Response> {
    this.tokenRequests.push(req);
    this.events.push('token');
    if (this.gate) await this.gate;
    const failure = this.tokenFailures.shift();
    if (failure === 'reset') throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    if (failure === 'hang') {
      return new Promise<Response>((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason));
      });
    }
    if (failure === 503) return json(503, { error: 'temporarily_unavailable' });
    if (failure === 429) return json(429, { error: 'slow_down' }, { 'retry-after': '7' });
    if (failure === 'invalid_grant') return json(400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
    if (failure === 'invalid_client_401') return json(401, { error: 'invalid_client' });
    if (failure === 'no_oauth_400') return new Response('<html>bad gateway</html>', { status: 400, headers: { 'content-type': 'text/html' } });

    if (req.method !== 'POST' || req.form.get('grant_type') !== 'refresh_token') return json(400, { error: 'unsupported_grant_type' });
    if (req.form.get('client_id') !== this.clientId) return json(401, { error: 'invalid_client' });
    const presented = req.form.get('refresh_token') ?? '';
    if (!this.liveRefresh.has(presented)) {
      return json(400, { error: 'invalid_grant', error_description: this.deadRefresh.has(presented) ? 'replayed' : 'unknown' });
    }
    this.liveRefresh.delete(presented);
    this.deadRefresh.add(presented);
    const pair = this.issue();
    return json(200, { access_token: pair.accessToken, refresh_token: pair.refreshToken, token_type: 'Bearer', expires_in: this.expiresInS }, { 'cache-control': 'no-store' });
  }

  private api(req: ApiRequest): Response {
    const token = req.authorization?.startsWith('Bearer ') ? req.authorization.slice(7) : undefined;
    if (!token) return unauthorized(undefined);
    const key = this.apiKeys.get(token);
    if (key === 'ok') return json(200, { via: 'key' });
    if (key === 'revoked') return unauthorized('revoked');
    const exp = this.accessTokens.get(token);
    if (exp === undefined || this.revokedAccess.has(token)) return unauthorized(exp === undefined ? 'invalid' : 'revoked');
    if (this.clock >= exp) return unauthorized('expired');
    return json(200, { via: token });
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function unauthorized(description: string | undefined): Response {
  const challenge = description ? `Bearer error="invalid_token", error_description="${description}"` : 'Bearer';
  return new Response(JSON.stringify({ message: 'unauthorized' }), {
    status: 401,
    headers: { 'content-type': 'application/json', 'www-authenticate': challenge },
  });
}

/** Lets pending promise callbacks run (several macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
