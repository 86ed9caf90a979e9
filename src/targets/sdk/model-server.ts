/**
 * The model server of SDK mode: an Ekso-like backend under the harness's full control (the
 * harness is the server). It issues token families and API keys, records every request — which
 * bearer, which refresh token, when on the shared timeline — flags any presentation of a
 * superseded refresh token, and injects faults on demand (a 401 on a chosen call, invalid_grant,
 * 429 with Retry-After, validation bodies, 500, delays, resets, hangs).
 *
 * It records facts and never judges: the checks read `requests` and decide.
 *
 * The core is `handle(request)`, a promise-only function (no timers unless a delay or hang fault
 * asks for one), so that in-process adapters can be driven through it with fast-check's
 * scheduler deterministically; `listen()` puts the same core behind a real HTTP server on
 * 127.0.0.1 for stdio adapters.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Redactor } from '../../engine/redact.js';
import { DISCARD, type ExchangeSink } from '../../engine/transcript.js';

/** The harness's timeline (epoch ms), shared with adapters that have the clock capability. */
export class HarnessClock {
  private offset = 0;
  private frozenAt: number | null = null;

  /** From now on, virtual time that moves only with `advance` (deterministic in-process runs). */
  freeze(): void {
    this.frozenAt ??= Date.now();
  }

  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface ServerRequest {
  method: string;
  /** Absolute URL. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /**
   * Whether the client had already received the rotation of the refresh token this request
   * presents when it sent the request (in-process, known at the fetch call; over HTTP, the
   * arrival stands for the send).
   */
  rotationSeenAtSend?: boolean;
}

export interface ServerResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a fault does to the next matching request. */
export type FaultAction =
  | {
      kind: 'status';
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      /** A `Retry-After` HTTP date this many seconds after the moment the fault fires (rounded up to a whole second). */
      retryAfterDateInSeconds?: number;
    }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export interface Fault {
  on: 'api' | 'token';
  action: FaultAction;
  /** How many matching requests it applies to (Infinity: all). */
  times: number;
  /** Only requests presenting this bearer / refresh token (else any). */
  credential?: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms on the harness timeline. */
  expiresAt: number;
}

export interface RecordedRequest {
  seq: number;
  /** Harness time at arrival. */
  at: number;
  kind: 'api' | 'token' | 'other';
  method: string;
  host: string;
  path: string;
  authorization?: string;
  bearer?: string;
  contentType?: string;
  form?: Record<string, string>;
  /** The family / generation of the presented credential, if the server knows it. */
  family?: string;
  generation?: number;
  /** A refresh token older than the family's current one was presented. */
  superseded?: boolean;
  /** A refresh token the server had refused before (invalid_grant) was presented again. */
  refusedBefore?: boolean;
  /**
   * For a superseded refresh token: whether the answer of the rotation that superseded it had
   * reached the client before it sent this request. True: it reused a token it knew was rotated
   * (SDK-07). False: the rotation was still in flight — two refreshes overlapped (SDK-06).
   */
  rotationSeen?: boolean;
  /**
   * Whether `rotationSeen` is certain: in-process the server sees the moment the SDK sends. Over
   * HTTP it only sees arrival: a request arriving just after the rotation's answer was written may
   * well have been sent before the SDK read that answer, so `true` there means "perhaps".
   */
  rotationSeenExact?: boolean;
  /** The presented access token had expired at arrival. */
  expired?: boolean;
  /** How much lifetime the presented access token had left at arrival (ms). */
  remainingMs?: number;
  apiKey?: string;
  fault?: FaultAction['kind'];
  status?: number;
  /** Tokens issued by a successful refresh. */
  issued?: IssuedTokens;
  /** Harness time when the answer was handed to the client (for a rotation: when the SDK could first hold its tokens). */
  deliveredAt?: number;
  outcome?: 'ok' | 'rotated' | 'refused' | 'unauthorized' | 'fault';
}

interface Family {
  id: string;
  clientId: string;
  accessTtlMs: number;
  refresh: string[];
  access: Array<{ token: string; expiresAt: number }>;
  revoked: boolean;
}

const b64 = () => randomBytes(32).toString('base64url');

/** The largest request body the model server reads (an SDK's token and API requests are tiny). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export class ModelServer {
  readonly requests: RecordedRequest[] = [];
  private readonly families = new Map<string, Family>();
  private readonly byRefresh = new Map<string, { family: Family; generation: number }>();
  private readonly byAccess = new Map<string, { family: Family; generation: number }>();
  private readonly apiKeys = new Map<string, { revoked: boolean }>();
  private readonly refused = new Set<string>();
  /** Refresh tokens whose rotation answer has been delivered to the client. */
  private readonly rotationsDelivered = new Set<string>();
  private faults: Fault[] = [];
  private seq = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  baseUrl = 'http://127.0.0.1:0';
  /** Where exchanges are recorded (redacted) for the report's transcript. */
  sink: ExchangeSink = DISCARD;
  tokenPath = '/token';

