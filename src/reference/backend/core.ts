/**
 * The reference backend's core: options and seeding, the server's lifecycle, routing (to the
 * endpoint groups of the subclasses), responses, request bodies, authentication and the API-key
 * primitives the bootstrap keys need. The endpoint groups build on it, one class per file:
 * api-keys.ts → tokens.ts → oauth-endpoints.ts → fields.ts → backend.ts (test hooks, the final
 * `ReferenceBackend`). Every decision is a `protected` method a mutant can override.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { SystemClock, type Clock } from './clock.js';
import { InMemoryBackendStore, type ApiKeyRecord, type BackendStore, type Marker } from './store.js';
import { verifyHs256, type JwtPayload, type JwtVerifyResult } from './jwt.js';
import { MAX_BODY_BYTES, declaresTooLarge, mediaType, parseForm, parseJson, readBody, sendJson } from './http-util.js';
import { SlidingWindowRateLimiter } from './rate-limit.js';
import { seedData } from './seed.js';
import type { AccessTokenCheck, AccessTokenClaims, ApiKeyUsability, Area, AuthResult, BootstrapKeys, Credential, ErrorKind, FieldError, Handler, Principal, ReferenceBackendOptions, RefreshPolicy, Rejection, RequestContext, Route } from './types.js';
import { API_KEY_PREFIX, API_KEY_RE, JWT_ISSUER, JWT_AUDIENCE, HOST_RE, sha256Hex, randomToken } from './shared.js';

export abstract class BackendCore {
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
  protected readonly listRevokedKeys: boolean;
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
    this.listRevokedKeys = options.listRevokedKeys ?? false;
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


  // The endpoints, implemented by the endpoint groups (the subclasses).
  protected abstract handleDiscovery(ctx: RequestContext): Promise<void>;
  protected abstract handleToken(ctx: RequestContext): Promise<void>;
  protected abstract handleDeviceAuthorization(ctx: RequestContext): Promise<void>;
  protected abstract handleAuthorize(ctx: RequestContext): Promise<void>;
  protected abstract handleRegister(ctx: RequestContext): Promise<void>;
  protected abstract handleDevicePage(ctx: RequestContext): Promise<void>;
  protected abstract handleListKeys(ctx: RequestContext): Promise<void>;
  protected abstract handleMintKey(ctx: RequestContext): Promise<void>;
  protected abstract handleRevokeKey(ctx: RequestContext): Promise<void>;
  protected abstract handleGetFields(ctx: RequestContext): Promise<void>;
  protected abstract handleUpdateListField(ctx: RequestContext): Promise<void>;
  protected abstract handleUpdateListData(ctx: RequestContext): Promise<void>;
  protected abstract hookToken(ctx: RequestContext): Promise<void>;
  protected abstract hookDeviceApprove(ctx: RequestContext): Promise<void>;
  protected abstract hookClock(ctx: RequestContext): Promise<void>;
  protected abstract hookApiKey(ctx: RequestContext): Promise<void>;

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
}
