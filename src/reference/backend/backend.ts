/**
 * The reference Ekso auth backend: a real node:http server that conforms to every backend
 * requirement of REQUIREMENTS.md (AK-*, RT-*, DF-*, CM-*, ERR-*) under the `strict` policy, and
 * to `grace=<s>` when configured so.
 *
 * Written from the requirements alone (it never imports the harness's models, engine, targets
 * or checks), so that it is an independent witness. Every decision is a separate `protected`
 * method: a mutant (a deliberately broken variant used to validate the harness) subclasses this
 * class and overrides exactly one of them.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { SystemClock, type Clock } from './clock.js';
import {
  InMemoryBackendStore,
  type ApiKeyRecord,
  type BackendStore,
  type ConsumeResult,
  type FamilyMarker,
  type FamilyRecord,
  type ListFieldRecord,
  type ListValue,
  type Marker,
  type RefreshTokenRecord,
  type UserRecord,
} from './store.js';
import { signHs256, verifyHs256, type JwtPayload, type JwtVerifyResult } from './jwt.js';
import {
  MAX_BODY_BYTES,
  declaresTooLarge,
  escapeHtml,
  isPlainObject,
  mediaType,
  parseForm,
  parseJson,
  readBody,
  sendEmpty,
  sendHtml,
  sendJson,
} from './http-util.js';
import { SlidingWindowRateLimiter } from './rate-limit.js';
import { USERS, seedData } from './seed.js';
import { parseDateTime } from './datetime.js';
import type {
  AccessTokenCheck,
  AccessTokenClaims,
  ApiKeyUsability,
  ApiKeyView,
  Area,
  AuthResult,
  BootstrapKeys,
  Credential,
  DeviceAuthorization,
  ErrorKind,
  FieldError,
  FieldOperation,
  Handler,
  ListFieldUpdate,
  Principal,
  ReferenceBackendOptions,
  RefreshPolicy,
  Rejection,
  RequestContext,
  Route,
  TokenOutcome,
  TokenPair,
} from './types.js';

const API_KEY_PREFIX = 'ek_live_';
const API_KEY_RE = /^ek_live_[A-Za-z0-9_-]{43}$/;
const REFRESH_PREFIX = 'ekso_rt_';
const REFRESH_RE = /^ekso_rt_[A-Za-z0-9_-]{43}$/;
const DEVICE_PREFIX = 'ekso_dc_';
const AUTH_CODE_PREFIX = 'ekso_ac_';
const JWT_ISSUER = 'Ekso';
const JWT_AUDIENCE = 'Ekso';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §6.1: no vowels (no words), no easily confused characters. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** Choice: authorization codes live 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes). */
const AUTH_CODE_TTL_MS = 60_000;
const PKCE_VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const PKCE_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
const HOST_RE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function stringsEqualConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}


export class ReferenceBackend {
  readonly bootstrap: BootstrapKeys;
  readonly clock: Clock;
  protected readonly store: BackendStore;
  protected readonly jwtSecret: Buffer;
  protected readonly testHooks: boolean;
  protected readonly advertiseTestHooks: boolean;
  protected readonly clockHook: boolean;
  protected readonly accessTokenTtlSeconds: number;
  protected readonly refreshIdleWindowSeconds: number;
  protected readonly deviceCodeTtlSeconds: number;
  protected readonly deviceIntervalSeconds: number;
  protected readonly refreshPolicy: RefreshPolicy;
  protected readonly rateLimiter: SlidingWindowRateLimiter | null;
  /** Seeding of the store (users, clients, fields, bootstrap keys); every request awaits it. */
  protected readonly ready: Promise<void>;
  protected readonly routes: Route[];
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private apiKeySeq = 0;
  private seedError: unknown = null;