  constructor(
    readonly clock: HarnessClock,
    private readonly redactor: Redactor,
  ) {}

  get tokenEndpoint(): string {
    return `${this.baseUrl}${this.tokenPath}`;
  }

  /** Next value of the shared event sequence (requests, notifications, completions). */
  nextSeq(): number {
    return ++this.seq;
  }

  // ---- issuing ---------------------------------------------------------------------------

  /**
   * A new family whose access tokens live `accessTtlMs`; `initialExpiresAt` backdates (or
   * postpones) the first access token's expiry, as for tokens an application kept from before.
   */
  issueFamily(clientId: string, accessTtlMs: number, initialExpiresAt?: number): IssuedTokens & { family: string } {
    const family: Family = { id: `fam-${this.families.size + 1}`, clientId, accessTtlMs, refresh: [], access: [], revoked: false };
    this.families.set(family.id, family);
    return { family: family.id, ...this.extend(family, initialExpiresAt) };
  }

  private extend(family: Family, expiresAtOverride?: number): IssuedTokens {
    const refreshToken = `rt_${b64()}`;
    const accessToken = `at_${b64()}`;
    const expiresAt = expiresAtOverride ?? this.clock.now() + family.accessTtlMs;
    family.refresh.push(refreshToken);
    family.access.push({ token: accessToken, expiresAt });
    const generation = family.refresh.length - 1;
    this.byRefresh.set(refreshToken, { family, generation });
    this.byAccess.set(accessToken, { family, generation });
    this.redactor.add(refreshToken);
    this.redactor.add(accessToken);
    return { accessToken, refreshToken, expiresAt };
  }

  issueApiKey(): string {
    const key = `ek_live_${b64()}`;
    this.apiKeys.set(key, { revoked: false });
    this.redactor.add(key);
    return key;
  }

  revokeApiKey(key: string): void {
    const entry = this.apiKeys.get(key);
    if (entry) entry.revoked = true;
  }

  /** Revokes a family server-side (its refresh and access tokens stop working). */
  revokeFamily(id: string): void {
    const family = this.families.get(id);
    if (family) family.revoked = true;
  }

  /** The family's tokens by generation (for judging what the SDK presented). */
  familyState(id: string): { generation: number; refresh: string[]; access: Array<{ token: string; expiresAt: number }>; revoked: boolean } {
    const family = this.families.get(id);
    if (!family) throw new Error(`no family ${id}`);
    return { generation: family.refresh.length - 1, refresh: [...family.refresh], access: [...family.access], revoked: family.revoked };
  }

  // ---- faults ----------------------------------------------------------------------------

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  private takeFault(on: 'api' | 'token', credential: string | undefined): FaultAction | undefined {
    const index = this.faults.findIndex((f) => f.on === on && f.times > 0 && (!f.credential || f.credential === credential));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.splice(index, 1);
    return fault.action;
  }

  // ---- the core --------------------------------------------------------------------------

  /** Handles one request; rejects with `ResetFault` when the connection must be reset. */
  async handle(request: ServerRequest): Promise<ServerResponse> {
    const url = new URL(request.url);
    const headers = lowerCase(request.headers);
    // A GET to the token endpoint is recorded as a token request too (its form read from the
    // query), so that SDK-12 judges its method rather than other checks its consequences.
    const isToken = (request.method === 'POST' || request.method === 'GET') && url.pathname === this.tokenPath;
    const kind = isToken ? 'token' : url.pathname.includes('/api') ? 'api' : 'other';
    const record: RecordedRequest = {
      seq: this.nextSeq(),
      at: this.clock.now(),
      kind: isToken ? 'token' : kind,
      method: request.method,
      host: url.host,
      path: url.pathname + url.search,
      ...(headers.authorization ? { authorization: headers.authorization } : {}),
      ...(headers['content-type'] ? { contentType: headers['content-type'] } : {}),
    };
    this.requests.push(record);
    const started = Date.now();
    let response: ServerResponse;
    try {
      response = isToken ? await this.token(record, request.method === 'GET' ? url.search.slice(1) : request.body, request.rotationSeenAtSend) : await this.api(record, headers);
    } catch (error) {
      this.recordExchange(request, started, undefined, (error as Error).message);
      throw error;
    }
    record.status = response.status;
    this.recordExchange(request, started, response);
    return response;
  }

  private async applyFault(record: RecordedRequest, action: FaultAction | undefined): Promise<ServerResponse | null> {
    if (!action) return null;
    record.fault = action.kind;
    switch (action.kind) {
      case 'delay':
        await new Promise((r) => setTimeout(r, action.ms));
        return null;
      case 'reset':
        record.outcome = 'fault';
        throw new ResetFault();
      case 'hang':
        record.outcome = 'fault';
        return new Promise<ServerResponse>(() => {});
      case 'status': {
        record.outcome = 'fault';
        // Dated when it fires, so that the time the request took to get here does not count.
        const dated: Record<string, string> = action.retryAfterDateInSeconds !== undefined ? { 'retry-after': new Date(Math.ceil((this.clock.now() + action.retryAfterDateInSeconds * 1000) / 1000) * 1000).toUTCString() } : {};
        return json(action.status, action.body ?? {}, { ...action.headers, ...dated });
      }
    }
  }

  private async token(record: RecordedRequest, body: string, rotationSeenAtSend: boolean | undefined): Promise<ServerResponse> {
    const form = Object.fromEntries(new URLSearchParams(body).entries());
    record.form = form;
    const presented = form.refresh_token;
    const known = presented ? this.byRefresh.get(presented) : undefined;
    if (known) {
      record.family = known.family.id;
      record.generation = known.generation;
      record.superseded = known.generation < known.family.refresh.length - 1;
      if (record.superseded && presented) {
        record.rotationSeen = rotationSeenAtSend ?? this.rotationsDelivered.has(presented);
        // Arrival before the answer was written is certain overlap, even over HTTP.
        record.rotationSeenExact = rotationSeenAtSend !== undefined || !record.rotationSeen;
      }
    }
    if (presented && this.refused.has(presented)) record.refusedBefore = true;
    const faulted = await this.applyFault(record, this.takeFault('token', presented));
    if (faulted) {
      if (faulted.status === 400 && presented) this.refused.add(presented);
      return faulted;
    }
    const refuse = (description: string) => {
      record.outcome = 'refused';
      if (presented) this.refused.add(presented);
      return json(400, { error: 'invalid_grant', error_description: description }, { 'cache-control': 'no-store' });
    };
    if (form.grant_type !== 'refresh_token') return json(400, { error: 'unsupported_grant_type' });
    if (!presented || !known) return refuse('unknown refresh token');
    const family = known.family;
    // Choice: the client is identified by `client_id` in the form, else by the user name of HTTP
    // Basic (RFC 6749 §2.3.1), so that an SDK sending its client id that way still rotates and its
    // other requirements get their own verdicts; SDK-12 judges the form on its own (it asks for
    // `client_id` in the form).
    if ((form.client_id ?? basicClientId(record.authorization)) !== family.clientId) return refuse('the refresh token was issued to another client');
    if (family.revoked) return refuse('the family is revoked');
    if (record.superseded) {
      // Ekso's policy: a replay revokes the whole family.
      family.revoked = true;
      return refuse('refresh token reuse detected: the family is revoked');
    }
    const issued = this.extend(family);
    record.issued = issued;
    record.outcome = 'rotated';
    return json(
      200,
      { access_token: issued.accessToken, token_type: 'Bearer', expires_in: Math.floor(family.accessTtlMs / 1000), refresh_token: issued.refreshToken },
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  }

  private async api(record: RecordedRequest, headers: Record<string, string>): Promise<ServerResponse> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (bearer) record.bearer = bearer;
    const access = bearer ? this.byAccess.get(bearer) : undefined;
    if (access) {
      record.family = access.family.id;
      record.generation = access.generation;
      const expiresAt = access.family.access[access.generation]!.expiresAt;
      record.remainingMs = expiresAt - record.at;
      record.expired = record.remainingMs <= 0;
    }
    if (bearer && this.apiKeys.has(bearer)) record.apiKey = bearer;
    const faulted = await this.applyFault(record, this.takeFault('api', bearer));
    if (faulted) return faulted;
    const challenge = (why: string) => {
      record.outcome = 'unauthorized';
      return json(401, { message: 'authentication required' }, { 'www-authenticate': bearer ? `Bearer realm="ekso", error="invalid_token", error_description="${why}"` : 'Bearer realm="ekso"' });
    };
    if (!bearer) return challenge('none');
    const key = this.apiKeys.get(bearer);
    if (key) {
      if (key.revoked) return challenge('revoked');
    } else if (access) {
      if (access.family.revoked) return challenge('revoked');
      if (record.expired) return challenge('expired');
    } else return challenge('invalid');
    record.outcome = 'ok';
    return json(200, { ok: true, method: record.method, path: record.path });
  }