  constructor(options: ReferenceBackendOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.store = options.store ?? new InMemoryBackendStore();
    this.jwtSecret = options.jwtSecret ?? randomBytes(32);
    this.testHooks = options.testHooks ?? false;
    this.advertiseTestHooks = options.advertiseTestHooks ?? true;
    this.clockHook = options.clockHook ?? true;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 300;
    this.refreshIdleWindowSeconds = options.refreshIdleWindowSeconds ?? 604_800;
    this.deviceCodeTtlSeconds = options.deviceCodeTtlSeconds ?? 600;
    this.deviceIntervalSeconds = options.deviceIntervalSeconds ?? 1;
    this.refreshPolicy = options.refreshPolicy ?? { kind: 'strict' };
    const limit = options.rateLimitPerSecond ?? 0;
    this.rateLimiter = limit > 0 ? new SlidingWindowRateLimiter(limit) : null;
    this.routes = this.buildRoutes();
    this.handle = this.handle.bind(this);

    // The raw bootstrap keys exist only here (and in whatever the embedder prints); the store
    // gets their hashes once seeding runs.
    const now = this.clock.now();
    const adminKey = this.generateRawKey();
    const userKey = this.generateRawKey();
    const adminRecord = this.buildApiKeyRecord(adminKey, 'bootstrap super-admin key', 'admin', null, now);
    const userRecord = this.buildApiKeyRecord(userKey, 'bootstrap user key', 'user', null, now);
    this.bootstrap = { adminKey, adminKeyId: adminRecord.id, userKey, userKeyId: userRecord.id };
    const store = this.store;
    this.ready = (async () => {
      await store.initialize(seedData());
      await store.insertApiKey(adminRecord);
      await store.insertApiKey(userRecord);
    })().catch((error: unknown) => {
      this.seedError = error ?? new Error('seeding failed');
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Server lifecycle

  async listen(port = 0, host = '127.0.0.1'): Promise<{ baseUrl: string }> {
    if (this.server) throw new Error('the reference backend is already listening');
    await this.ready;
    if (this.seedError) throw this.seedError;
    const server = http.createServer(this.handle);
    // Bound slow clients: a body trickling in forever must not hold a socket for 5 minutes.
    server.requestTimeout = 30_000;
    server.headersTimeout = 15_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // Unparseable HTTP: answer if we still can, never crash.
      if (!socket.writable || error.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        server.off('listening', onListening);
        reject(error);
      };
      const onListening = (): void => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
    server.on('error', () => {
      /* after listening, socket-level errors are per connection; nothing to do */
    });
    this.server = server;
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return { baseUrl: `http://${hostPart}:${actualPort}` };
  }

  /** Stops listening and closes every connection, idle keep-alive sockets included. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** The request listener; bound, so it can be handed to another `http.Server` as is. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.dispatch(req, res).catch(() => {
      // dispatch already answers 500 for handler errors; this is the last net.
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal error' });
      else res.destroy();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Routing

  protected buildRoutes(): Route[] {
    const discovery: Handler = (ctx) => this.handleDiscovery(ctx);
    return [
      { pattern: /^\/\.well-known\/oauth-authorization-server$/, area: 'oauth', methods: { GET: discovery } },
      { pattern: /^\/\.well-known\/openid-configuration$/, area: 'oauth', methods: { GET: discovery } },
      { pattern: /^\/token$/, area: 'oauth', methods: { POST: (ctx) => this.handleToken(ctx) } },
      { pattern: /^\/device_authorization$/, area: 'oauth', methods: { POST: (ctx) => this.handleDeviceAuthorization(ctx) } },
      { pattern: /^\/authorize$/, area: 'oauth', methods: { GET: (ctx) => this.handleAuthorize(ctx) } },
      { pattern: /^\/register$/, area: 'oauth', methods: { POST: (ctx) => this.handleRegister(ctx) } },
      { pattern: /^\/auth\/device$/, area: 'page', methods: { GET: (ctx) => this.handleDevicePage(ctx) } },
      {
        pattern: /^\/api\/admin\/api-key$/,
        area: 'api',
        methods: { GET: (ctx) => this.handleListKeys(ctx), POST: (ctx) => this.handleMintKey(ctx) },
      },
      { pattern: /^\/api\/admin\/api-key\/([^/]+)\/revoke$/, area: 'api', methods: { POST: (ctx) => this.handleRevokeKey(ctx) } },
      { pattern: /^\/api\/admin\/api-key\/([^/]+)$/, area: 'api', methods: { DELETE: (ctx) => this.handleRevokeKey(ctx) } },
      { pattern: /^\/api\/field$/, area: 'api', methods: { GET: (ctx) => this.handleGetFields(ctx) } },
      { pattern: /^\/api\/field\/list$/, area: 'api', methods: { PUT: (ctx) => this.handleUpdateListField(ctx) } },
      { pattern: /^\/api\/field\/list\/data$/, area: 'api', methods: { PUT: (ctx) => this.handleUpdateListData(ctx) } },
      { pattern: /^\/__conformance\/token$/, area: 'hook', methods: { POST: (ctx) => this.hookToken(ctx) } },
      { pattern: /^\/__conformance\/device\/approve$/, area: 'hook', methods: { POST: (ctx) => this.hookDeviceApprove(ctx) } },
      { pattern: /^\/__conformance\/clock$/, area: 'hook', methods: { POST: (ctx) => this.hookClock(ctx) } },
      { pattern: /^\/__conformance\/api-key$/, area: 'hook', methods: { POST: (ctx) => this.hookApiKey(ctx) } },
    ];
  }

  protected areaOf(path: string): Area {
    if (path === '/api' || path.startsWith('/api/')) return 'api';
    if (path === '/__conformance' || path.startsWith('/__conformance/')) return 'hook';
    if (path.startsWith('/auth/')) return 'page';
    return 'oauth';
  }

  protected async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await this.ready;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://reference.invalid');
    } catch {
      sendJson(res, 400, { message: 'Malformed request target' });
      return;
    }
    const path = url.pathname;
    const area = this.areaOf(path);
    const ctx: RequestContext = { req, res, url, baseUrl: this.baseUrlOf(req), params: [], area };
    if (this.seedError) {
      this.sendError(ctx, 500, 'Exception', 'The backend failed to start');
      return;
    }

    // Token-bearing endpoints never let a cache keep an answer (RT-11); API answers may carry
    // a raw key (mint) and are not cacheable either.
    if (area === 'oauth' || area === 'hook') {
      for (const [name, value] of Object.entries(this.tokenResponseHeaders())) res.setHeader(name, value);
    } else if (area === 'api') {
      res.setHeader('Cache-Control', 'no-store');
    }

    // Choice: the rate limit covers everything (API, OAuth endpoints, pages) except the test
    // hooks, which are harness plumbing, not part of the surface under test.
    if (this.rateLimiter && area !== 'hook') {
      const decision = this.rateLimiter.check(req.socket.remoteAddress ?? 'unknown');
      if (!decision.allowed) {
        this.tooManyRequests(ctx, decision.retryAfterSeconds);
        return;
      }
    }

    if (area === 'hook' && !this.testHooks) {
      this.sendNotFound(ctx);
      return;
    }
    let route: Route | undefined;
    let params: string[] = [];
    for (const candidate of this.routes) {
      const match = candidate.pattern.exec(path);
      if (match) {
        route = candidate;
        params = match.slice(1).map((p) => {
          try {
            return decodeURIComponent(p);
          } catch {
            return p;
          }
        });
        break;
      }
    }
    if (!route) {
      this.sendNotFound(ctx);
      return;
    }
    ctx.params = params;
    const method = (req.method ?? 'GET').toUpperCase();
    const handler = route.methods[method] ?? (method === 'HEAD' ? route.methods.GET : undefined);
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ');
      if (ctx.area === 'oauth') {
        sendJson(res, 405, { error: 'invalid_request', error_description: `method not allowed; use ${allow}` }, { Allow: allow });
      } else {
        sendJson(res, 405, { message: `Method not allowed; use ${allow}` }, { Allow: allow });
      }
      return;
    }
    // A declared body over the limit is refused before anything is read (and before auth).
    if (declaresTooLarge(req)) {
      this.payloadTooLarge(ctx);
      return;
    }
    try {
      await handler(ctx);
    } catch {
      // Never crash and never leak internals: every handler failure is a 500.
      if (res.headersSent) res.destroy();
      else if (ctx.area === 'oauth') sendJson(res, 500, { error: 'server_error', error_description: 'internal error' });
      else this.sendError(ctx, 500, 'Exception', 'Internal error');
    }
  }

  /** `http://<Host>` when the Host header is well-formed, else the address the socket reached. */
  protected baseUrlOf(req: http.IncomingMessage): string {
    const host = req.headers.host;
    if (host && HOST_RE.test(host)) return `http://${host}`;
    const address = req.socket.localAddress ?? '127.0.0.1';
    const hostPart = address.includes(':') ? `[${address}]` : address;
    return `http://${hostPart}:${req.socket.localPort ?? 80}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Responses

  /** `/api` error body (ERR-03): `fields` only for Validation. */
  protected errorBody(kind: ErrorKind, message: string, fields?: FieldError[]): Record<string, unknown> {
    return kind === 'Validation' ? { kind, message, fields: fields ?? [] } : { kind, message };
  }

  protected sendError(ctx: RequestContext, status: number, kind: ErrorKind, message: string, fields?: FieldError[]): void {
    sendJson(ctx.res, status, this.errorBody(kind, message, fields));
  }

  protected sendValidation(ctx: RequestContext, fields: FieldError[], message = 'The request is invalid'): void {
    this.sendError(ctx, 400, 'Validation', message, fields);
  }

  protected sendOAuthError(ctx: RequestContext, status: number, error: string, description: string): void {
    const headers: Record<string, string> = {};
    // RFC 9110 §15.5.2: a 401 carries a challenge. Public clients authenticate with client_id
    // alone; Basic is what a confidential client would use (CONTRACT §3 `clientSecret`).
    if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="ekso"';
    sendJson(ctx.res, status, { error, error_description: description }, headers);
  }

  protected sendNotFound(ctx: RequestContext): void {
    // Choice: 404 is not in Ekso's kind table (it uses 422 Logic for missing *resources*); an
    // unknown *route* answers 404 with a plain message, in every area.
    if (ctx.area === 'oauth') sendJson(ctx.res, 404, { error: 'invalid_request', error_description: 'no such endpoint' });
    else sendJson(ctx.res, 404, { message: 'Not found' });
  }

  protected payloadTooLarge(ctx: RequestContext): void {
    const message = `Request body exceeds ${MAX_BODY_BYTES} bytes`;
    if (ctx.area === 'oauth') sendJson(ctx.res, 413, { error: 'invalid_request', error_description: message });
    else sendJson(ctx.res, 413, { message });
  }

  /** 429 with `Retry-After` in seconds (ERR-04). */
  protected tooManyRequests(ctx: RequestContext, retryAfterSeconds: number): void {
    const headers = { 'Retry-After': String(retryAfterSeconds) };
    const message = 'Too many requests';
    if (ctx.area === 'oauth') sendJson(ctx.res, 429, { error: 'rate_limited', error_description: message }, headers);
    else sendJson(ctx.res, 429, { message }, headers);
  }

  /** Headers of every token-endpoint response (RT-11; RFC 6749 §5.1). */
  protected tokenResponseHeaders(): Record<string, string> {
    return { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  }

  /**
   * 401 with the RFC 6750 §3 challenge (ERR-02): no error code when no bearer credential was
   * presented, `invalid_token` plus the reason otherwise.
   */
  protected unauthorized(res: http.ServerResponse, presented: boolean, why: Rejection): void {
    const challenge = presented
      ? `Bearer realm="ekso", error="invalid_token", error_description="${why}"`
      : 'Bearer realm="ekso"';
    const message = presented ? `The access token is ${why}` : 'Authentication required';
    sendJson(res, 401, { message }, { 'WWW-Authenticate': challenge });
  }

  // ---------------------------------------------------------------------------------------------
  // Request bodies

  /**
   * Reads a JSON body. Choice: a wrong or missing Content-Type is 400 Validation (not 415), so
   * that every client error of `/api` has the documented `{kind, message, fields}` shape.
   */
  protected async readJsonBody(ctx: RequestContext): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const type = mediaType(ctx.req);
    if (type !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type)) {
      this.sendValidation(ctx, [{ field: 'Content-Type', code: 'unsupported' }], 'Expected an application/json body');
      return { ok: false };
    }
    const body = await readBody(ctx.req);
    if (!body.ok) {
      if (body.reason === 'too-large') this.payloadTooLarge(ctx);
      else ctx.res.destroy();
      return { ok: false };
    }
    const parsed = parseJson(body.bytes);
    if (!parsed.ok) {
      const code = parsed.reason === 'empty' ? 'required' : 'malformed';
      this.sendValidation(ctx, [{ field: 'body', code }], parsed.reason === 'empty' ? 'A JSON body is required' : 'The body is not valid JSON');
      return { ok: false };
    }
    return { ok: true, value: parsed.value };
  }

  /** Reads an `application/x-www-form-urlencoded` body for the OAuth endpoints. */
  protected async readFormBody(ctx: RequestContext): Promise<{ ok: true; params: Map<string, string> } | { ok: false }> {
    if (mediaType(ctx.req) !== 'application/x-www-form-urlencoded') {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'expected an application/x-www-form-urlencoded body');
      return { ok: false };
    }
    const body = await readBody(ctx.req);
    if (!body.ok) {
      if (body.reason === 'too-large') this.payloadTooLarge(ctx);
      else ctx.res.destroy();
      return { ok: false };
    }
    const form = parseForm(body.bytes);
    if (!form.ok) {
      this.sendOAuthError(ctx, 400, 'invalid_request', form.duplicate ? `parameter ${form.duplicate} repeated` : 'malformed form body');
      return { ok: false };
    }
    return { ok: true, params: form.params };
  }

  // ---------------------------------------------------------------------------------------------
  // Authentication (ERR-01, ERR-02, CM-*)

  /** Authenticates `Authorization: Bearer …` as an API key or an access token. */
  protected async authenticate(req: http.IncomingMessage): Promise<AuthResult> {
    const header = req.headers.authorization;
    if (header === undefined) return { ok: false, presented: false, why: 'invalid' };
    // Choice: an Authorization header with another scheme (e.g. Basic) is "no bearer
    // credential": 401 without an error code (RFC 6750 §3.1). `Bearer` with a missing or
    // malformed token is a presented, invalid credential.
    if (!/^bearer(?:\s|$)/i.test(header)) return { ok: false, presented: false, why: 'invalid' };
    const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    const token = match?.[1];
    if (!token) return { ok: false, presented: true, why: 'invalid' };
    const now = this.clock.now();

    let credential: Credential;
    if (token.startsWith(API_KEY_PREFIX)) {
      const key = await this.findApiKey(token);
      if (!key) return { ok: false, presented: true, why: 'invalid' };
      const usability = this.isApiKeyUsable(key, now);
      if (usability !== 'usable') return { ok: false, presented: true, why: usability };
      credential = { kind: 'apiKey', key };
    } else {
      const check = await this.validateAccessToken(token, now);
      if (!check.ok) return { ok: false, presented: true, why: check.why };
      credential = { kind: 'accessToken', claims: check.claims, family: check.family };
    }
    const userId = credential.kind === 'apiKey' ? credential.key.userId : credential.claims.sub;
    const user = await this.store.getUser(userId);
    const marker = this.markerOf(credential);
    if (!user || !marker) return { ok: false, presented: true, why: 'invalid' };
    return { ok: true, principal: { user, marker, credential } };
  }

  /** Authenticates the request or answers 401 and returns null. */
  protected async requirePrincipal(ctx: RequestContext): Promise<Principal | null> {
    const result = await this.authenticate(ctx.req);
    if (result.ok) return result.principal;
    this.unauthorized(ctx.res, result.presented, result.why);
    return null;
  }

  /** Looks a raw key up by its SHA-256 and confirms the hash in constant time. */
  protected async findApiKey(raw: string): Promise<ApiKeyRecord | undefined> {
    if (!API_KEY_RE.test(raw)) return undefined;
    const hash = this.hashApiKey(raw);
    const key = await this.store.findApiKeyByHash(hash);
    if (!key) return undefined;
    const stored = Buffer.from(key.hash, 'hex');
    const presented = Buffer.from(hash, 'hex');
    return stored.length === presented.length && timingSafeEqual(stored, presented) ? key : undefined;
  }

  /** AK-07, AK-08: revoked keys and keys past `expiresAt` stop working at once. */
  protected isApiKeyUsable(key: ApiKeyRecord, now: number): ApiKeyUsability {
    if (key.revokedAt !== null) return 'revoked';
    if (key.expiresAt !== null && now >= key.expiresAt) return 'expired';
    return 'usable';
  }

  /**
   * The marker comes from the credential alone (CM-07): API key → `Sdk`; access token → `Cli`
   * when its `EksoClient` claim is `Cli`, `Web` when the claim is absent. Choice: any other claim
   * value makes the token invalid rather than defaulting to `Web`.
   */
  protected markerOf(credential: Credential): Marker | null {
    if (credential.kind === 'apiKey') return 'Sdk';
    const claim = credential.claims.EksoClient;
    if (claim === undefined) return 'Web';
    return claim === 'Cli' ? 'Cli' : null;
  }

  /** Signature and algorithm only (HS256 exactly; `none` and every other alg refused). */
  protected verifyAccessTokenSignature(token: string): JwtVerifyResult {
    return verifyHs256(token, this.jwtSecret);
  }

  protected isAccessTokenExpired(claims: AccessTokenClaims, now: number): boolean {
    return now >= claims.exp * 1000;
  }

  /** RT-02, RT-05, ERR-01: signature, alg, claims, expiry, and the family still alive. */
  protected async validateAccessToken(token: string, now: number): Promise<AccessTokenCheck> {
    const verified = this.verifyAccessTokenSignature(token);
    if (!verified.ok) return { ok: false, why: 'invalid' };
    const claims = this.readClaims(verified.payload);
    if (!claims) return { ok: false, why: 'invalid' };
    const family = await this.store.getFamily(claims.fam);
    if (!family || family.userId !== claims.sub || family.clientId !== claims.client_id) return { ok: false, why: 'invalid' };
    // The token's marker must be the family's: a consistency check, since we signed both.
    if ((family.marker === 'Cli') !== (claims.EksoClient === 'Cli')) return { ok: false, why: 'invalid' };
    // Choice: a revoked family reports `revoked` even when the token has also expired, so that
    // a client learns it must not try to refresh.
    if (family.revokedAt !== null) return { ok: false, why: 'revoked' };
    if (this.isAccessTokenExpired(claims, now)) return { ok: false, why: 'expired' };
    return { ok: true, claims, family };
  }

  protected readClaims(payload: JwtPayload): AccessTokenClaims | null {
    const { iss, aud, sub, client_id, fam, jti, iat, exp, EksoClient } = payload;
    const audOk = aud === JWT_AUDIENCE || (Array.isArray(aud) && aud.includes(JWT_AUDIENCE));
    if (iss !== JWT_ISSUER || !audOk) return null;
    if (typeof sub !== 'string' || typeof client_id !== 'string' || typeof fam !== 'string' || typeof jti !== 'string') return null;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(exp)) return null;
    if (EksoClient !== undefined && typeof EksoClient !== 'string') return null;
    const claims: AccessTokenClaims = { iss, aud: JWT_AUDIENCE, sub, client_id, fam, jti, iat, exp };
    if (EksoClient !== undefined) claims.EksoClient = EksoClient;
    return claims;
  }

  // ---------------------------------------------------------------------------------------------
  // API keys (AK-*)

  /** `ek_live_` + 43 base64url characters: 256 bits from the CSPRNG (AK-13). */
  protected generateRawKey(): string {
    return `${API_KEY_PREFIX}${randomToken(32)}`;
  }

  /** Only this digest is stored (AK-02, AK-03). */
  protected hashApiKey(raw: string): string {
    return sha256Hex(raw);
  }

  /**
   * Choice: the display prefix is `ek_live_` plus the first 4 characters of the secret part
   * (24 bits shown, 232 bits still secret): enough to tell keys apart in a listing.
   */
  protected displayPrefix(raw: string): string {
    return raw.slice(0, API_KEY_PREFIX.length + 4);
  }

  protected buildApiKeyRecord(raw: string, name: string, userId: string, expiresAt: number | null, now: number): ApiKeyRecord {
    return {
      id: randomUUID(),
      name,
      prefix: this.displayPrefix(raw),
      hash: this.hashApiKey(raw),
      userId,
      createdAt: now,
      expiresAt,
      revokedAt: null,
      seq: this.apiKeySeq++,
    };
  }

  /** Mints a key for `userId`; the raw key is returned to the caller and never stored. */
  protected async mintApiKey(userId: string, name: string, expiresAt: number | null, now: number): Promise<{ record: ApiKeyRecord; rawKey: string }> {
    const rawKey = this.generateRawKey();
    const record = this.buildApiKeyRecord(rawKey, name, userId, expiresAt, now);
    await this.store.insertApiKey(record);
    return { record, rawKey };
  }

  /** Revokes a key (idempotent, AK-09); false for an unknown id. */
  protected async revokeApiKey(id: string, now: number): Promise<boolean> {
    return (await this.store.markApiKeyRevoked(id, now)) !== undefined;
  }

  /** AK-11: only a super-admin mints, lists and revokes keys (AK-05: keys carry that right). */
  protected canMint(principal: Principal): boolean {
    return principal.user.superAdmin;
  }

  /**
   * AK-03: neither raw keys nor hashes; newest first as the store returns them. Each key's view is
   * kept until the key changes: a deep run lists thousands of keys hundreds of times (issue 13).
   */
  protected listKeysView(keys: ApiKeyRecord[]): ApiKeyView[] {
    return keys.map((key) => {
      const kept = this.keyViews.get(key.id);
      if (kept && kept.revokedAt === key.revokedAt && kept.expiresAt === key.expiresAt) return kept.view;
      const view: ApiKeyView = {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        createdAt: iso(key.createdAt) as string,
        expiresAt: iso(key.expiresAt),
        revokedAt: iso(key.revokedAt),
        createdBy: key.userId,
      };
      this.keyViews.set(key.id, { revokedAt: key.revokedAt, expiresAt: key.expiresAt, view });
      return view;
    });
  }
  private readonly keyViews = new Map<string, { revokedAt: number | null; expiresAt: number | null; view: ApiKeyView }>();

  /** Validates a mint body (AK-12); returns the field errors or the parsed values. */
  protected validateMintBody(body: unknown, now: number): { ok: true; name: string; expiresAt: number | null } | { ok: false; fields: FieldError[] } {
    if (!isPlainObject(body)) return { ok: false, fields: [{ field: 'body', code: 'invalid' }] };
    const fields: FieldError[] = [];
    let name = '';
    if (body.name === undefined || body.name === null || (typeof body.name === 'string' && body.name.trim() === '')) {
      fields.push({ field: 'name', code: 'required' });
    } else if (typeof body.name !== 'string') {
      fields.push({ field: 'name', code: 'invalid' });
    } else if (body.name.trim().length > 200) {
      fields.push({ field: 'name', code: 'tooLong' });
    } else {
      name = body.name.trim();
    }
    let expiresAt: number | null = null;
    const raw = body.expiresAt;
    if (raw !== undefined && raw !== null) {
      const parsed = typeof raw === 'string' ? parseDateTime(raw) : null;
      if (parsed === null) fields.push({ field: 'expiresAt', code: 'invalid' });
      else if (parsed <= now) fields.push({ field: 'expiresAt', code: 'past' });
      else expiresAt = parsed;
    }
    return fields.length > 0 ? { ok: false, fields } : { ok: true, name, expiresAt };
  }

  protected async handleMintKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    // Choice: permission is checked before the body, so a refused caller learns nothing more
    // (and AK-11 holds whatever it sends).
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can mint API keys');
      return;
    }
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const now = this.clock.now();
    const valid = this.validateMintBody(body.value, now);
    if (!valid.ok) {
      this.sendValidation(ctx, valid.fields);
      return;
    }
    const { record, rawKey } = await this.mintApiKey(principal.user.id, valid.name, valid.expiresAt, now);
    sendJson(ctx.res, 200, {
      id: record.id,
      name: record.name,
      rawKey,
      prefix: record.prefix,
      expiresAt: iso(record.expiresAt),
      createdAt: iso(record.createdAt),
    });
  }

  protected async handleListKeys(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    // Choice: listing keys is a super-admin operation like minting.
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can list API keys');
      return;
    }
    sendJson(ctx.res, 200, this.listKeysView(await this.store.listApiKeys()));
  }

  protected async handleRevokeKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can revoke API keys');
      return;
    }
    const id = ctx.params[0] ?? '';
    if (!(await this.revokeApiKey(id, this.clock.now()))) {
      this.sendError(ctx, 422, 'Logic', 'No API key has that id');
      return;
    }
    sendEmpty(ctx.res, 204);
  }

  // ---------------------------------------------------------------------------------------------
  // Tokens: families, access tokens, rotation (RT-*)

  protected newRefreshToken(now: number, familyId = ''): { raw: string; record: RefreshTokenRecord } {
    const raw = `${REFRESH_PREFIX}${randomToken(32)}`;
    return {
      raw,
      record: { hash: sha256Hex(raw), familyId, issuedAt: now, supersededAt: null, successorHash: null, discardedAt: null },
    };
  }

  protected signAccessToken(family: FamilyRecord, now: number): string {
    const iat = Math.floor(now / 1000);
    const claims: AccessTokenClaims = {
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: family.userId,
      client_id: family.clientId,
      fam: family.id,
      jti: randomUUID(),
      iat,
      exp: iat + this.accessTokenTtlSeconds,
    };
    // CM-02..04: the marker is persisted on the family and stamped on every access token of it.
    if (family.marker === 'Cli') claims.EksoClient = 'Cli';
    return signHs256({ ...claims }, this.jwtSecret);
  }

  protected tokenPair(family: FamilyRecord, refreshToken: string, now: number): TokenPair {
    return {
      access_token: this.signAccessToken(family, now),
      token_type: 'Bearer',
      expires_in: this.accessTokenTtlSeconds,
      refresh_token: refreshToken,
    };
  }

  /** Starts a new family (device flow → `Cli`, authorization code → `Web`). */
  protected async issueFamily(userId: string, clientId: string, marker: FamilyMarker, now: number, familyId: string = randomUUID()): Promise<TokenPair> {
    const first = this.newRefreshToken(now, familyId);
    const family: FamilyRecord = {
      id: familyId,
      userId,
      clientId,
      marker,
      createdAt: now,
      currentHash: first.record.hash,
      revokedAt: null,
      revokedReason: null,
    };
    await this.store.insertFamily(family, first.record);
    return this.tokenPair(family, first.raw, now);
  }

  /** RT-08: a family is bound to the client it was issued to. */
  protected isClientBound(family: FamilyRecord, clientId: string): boolean {
    return family.clientId === clientId;
  }

  /** RT-09: the idle window starts when the token was issued, i.e. at the last rotation. */
  protected isWithinIdleWindow(token: RefreshTokenRecord, _family: FamilyRecord, now: number): boolean {
    return now - token.issuedAt < this.refreshIdleWindowSeconds * 1000;
  }

  protected graceWindowMs(): number {
    return this.refreshPolicy.kind === 'grace' ? this.refreshPolicy.seconds * 1000 : 0;
  }

  /** The atomic check-and-mark of a rotation (RT-03, RT-07): one store call, no await inside. */
  protected consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number): Promise<ConsumeResult> {
    return this.store.consumeRefreshToken(hash, successor, now, this.graceWindowMs());
  }

  /** RT-04, RT-05: a replay revokes the whole family (its refresh and access tokens). */
  protected async onReplayDetected(family: FamilyRecord, _token: RefreshTokenRecord, now: number): Promise<void> {
    await this.store.revokeFamily(family.id, now, 'replay');
  }

  /** The refresh_token grant: the rotation transaction (RT-01, RT-03, RT-04, RT-08, RT-09, RT-10). */
  protected async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const fail = (description: string): TokenOutcome => ({ ok: false, status: 400, error: 'invalid_grant', description });
    if (!REFRESH_RE.test(presented)) return fail('unknown refresh token');
    const hash = sha256Hex(presented);
    const token = await this.store.getRefreshToken(hash);
    const family = token && (await this.store.getFamily(token.familyId));
    if (!token || !family) return fail('unknown refresh token');
    // Choice: a token presented by another client is refused before anything else and is
    // neither rotated, consumed nor treated as a replay (RT-08): the other client cannot use
    // it, and the rightful client keeps its session.
    if (!this.isClientBound(family, clientId)) return fail('refresh token was issued to another client');
    if (family.revokedAt !== null) return fail('refresh token revoked');
    const now = this.clock.now();
    // Only the current token can idle out; a superseded one is judged as a replay below.
    if (family.currentHash === token.hash && !this.isWithinIdleWindow(token, family, now)) return fail('refresh token expired');

    const successor = this.newRefreshToken(now, family.id);
    const result = await this.consumeRefreshToken(hash, successor.record, now);
    switch (result.kind) {
      case 'rotated':
      case 'grace':
        return { ok: true, pair: this.tokenPair(result.family, successor.raw, now) };
      case 'replay':
        await this.onReplayDetected(result.family, result.token, now);
        return fail('refresh token reused: the session was revoked');
      case 'family-revoked':
        return fail('refresh token revoked');
      default:
        return fail('unknown refresh token');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Device flow (DF-*)

  protected newUserCode(): string {
    const bytes = randomBytes(8);
    let code = '';
    for (const byte of bytes) code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    return code;
  }

  /** RFC 8628 §6.1: case-insensitive, punctuation ignored. */
  protected normalizeUserCode(input: string): string {
    return input.toUpperCase().replace(/[^A-Z0-9]/g, '');
  }

  protected formatUserCode(code: string): string {
    return `${code.slice(0, 4)}-${code.slice(4)}`;
  }

  protected async startDeviceAuthorization(clientId: string): Promise<DeviceAuthorization> {
    const now = this.clock.now();
    let userCode = this.newUserCode();
    // User codes are short: redraw while a live request holds the same one.
    for (let i = 0; i < 10; i++) {
      const existing = await this.store.getDeviceCodeByUserCode(userCode);
      if (!existing || now >= existing.expiresAt) break;
      userCode = this.newUserCode();
    }
    const deviceCode = `${DEVICE_PREFIX}${randomToken(32)}`;
    await this.store.insertDeviceCode({
      hash: sha256Hex(deviceCode),
      userCode,
      clientId,
      createdAt: now,
      expiresAt: now + this.deviceCodeTtlSeconds * 1000,
      status: 'pending',
      userId: null,
      familyId: null,
    });
    return { deviceCode, userCode: this.formatUserCode(userCode), expiresIn: this.deviceCodeTtlSeconds, interval: this.deviceIntervalSeconds };
  }

  /** The device_code grant: pending / denied / expired / once only (DF-02, DF-03). */
  protected async redeemDeviceCode(deviceCode: string, clientId: string): Promise<TokenOutcome> {
    const fail = (error: string, description: string): TokenOutcome => ({ ok: false, status: 400, error, description });
    const hash = sha256Hex(deviceCode);
    const record = await this.store.getDeviceCode(hash);
    if (!record) return fail('invalid_grant', 'unknown device code');
    if (record.clientId !== clientId) return fail('invalid_grant', 'device code was issued to another client');
    const now = this.clock.now();
    const familyId = randomUUID();
    const claim = await this.store.claimDeviceCode(hash, now, familyId);
    switch (claim.kind) {
      case 'pending':
        return fail('authorization_pending', 'the user has not acted yet');
      case 'denied':
        return fail('access_denied', 'the user denied the request');
      case 'expired':
        return fail('expired_token', 'the device code has expired');
      case 'redeemed':
        return fail('invalid_grant', 'the device code was already redeemed');
      case 'claimed': {
        const userId = claim.record.userId;
        if (!userId) return fail('invalid_grant', 'the device code has no approving user');
        return { ok: true, pair: await this.issueFamily(userId, clientId, 'Cli', now, familyId) };
      }
      default:
        return fail('invalid_grant', 'unknown device code');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Authorization code + PKCE (Web families)

  protected async createAuthorizationCode(clientId: string, redirectUri: string, codeChallenge: string, userId: string): Promise<string> {
    const code = `${AUTH_CODE_PREFIX}${randomToken(32)}`;
    const now = this.clock.now();
    await this.store.insertAuthorizationCode({
      hash: sha256Hex(code),
      clientId,
      redirectUri,
      codeChallenge,
      userId,
      createdAt: now,
      expiresAt: now + AUTH_CODE_TTL_MS,
      usedAt: null,
      familyId: null,
    });
    return code;
  }

  /** RFC 7636 §4.6, S256 only. */
  protected verifyPkce(verifier: string, challenge: string): boolean {
    if (!PKCE_VERIFIER_RE.test(verifier)) return false;
    const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
    return stringsEqualConstantTime(computed, challenge);
  }

  protected async exchangeAuthorizationCode(code: string, verifier: string, clientId: string, redirectUri: string): Promise<TokenOutcome> {
    const fail = (description: string): TokenOutcome => ({ ok: false, status: 400, error: 'invalid_grant', description });
    const hash = sha256Hex(code);
    const record = await this.store.getAuthorizationCode(hash);
    if (!record) return fail('unknown authorization code');
    // Choice: a code presented by the wrong client or with the wrong redirect_uri is refused
    // without consuming it (as for refresh tokens, RT-08) ...
    if (record.clientId !== clientId) return fail('authorization code was issued to another client');
    if (record.redirectUri !== redirectUri) return fail('redirect_uri does not match the authorization request');
    const now = this.clock.now();
    const familyId = randomUUID();
    const claim = await this.store.claimAuthorizationCode(hash, now, familyId);
    if (claim.kind === 'reused') {
      // RFC 6749 §4.1.2: a code used twice revokes what was issued from it.
      if (claim.record.familyId) await this.store.revokeFamily(claim.record.familyId, now, 'authorization code reused');
      return fail('authorization code already used');
    }
    if (claim.kind !== 'claimed') return fail(claim.kind === 'expired' ? 'authorization code expired' : 'unknown authorization code');
    // ... but a wrong verifier burns it: the code is single-use, and a guesser gets one try.
    if (!this.verifyPkce(verifier, claim.record.codeChallenge)) return fail('code_verifier does not match the code_challenge');
    return { ok: true, pair: await this.issueFamily(claim.record.userId, clientId, 'Web', now, familyId) };
  }

  // ---------------------------------------------------------------------------------------------
  // OAuth endpoints

  protected async handleDiscovery(ctx: RequestContext): Promise<void> {
    const base = ctx.baseUrl;
    const metadata: Record<string, unknown> = {
      // Choice: the RFC 8414 issuer is the base URL (it must be an https/http URL), while the
      // JWT `iss` claim stays the install-wide constant `Ekso` documented by Ekso.
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      device_authorization_endpoint: `${base}/device_authorization`,
      registration_endpoint: `${base}/register`,
      grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    };
    if (this.testHooks && this.advertiseTestHooks) metadata.ekso_conformance_test_hooks = '/__conformance';
    sendJson(ctx.res, 200, metadata);
  }

  /**
   * Resolves the client of a token or device-authorization request. Choice: `client_id` is
   * required (public clients identify themselves, RFC 6749 §3.2.1); missing → 400
   * invalid_request, unknown → 401 invalid_client.
   */
  protected async resolveClient(ctx: RequestContext, params: Map<string, string>): Promise<string | null> {
    const clientId = params.get('client_id');
    if (!clientId) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'client_id is required');
      return null;
    }
    if (!(await this.store.getClient(clientId))) {
      this.sendOAuthError(ctx, 401, 'invalid_client', 'unknown client');
      return null;
    }
    return clientId;
  }

  protected sendTokenOutcome(ctx: RequestContext, outcome: TokenOutcome): void {
    if (outcome.ok) sendJson(ctx.res, 200, outcome.pair, this.tokenResponseHeaders());
    else this.sendOAuthError(ctx, outcome.status, outcome.error, outcome.description);
  }

  protected async handleToken(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const params = form.params;
    const grantType = params.get('grant_type');
    if (!grantType) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'grant_type is required');
      return;
    }
    if (grantType !== 'refresh_token' && grantType !== DEVICE_GRANT && grantType !== 'authorization_code') {
      this.sendOAuthError(ctx, 400, 'unsupported_grant_type', 'grant type not supported');
      return;
    }
    const clientId = await this.resolveClient(ctx, params);
    if (!clientId) return;

    if (grantType === 'refresh_token') {
      const refreshToken = params.get('refresh_token');
      if (!refreshToken) {
        this.sendOAuthError(ctx, 400, 'invalid_request', 'refresh_token is required');
        return;
      }
      this.sendTokenOutcome(ctx, await this.rotateRefreshToken(refreshToken, clientId));
    } else if (grantType === DEVICE_GRANT) {
      const deviceCode = params.get('device_code');
      if (!deviceCode) {
        this.sendOAuthError(ctx, 400, 'invalid_request', 'device_code is required');
        return;
      }
      this.sendTokenOutcome(ctx, await this.redeemDeviceCode(deviceCode, clientId));
    } else {
      const code = params.get('code');
      const verifier = params.get('code_verifier');
      const redirectUri = params.get('redirect_uri');
      if (!code || !verifier || !redirectUri) {
        const missing = !code ? 'code' : !verifier ? 'code_verifier' : 'redirect_uri';
        this.sendOAuthError(ctx, 400, 'invalid_request', `${missing} is required`);
        return;
      }
      this.sendTokenOutcome(ctx, await this.exchangeAuthorizationCode(code, verifier, clientId, redirectUri));
    }
  }

  protected async handleDeviceAuthorization(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const clientId = await this.resolveClient(ctx, form.params);
    if (!clientId) return;
    const started = await this.startDeviceAuthorization(clientId);
    const verificationUri = `${ctx.baseUrl}/auth/device`;
    sendJson(ctx.res, 200, {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(started.userCode)}`,
      expires_in: started.expiresIn,
      interval: started.interval,
    });
  }

  /** The verification page a person would open; approval itself goes through the test hook. */
  protected async handleDevicePage(ctx: RequestContext): Promise<void> {
    const code = ctx.url.searchParams.get('user_code') ?? '';
    const shown = escapeHtml(code.slice(0, 32));
    sendHtml(
      ctx.res,
      200,
      `<!doctype html><html><head><meta charset="utf-8"><title>Ekso device sign-in</title></head><body>` +
        `<h1>Sign in a device</h1><p>Enter the code shown on your device.</p>` +
        `<form method="get" action="/auth/device"><input name="user_code" value="${shown}" autocomplete="off">` +
        `<button type="submit">Continue</button></form>` +
        `<p>This is the Ekso reference backend: it has no login page. Requests are approved or denied ` +
        `through <code>POST /__conformance/device/approve</code> when test hooks are enabled.</p></body></html>`,
    );
  }

  /** Checks a redirect URI against the client (exact match when it registered some). */
  protected isRedirectUriAllowed(client: { redirectUris: string[] }, redirectUri: string): boolean {
    if (client.redirectUris.length > 0) return client.redirectUris.includes(redirectUri);
    // Choice: the built-in public clients have no registered redirect URIs; any absolute
    // http(s) URI without a fragment is accepted, and the code is bound to it (RFC 6749 §4.1.3).
    try {
      const url = new URL(redirectUri);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && redirectUri.length <= 2000;
    } catch {
      return false;
    }
  }

  /** `GET /authorize`: response_type=code with PKCE S256 only; answers 302 to redirect_uri. */
  protected async handleAuthorize(ctx: RequestContext): Promise<void> {
    const query = ctx.url.searchParams;
    const single = (name: string): string | undefined => {
      const values = query.getAll(name);
      return values.length === 1 ? values[0] : values.length === 0 ? undefined : '\u0000duplicate';
    };
    const clientId = single('client_id');
    const redirectUri = single('redirect_uri');
    // RFC 6749 §4.1.2.1: without a trustworthy client and redirect URI, never redirect.
    if (!clientId || clientId.includes('\u0000')) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'client_id is required once');
      return;
    }
    const client = await this.store.getClient(clientId);
    if (!client) {
      this.sendOAuthError(ctx, 401, 'invalid_client', 'unknown client');
      return;
    }
    if (!redirectUri || redirectUri.includes('\u0000') || !this.isRedirectUriAllowed(client, redirectUri)) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'redirect_uri missing or not allowed for this client');
      return;
    }
    const state = single('state');
    const redirect = (params: Record<string, string>): void => {
      const target = new URL(redirectUri);
      for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
      if (state !== undefined && !state.includes('\u0000')) target.searchParams.set('state', state);
      sendEmpty(ctx.res, 302, { Location: target.toString() });
    };
    const responseType = single('response_type');
    if (responseType !== 'code') {
      redirect({ error: responseType ? 'unsupported_response_type' : 'invalid_request', error_description: 'response_type must be code' });
      return;
    }
    const challenge = single('code_challenge');
    const method = single('code_challenge_method');
    // PKCE is mandatory and S256 only: `plain` or a missing method/challenge is refused.
    if (method !== 'S256' || !challenge || !PKCE_CHALLENGE_RE.test(challenge)) {
      redirect({ error: 'invalid_request', error_description: 'PKCE with code_challenge_method=S256 is required' });
      return;
    }
    // The reference has no login page: with test hooks on, `login_hint` names the signed-in
    // user; otherwise nobody can be signed in.
    const hint = single('login_hint');
    const user = this.testHooks ? USERS.find((u) => u.id === hint) : undefined;
    if (!user) {
      redirect({ error: 'login_required', error_description: 'no signed-in user' });
      return;
    }
    const code = await this.createAuthorizationCode(clientId, redirectUri, challenge, user.id);
    redirect({ code });
  }

  /** RFC 7591 dynamic registration of public clients (the endpoint discovery advertises). */
  protected async handleRegister(ctx: RequestContext): Promise<void> {
    const type = mediaType(ctx.req);
    if (type !== 'application/json') {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'expected an application/json body');
      return;
    }
    const body = await readBody(ctx.req);
    if (!body.ok) {
      if (body.reason === 'too-large') this.payloadTooLarge(ctx);
      else ctx.res.destroy();
      return;
    }
    const parsed = parseJson(body.bytes);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'the body must be a JSON object');
      return;
    }
    const meta = parsed.value;
    const uris = meta.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10 || !uris.every((u) => typeof u === 'string' && this.isRedirectUriAllowed({ redirectUris: [] }, u))) {
      this.sendOAuthError(ctx, 400, 'invalid_redirect_uri', 'redirect_uris must list 1 to 10 absolute http(s) URIs');
      return;
    }
    const authMethod = meta.token_endpoint_auth_method;
    if (authMethod !== undefined && authMethod !== 'none') {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'only public clients (token_endpoint_auth_method "none") are supported');
      return;
    }
    const name = typeof meta.client_name === 'string' ? meta.client_name.slice(0, 200) : 'dynamic client';
    const now = this.clock.now();
    const clientId = `dyn_${randomToken(12)}`;
    await this.store.insertClient({ id: clientId, name, redirectUris: uris as string[], dynamic: true, createdAt: now });
    sendJson(ctx.res, 201, {
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      client_name: name,
      redirect_uris: uris,
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Fields and the marker gate (CM-*)

  protected listFieldView(field: ListFieldRecord): Record<string, unknown> {
    return {
      id: field.id,
      name: field.name,
      description: field.description,
      isCore: field.isCore,
      multiSelect: field.multiSelect,
      data: field.data.map((v) => ({ id: v.id, name: v.name })),
      defaultValue: field.defaultValue,
    };
  }

  /**
   * CM-01..03, CM-05: metadata updates of core fields are for `Web` only; list values may be
   * updated by every marker.
   */
  protected isMarkerGated(field: ListFieldRecord, marker: Marker, operation: FieldOperation): boolean {
    return operation === 'metadata' && field.isCore && marker !== 'Web';
  }

  /** Merges a validated metadata update into the stored field (isCore and id never change). */
  protected applyFieldUpdate(stored: ListFieldRecord, update: ListFieldUpdate): ListFieldRecord {
    return {
      ...stored,
      name: update.name,
      description: update.description ?? stored.description,
      multiSelect: update.multiSelect ?? stored.multiSelect,
      data: update.data ?? stored.data,
      defaultValue: update.defaultValue !== undefined ? update.defaultValue : update.data ? null : stored.defaultValue,
    };
  }

  protected async handleGetFields(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const fields = await this.store.getFields();
    sendJson(ctx.res, 200, {
      typeList: fields.typeList.map((f) => this.listFieldView(f)),
      typeText: fields.typeText.map((f) => ({ ...f })),
      // Choice: the other documented groups are present and empty, to mirror the collection.
      typeDate: [],
      typeDecimal: [],
      typeInteger: [],
    });
  }

  /** Validates `data` (+ `defaultValue`) of a list field; `fields` collects the errors. */
  protected validateListData(data: unknown, defaultValue: unknown, fields: FieldError[], dataRequired: boolean): { data?: ListValue[]; defaultValue?: string | null } {
    const out: { data?: ListValue[]; defaultValue?: string | null } = {};
    if (data === undefined || data === null) {
      if (dataRequired) fields.push({ field: 'data', code: 'required' });
    } else if (!Array.isArray(data) || data.length > 500) {
      fields.push({ field: 'data', code: 'invalid' });
    } else {
      const values: ListValue[] = [];
      const seen = new Set<string>();
      data.forEach((entry: unknown, index) => {
        if (!isPlainObject(entry) || typeof entry.id !== 'string' || entry.id.trim() === '' || entry.id.length > 100) {
          fields.push({ field: `data[${index}].id`, code: 'invalid' });
          return;
        }
        if (typeof entry.name !== 'string' || entry.name.trim() === '' || entry.name.length > 200) {
          fields.push({ field: `data[${index}].name`, code: 'invalid' });
          return;
        }
        if (seen.has(entry.id)) {
          fields.push({ field: `data[${index}].id`, code: 'duplicate' });
          return;
        }
        seen.add(entry.id);
        values.push({ id: entry.id, name: entry.name });
      });
      out.data = values;
    }
    if (defaultValue !== undefined) {
      // Choice: '' means "no default" as in Ekso's docs; it is normalised to null.
      if (defaultValue === null || defaultValue === '') out.defaultValue = null;
      else if (typeof defaultValue !== 'string') fields.push({ field: 'defaultValue', code: 'invalid' });
      else out.defaultValue = defaultValue;
    }
    return out;
  }

  protected async handleUpdateListField(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    if (typeof value.id !== 'string' || value.id === '') {
      this.sendValidation(ctx, [{ field: 'id', code: 'required' }]);
      return;
    }
    const stored = await this.store.getListField(value.id);
    if (!stored) {
      this.sendError(ctx, 422, 'Logic', 'No list field has that id');
      return;
    }
    // Choice: the gate is decided on the *stored* field before the rest of the body is
    // validated: a refused caller changes nothing and learns nothing (CM-06), and a body
    // claiming `isCore: false` cannot open the gate.
    if (this.isMarkerGated(stored, principal.marker, 'metadata')) {
      this.sendError(ctx, 403, 'Permission', 'System fields cannot be changed from the CLI or the SDK');
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.name !== 'string' || value.name.trim() === '') fields.push({ field: 'name', code: 'required' });
    else if (value.name.length > 100) fields.push({ field: 'name', code: 'tooLong' });
    if (value.description !== undefined && value.description !== null && typeof value.description !== 'string') fields.push({ field: 'description', code: 'invalid' });
    if (value.multiSelect !== undefined && typeof value.multiSelect !== 'boolean') fields.push({ field: 'multiSelect', code: 'invalid' });
    // Choice: isCore is owned by the server; sending a different value is refused, not ignored.
    if (value.isCore !== undefined && value.isCore !== stored.isCore) fields.push({ field: 'isCore', code: 'readOnly' });
    const list = this.validateListData(value.data, value.defaultValue, fields, false);
    const effectiveData = list.data ?? stored.data;
    if (typeof list.defaultValue === 'string' && !effectiveData.some((v) => v.id === list.defaultValue)) fields.push({ field: 'defaultValue', code: 'notInData' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const update: ListFieldUpdate = { name: (value.name as string).trim() };
    if (typeof value.description === 'string') update.description = value.description;
    else if (value.description === null) update.description = '';
    if (typeof value.multiSelect === 'boolean') update.multiSelect = value.multiSelect;
    if (list.data) update.data = list.data;
    if (list.defaultValue !== undefined) update.defaultValue = list.defaultValue;
    const updated = this.applyFieldUpdate(stored, update);
    await this.store.putListField(updated);
    sendJson(ctx.res, 200, this.listFieldView(updated));
  }

  protected async handleUpdateListData(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.id !== 'string' || value.id === '') fields.push({ field: 'id', code: 'required' });
    const list = this.validateListData(value.data, value.defaultValue, fields, true);
    if (typeof list.defaultValue === 'string' && list.data && !list.data.some((v) => v.id === list.defaultValue)) {
      fields.push({ field: 'defaultValue', code: 'notInData' });
    }
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const stored = await this.store.getListField(value.id as string);
    if (!stored) {
      this.sendError(ctx, 422, 'Logic', 'No list field has that id');
      return;
    }
    if (this.isMarkerGated(stored, principal.marker, 'data')) {
      this.sendError(ctx, 403, 'Permission', 'This field cannot be changed by this client');
      return;
    }
    // Whole-array replace; everything else is preserved from the stored record.
    const updated: ListFieldRecord = { ...stored, data: list.data ?? [], defaultValue: list.defaultValue ?? null };
    await this.store.putListField(updated);
    sendJson(ctx.res, 200, this.listFieldView(updated));
  }

  // ---------------------------------------------------------------------------------------------
  // Test hooks (CONTRACT §4). Choice: hook errors use the `/api` body shape {kind, message, fields?}.

  protected readonly hookUsers: readonly string[] = USERS.map((u) => u.id);

  protected async hookToken(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    const fields: FieldError[] = [];
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const marker = value.marker;
    if (marker !== 'Cli' && marker !== 'Web') fields.push({ field: 'marker', code: 'invalid' });
    const user = value.user ?? 'admin';
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    const requested = value.client_id;
    if (requested !== undefined && (typeof requested !== 'string' || !(await this.store.getClient(requested)))) fields.push({ field: 'client_id', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const userId = user as string;
    const clientId = typeof requested === 'string' ? requested : marker === 'Cli' ? 'ekso-cli' : 'ekso-web';
    let outcome: TokenOutcome;
    if (marker === 'Cli') {
      // Through the same code paths as a real device flow: start, approve, redeem.
      const started = await this.startDeviceAuthorization(clientId);
      const decision = await this.store.decideDeviceCode(this.normalizeUserCode(started.userCode), 'approve', userId, this.clock.now());
      if (decision !== 'approved') throw new Error(`device approval failed: ${decision}`);
      outcome = await this.redeemDeviceCode(started.deviceCode, clientId);
    } else {
      // Through the same code paths as a real authorization-code flow with PKCE S256.
      const verifier = randomToken(48);
      const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
      const redirectUri = `${ctx.baseUrl}/__conformance/callback`;
      const code = await this.createAuthorizationCode(clientId, redirectUri, challenge, userId);
      outcome = await this.exchangeAuthorizationCode(code, verifier, clientId, redirectUri);
    }
    if (!outcome.ok) throw new Error(`token hook failed: ${outcome.error}`);
    sendJson(ctx.res, 200, outcome.pair, this.tokenResponseHeaders());
  }

  protected async hookDeviceApprove(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.user_code !== 'string' || value.user_code.trim() === '') fields.push({ field: 'user_code', code: 'required' });
    if (value.decision !== 'approve' && value.decision !== 'deny') fields.push({ field: 'decision', code: 'invalid' });
    const user = value.user ?? 'admin';
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const result = await this.store.decideDeviceCode(
      this.normalizeUserCode(value.user_code as string),
      value.decision as 'approve' | 'deny',
      user as string,
      this.clock.now(),
    );
    if (result === 'approved' || result === 'denied') {
      sendJson(ctx.res, 200, { status: result });
      return;
    }
    const message = result === 'unknown' ? 'No device request has that user code' : result === 'expired' ? 'The device request has expired' : 'The device request was already decided';
    this.sendError(ctx, 422, 'Logic', message);
  }

  protected async hookClock(ctx: RequestContext): Promise<void> {
    if (!this.clockHook) {
      this.sendNotFound(ctx);
      return;
    }
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    const advance = isPlainObject(value) ? value.advanceMs : undefined;
    if (typeof advance !== 'number' || !Number.isFinite(advance) || advance < 0 || advance > 10 * 365 * 86_400_000) {
      this.sendValidation(ctx, [{ field: 'advanceMs', code: 'invalid' }], 'advanceMs must be a non-negative number of milliseconds');
      return;
    }
    this.clock.advance(advance);
    sendJson(ctx.res, 200, { now: new Date(this.clock.now()).toISOString() });
  }

  protected async hookApiKey(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    const user = value.user;
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    const name = value.name ?? 'conformance key';
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) fields.push({ field: 'name', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const { record, rawKey } = await this.mintApiKey(user as string, (name as string).trim(), null, this.clock.now());
    sendJson(ctx.res, 200, { id: record.id, rawKey });
  }
}