  private recordExchange(request: ServerRequest, started: number, response?: ServerResponse, error?: string): void {
    const r = this.redactor;
    const finished = Date.now();
    this.sink.record(() => ({
      at: new Date(started).toISOString(),
      request: {
        method: request.method,
        url: r.text(request.url),
        headers: r.value(lowerCase(request.headers)),
        ...(request.body ? { body: r.text(request.body) } : {}),
      },
      ...(response ? { response: { status: response.status, headers: r.value(response.headers), body: r.text(response.body) } } : {}),
      ...(error ? { error } : {}),
      durationMs: finished - started,
    }));
  }

  // ---- HTTP ------------------------------------------------------------------------------

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (tooLarge) return;
        if (size <= MAX_REQUEST_BYTES) return void chunks.push(c);
        // An SDK request is never this large: answered 413 and not held (nor recorded) whole.
        tooLarge = true;
        chunks.length = 0;
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ message: `request body over ${MAX_REQUEST_BYTES} bytes` }), () => req.socket.destroy());
      });
      req.on('end', () => {
        if (tooLarge) return;
        const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const index = this.requests.length;
        this.handle({ method: req.method ?? 'GET', url, headers, body: Buffer.concat(chunks).toString('utf8') }).then(
          (response) => {
            res.writeHead(response.status, response.headers);
            res.end(response.body);
            this.delivered(index);
          },
          () => req.socket.destroy(),
        );
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /**
   * A `fetch` that hands requests to `handle` without any network: what in-process adapters get
   * (`createAdapter({fetch, now})`). `schedule`, when set, wraps the arrival and the answer of
   * every request so that fast-check's scheduler decides their order.
   */
  /** The answer to request `index` reached the client: a rotation it carried is now known there. */
  private delivered(index: number): void {
    const record = this.requests[index];
    if (record) record.deliveredAt = this.clock.now();
    if (record?.outcome === 'rotated' && record.form?.refresh_token) this.rotationsDelivered.add(record.form.refresh_token);
  }

  fetchFor(options: { schedule?: () => (<T>(p: Promise<T>, label: string) => Promise<T>) | undefined } = {}): typeof globalThis.fetch {
    return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => (headers[k] = v));
      const body = request.body ? await request.text() : '';
      // Known when the SDK sends, not when the (scheduled) request arrives.
      const presented = new URLSearchParams(request.method === 'GET' ? new URL(request.url).search : body).get('refresh_token');
      const rotationSeenAtSend = presented !== null && this.rotationsDelivered.has(presented);
      const schedule = options.schedule?.();
      const label = `${request.method} ${new URL(request.url).pathname}`;
      const arrive = schedule ? schedule(Promise.resolve(), `arrive ${label}`) : Promise.resolve();
      await arrive;
      if (init?.signal?.aborted) throw abortError();
      const index = this.requests.length;
      const pending = this.handle({ method: request.method, url: request.url, headers, body, rotationSeenAtSend });
      const answered = new Promise<ServerResponse>((resolve, reject) => {
        pending.then(resolve, reject);
        init?.signal?.addEventListener('abort', () => reject(abortError()), { once: true });
      });
      let response: ServerResponse;
      try {
        response = await (schedule ? schedule(answered, `answer ${label}`) : answered);
        this.delivered(index);
      } catch (error) {
        if (error instanceof ResetFault) throw new TypeError('fetch failed', { cause: error });
        throw error;
      }
      return new Response(response.status === 204 ? null : response.body, { status: response.status, headers: response.headers });
    };
  }
}

/** The connection is reset (a transport failure for the SDK). */
export class ResetFault extends Error {
  constructor() {
    super('connection reset by the model server (injected fault)');
  }
}

function abortError(): Error {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): ServerResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function lowerCase(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** The client id of an HTTP Basic `Authorization` header (RFC 6749 §2.3.1: form-encoded user name). */
function basicClientId(authorization: string | undefined): string | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const user = Buffer.from(encoded, 'base64').toString('utf8').split(':')[0] ?? '';
  try {
    return decodeURIComponent(user.replace(/\+/g, ' '));
  } catch {
    return user;
  }
}
