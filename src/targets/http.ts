/**
 * The harness's HTTP client. Every request to a target goes through here, so that every one of
 * them is rate-limited, bounded in time, confined to the allowed origins (H-06), and recorded —
 * redacted — in the transcript of the check that is running (H-01, H-03).
 *
 * It reports what happened and never judges: a 500 is a response like any other; transport
 * failures are thrown as `TransportError` for the engine to turn into `inconclusive`.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Redactor } from '../engine/redact.js';
import { RateLimiter, Semaphore, sleep } from '../engine/limits.js';
import { boundedMemo } from '../engine/memo.js';
import { DISCARD, type ExchangeSink, type RecordedExchange } from '../engine/transcript.js';

export type TransportFailure = 'timeout' | 'reset' | 'refused' | 'dns' | 'tls' | 'aborted' | 'other';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly failure: TransportFailure,
    readonly url: string,
    detail: string,
  ) {
    super(`${failure} on ${url}: ${detail}`);
  }
}

/** A request to a host the harness was not pointed at: a bug, never sent (H-06). */
export class ForeignHostError extends Error {
  override readonly name = 'ForeignHostError';
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Open a new connection for this request (bursts that must really overlap, RT-07). */
  freshConnection?: boolean;
  timeoutMs?: number;
  /** Deliver 429 answers instead of waiting and retrying (the rate-limit check wants them). */
  raw429?: boolean;
  /** Skip the --rate cap (only the opt-in rate-limit check, which must burst, sets this). */
  unthrottled?: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (set-cookie excepted, irrelevant here). */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  durationMs: number;
}

export interface HttpClientOptions {
  redactor: Redactor;
  allowedOrigins: Iterable<string>;
  ratePerSecond?: number | null;
  concurrency?: number;
  timeoutMs?: number;
  /** Upper bound on how long a 429's Retry-After is honoured before retrying. */
  maxRetryAfterMs?: number;
  /**
   * Ends the run's requests (Ctrl-C, `--max-time`): once aborted, requests in flight fail at once
   * and new ones are not sent (TransportError 'aborted'), so a hanging target cannot hold the run.
   */
  signal?: AbortSignal;
  /** Use this rate limiter instead of a new one (see `sibling`). */
  sharedLimiter?: RateLimiter;
  /** Name resolution for the connections (the loopback rule of plain-http targets, H-06). */
  lookup?: typeof import('node:dns').lookup;
}

/**
 * Data events a socket has had: one counting listener per socket for its whole life (a
 * keep-alive socket carries thousands of requests; a listener added and removed for each of them
 * was a measurable part of a request's cost, issue 13).
 */
const DATA_EVENTS = Symbol('ekso-conformance data events');
function dataEventsOf(socket: Duplex): number {
  const counted = socket as Duplex & { [DATA_EVENTS]?: number };
  if (counted[DATA_EVENTS] === undefined) {
    counted[DATA_EVENTS] = 0;
    socket.on('data', () => (counted[DATA_EVENTS] = (counted[DATA_EVENTS] ?? 0) + 1));
  }
  return counted[DATA_EVENTS];
}

/** The data events a socket had when it was last handed to a request from the pool. */
const DATA_AT_REUSE = Symbol('ekso-conformance data events at reuse');
type PooledSocket = Socket & { [DATA_AT_REUSE]?: number };

/**
 * The connection pools. A pooled connection idle for longer than IDLE_LIMIT_MS is closed rather
 * than reused: servers close idle connections on their own schedule (Node's default
 * `keepAliveTimeout` is 5 s, others are shorter and not all announce it), and a request written
 * on a connection the server is closing dies with "socket hang up" before any answer. The idle
 * timer is the socket's own inactivity timer (see `keepIdle`), not the agent's `timeout` option,
 * which also watches every request with a listener of its own (a measurable part of a request's
 * cost, issue 13). Node's own rule stays: a server announcing `Keep-Alive: timeout=1` or less
 * gets no reuse at all; a longer announcement is no shorter than the idle limit (1 s), so it
 * needs nothing more.
 *
 * As a request takes a pooled connection, the pool also notes how many data events it had had:
 * data after that is an answer to this request, which rules out the keep-alive race (see
 * StaleConnectionError). Kept on the socket, not the request: a property added to node's request
 * objects changes their shape, and node's own code then runs slower on all of them.
 */
// A mixin's base must take any arguments (TS2545); both agents take node's AgentOptions.
function pooling<Base extends new (...args: any[]) => http.Agent>(base: Base) {
  return class extends base {
    /**
     * Says (despite its declared type) whether the socket goes back to the pool. The socket's
     * inactivity timer is set once and stays: any read or write restarts it, so it fires only
     * after IDLE_LIMIT_MS without traffic; the agent then closes the socket if it is in the pool,
     * and ignores it if a request is using it (a slow answer is the request's own timer's
     * business).
     */
    override keepSocketAlive(socket: PooledSocket): void {
      const kept = super.keepSocketAlive(socket) as unknown;
      if (kept && socket.timeout !== IDLE_LIMIT_MS) socket.setTimeout(IDLE_LIMIT_MS);
      return kept as void;
    }
    override reuseSocket(socket: PooledSocket, request: http.ClientRequest): void {
      super.reuseSocket(socket, request);
      socket[DATA_AT_REUSE] = dataEventsOf(socket);
    }
  };
}
const Pool = pooling(http.Agent);
const TlsPool = pooling(https.Agent);

/** Whether a request given a pooled connection has had any data on it since. */
function dataSinceReuse(request: http.ClientRequest): boolean {
  const socket = request.socket as PooledSocket | null;
  const atReuse = socket?.[DATA_AT_REUSE];
  return socket !== null && atReuse !== undefined && dataEventsOf(socket) > atReuse;
}

/** A request URL as sent: parsed, and its origin (H-06). */
interface RequestTarget {
  url: URL;
  origin: string;
  isHttps: boolean;
}

function requestTarget(text: string): RequestTarget {
  const url = new URL(text);
  return { url, origin: url.origin, isHttps: url.protocol === 'https:' };
}

/** How an exchange ends (see `HttpClient.ended`). */
interface Ending {
  release: () => void;
  retry429: boolean;
}
/** The second attempt of an exchange, which the first one ends. */
const RETRY = Symbol('retry on a fresh connection');

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_RECORDED_BODY = 4000;
const IDLE_LIMIT_MS = 1000;

/**
 * A request that failed on a reused keep-alive connection before any byte of an answer came
 * back: the server closed that idle connection as the request was written (the keep-alive race),
 * so the request never reached it. Retried once on a fresh connection.
 */
class StaleConnectionError extends Error {
  constructor(readonly failure: TransportError) {
    super(failure.message);
  }
}

export class HttpClient {
  readonly limiter: RateLimiter;
  private readonly semaphore: Semaphore;
  private readonly origins: Set<string>;
  private readonly agents: { http: http.Agent; https: https.Agent };
  /** Where exchanges go; the check runner points it at the current execution. */
  sink: ExchangeSink = DISCARD;
  /**
   * How to fail each request in flight when the run's signal aborts, in reusable slots: a Set or
   * Map of them, added to and deleted from for every request, was a measurable part of its cost
   * (a function as a key needs a hash stored on it; deletions make the table rebuild itself).
   */
  private readonly inFlight: Array<(() => void) | undefined> = [];
  private readonly freeSlots: number[] = [];

  constructor(private readonly options: HttpClientOptions) {
    this.limiter = options.sharedLimiter ?? new RateLimiter(options.ratePerSecond ?? null);
    this.semaphore = new Semaphore(options.concurrency ?? 8);
    this.origins = new Set([...options.allowedOrigins].map((o) => new URL(o).origin));
    const pool = { keepAlive: true, maxSockets: 64, ...(options.lookup ? { lookup: options.lookup } : {}) };
    this.agents = { http: new Pool(pool), https: new TlsPool(pool) };
    // Stopping the run fails every request in flight at once (a hanging target cannot hold it).
    options.signal?.addEventListener('abort', () => {
      for (const stop of [...this.inFlight]) stop?.();
    }, { once: true });
  }

  allowOrigin(origin: string): void {
    this.origins.add(new URL(origin).origin);
  }

  isAllowed(url: string): boolean {
    return this.origins.has(new URL(url).origin);
  }

  /**
   * A client for the same target sharing the rate limit, the allowed origins and the redactor,
   * with its own connections and without the run's abort signal: cleanup (revoking what was
   * minted) must still happen after Ctrl-C or `--max-time` ended the checks.
   */
  sibling(overrides: Pick<HttpClientOptions, 'timeoutMs'> = {}): HttpClient {
    const { signal: _signal, ...rest } = this.options;
    return new HttpClient({ ...rest, ...overrides, allowedOrigins: this.origins, sharedLimiter: this.limiter });
  }

  get redactor(): Redactor {
    return this.options.redactor;
  }

  send(request: HttpRequest): Promise<HttpResponse> {
    return this.sendOnce(request, true);
  }

  /** The target is rate-limiting us: up to three more tries, slower each time. */
  private async retryAfter429(request: HttpRequest, first: HttpResponse): Promise<HttpResponse> {
    let response = first;
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) response = await this.sendOnce(request, false);
      if (response.status !== 429 || attempt >= 3) return response;
      // The target is rate-limiting us: slow down for the rest of the run (just under Ekso's
      // documented 50/s at first, then further if it insists), and honour Retry-After.
      this.limiter.capAt(this.limiter.rate ? this.limiter.rate * 0.8 : 45);
      await sleep(Math.min(retryAfterMs(response.headers['retry-after']) ?? 1000, this.options.maxRetryAfterMs ?? 5000), this.options.signal);
    }
  }

  /**
   * Parsed URLs by their text: parsing was a measurable part of each request (issue 13). A
   * target is never changed once parsed.
   */
  private readonly parse = boundedMemo(requestTarget);

  /**
   * One request, in as few promises as it takes (issue 13: each async layer was a measurable part
   * of a request against a fast target): confined to the target's origin, under the concurrency
   * and rate caps, recorded. `retry429`: a 429 answer is retried (after the caps' place is given
   * back) unless the request asked for it raw.
   */
  private sendOnce(request: HttpRequest, retry429: boolean): Promise<HttpResponse> {
    let target: RequestTarget;
    try {
      target = this.parse(request.url);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.origins.has(target.origin)) {
      return Promise.reject(new ForeignHostError(`refusing to send a request to ${target.origin}: not the target's origin (H-06)`));
    }
    // The usual case waits for nothing: no await (each one is a trip through the microtask queue).
    const release = this.semaphore.tryAcquire();
    if (!release) return this.semaphore.acquire().then((acquired) => this.sendHolding(target, request, acquired, retry429));
    return this.sendHolding(target, request, release, retry429);
  }

  /** `sendOnce` holding a place of the concurrency cap, given back when the exchange ends. */
  private sendHolding(target: RequestTarget, request: HttpRequest, release: () => void, retry429: boolean): Promise<HttpResponse> {
    const wait = request.unthrottled ? undefined : this.limiter.take();
    if (wait) return wait.then(() => this.exchange(target, request, release, retry429));
    return this.exchange(target, request, release, retry429);
  }

  private exchange(target: RequestTarget, request: HttpRequest, release: () => void, retry429: boolean): Promise<HttpResponse> {
    if (this.options.signal?.aborted) {
      release();
      return Promise.reject(new TransportError('aborted', request.url, 'the run was stopped (Ctrl-C or --max-time); not sent'));
    }
    return this.transmit(target, request, Date.now(), { release, retry429 });
  }

  /** The end of an exchange: the concurrency cap's place given back, a 429 retried if asked. */
  private ended(request: HttpRequest, ending: Ending, response: HttpResponse): HttpResponse | Promise<HttpResponse> {
    ending.release();
    return ending.retry429 && response.status === 429 && !request.raw429 ? this.retryAfter429(request, response) : response;
  }

  /**
   * What follows a failed exchange: recorded, and thrown — or, for the keep-alive race, retried
   * once on a fresh connection. Choice: one retry, and only for a failure that provably came
   * before the target answered anything on a connection it was closing. Both attempts are in the
   * transcript; the checks see only the retry's answer, the one the target gave (the dead attempt
   * never reached it, so it is no presentation of a token).
   */
  private async failed(target: RequestTarget, request: HttpRequest, started: number, error: TransportError | StaleConnectionError, retried: boolean): Promise<HttpResponse> {
    if (error instanceof StaleConnectionError && !retried) {
      this.record(request, started, undefined, error.failure, 'on a reused keep-alive connection the target was closing; retried once on a fresh connection');
        return this.transmit(target, request, Date.now(), RETRY);
    }
    const failure = error instanceof StaleConnectionError ? error.failure : error;
    this.record(request, started, undefined, failure);
    throw failure;
  }

  /**
   * Sends the request and settles with its answer, recorded — or with `failed`'s outcome — and
   * then ends the exchange (`ending`) in the same step: the caller awaits this very promise, no
   * other layer (each one cost a measurable part of a request, issue 13). RETRY: the retry after
   * the keep-alive race, on a connection of its own, ended by the first attempt.
   */
  private transmit(target: RequestTarget, request: HttpRequest, started: number, ending: Ending | typeof RETRY): Promise<HttpResponse> {
    const fresh = ending === RETRY;
    const agent = fresh || request.freshConnection ? false : target.isHttps ? this.agents.https : this.agents.http;
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    // node:http only reads the headers it is given: a copy only to add one.
    const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
    const signal = this.options.signal;
    return new Promise<HttpResponse>((resolve) => {
      let settled = false;
      /** Whether any byte of an answer arrived (then a failure is never the keep-alive race). */
      let answered = false;
      let req: http.ClientRequest | undefined;
      /** Where `onAbort` is in `inFlight`. */
      let slot: number | undefined;
      const settle = (outcome: HttpResponse | Promise<HttpResponse>) => {
        settled = true;
        clearTimeout(timer);
        if (slot !== undefined) {
          this.inFlight[slot] = undefined;
          this.freeSlots.push(slot);
        }
        resolve(outcome);
      };
      const fail = (failure: TransportFailure, detail: string, stale = false) => {
        if (settled) return;
        const error = new TransportError(failure, request.url, detail);
        const outcome = this.failed(target, request, started, stale ? new StaleConnectionError(error) : error, fresh);
        settle(
          ending === RETRY
            ? outcome
            : outcome.then(
                (response) => this.ended(request, ending, response),
                (reason: unknown) => {
                  ending.release();
                  throw reason;
                },
              ),
        );
        req?.destroy();
      };
      const onAbort = () => fail('aborted', 'the run was stopped (Ctrl-C or --max-time) while waiting for the answer');
      const timer = setTimeout(() => fail('timeout', `no complete answer within ${timeoutMs} ms`), timeoutMs);
      if (signal) {
        // One listener on the run's signal for all requests (see the constructor): an abort
        // listener added and removed per request was a measurable part of its cost.
        if (signal.aborted) return onAbort();
        slot = this.freeSlots.pop() ?? this.inFlight.length;
        this.inFlight[slot] = onAbort;
      }
      // The URL object and the options apart, as most callers of node:http pass them: node's
      // request code then sees objects of one shape (an options object of our own shape made it
      // slower for every request in the process).
      const options: http.RequestOptions = { method: request.method, headers, agent };
      // The pools resolve names with the client's lookup (H-06); a connection of its own needs it
      // given (in every request's options it made node's request code measurably slower).
      if (agent === false && this.options.lookup) options.lookup = this.options.lookup;
      try {
        req = (target.isHttps ? https : http).request(target.url, options, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) return fail('other', `response body over ${MAX_BODY_BYTES} bytes`);
            chunks.push(chunk);
          });
          res.on('error', (err) => fail(classify(err), err.message));
          res.on('aborted', () => fail('reset', 'response aborted'));
          res.on('end', () => {
            if (settled) return;
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
            const response = new ReceivedResponse(res.statusCode ?? 0, flattenHeaders(res.headers), text, Date.now() - started);
            try {
              this.record(request, started, response);
            } catch (error) {
              return fail('other', String(error));
            }
            settle(ending === RETRY ? response : this.ended(request, ending, response));
          });
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          const failure = classify(err);
          // The keep-alive race: a pooled connection closed by the target as this request was
          // written fails with a reset or "socket hang up" before any answer.
          const stale = failure === 'reset' && req !== undefined && req.reusedSocket && !answered && !dataSinceReuse(req) && !signal?.aborted;
          fail(failure, err.message, stale);
        });
        if (request.body !== undefined) req.write(request.body);
        req.end();
      } catch (error) {
        // node:http refuses some requests before sending anything (a header with a control character).
        fail('other', String(error));
      }
    });
  }

  private record(request: HttpRequest, started: number, response?: HttpResponse, error?: TransportError, note?: string): void {
    const r = this.options.redactor;
    harvestSecrets(r, request, response);
    const finished = Date.now();
    this.sink.record((): RecordedExchange => ({
      at: new Date(started).toISOString(),
      request: {
        method: request.method,
        url: r.text(request.url),
        headers: redactHeaders(r, request.headers ?? {}),
        ...(request.body !== undefined ? { body: clip(redactBody(r, request.body)) } : {}),
      },
      ...(response
        ? { response: { status: response.status, headers: redactHeaders(r, response.headers), body: clip(redactBody(r, response.text)) } }
        : {}),
      ...(error ? { error: r.text(note ? `${error.message} (${note})` : error.message) } : {}),
      durationMs: finished - started,
    }));
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/**
 * An answer, its body parsed as JSON on first use (many answers — probes, 401s — are judged by
 * their status alone). A class with the getter on its prototype, not an object literal with its
 * own getter: each such literal carried a closure of the whole request, which V8 kept alive past
 * young-generation collections — a fifth of a request's cost went to the garbage collector
 * (issue 13, throughput).
 */
class ReceivedResponse implements HttpResponse {
  #parsed: { value: unknown } | undefined;
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly text: string,
    readonly durationMs: number,
  ) {}

  get json(): unknown {
    this.#parsed ??= { value: parseJson(this.text) };
    return this.#parsed.value;
  }
}

const SECRET_KEYS = new Set(['rawKey', 'raw_key', 'access_token', 'refresh_token', 'id_token', 'device_code', 'accessToken', 'refreshToken', 'code_verifier', 'client_secret']);

/**
 * Registers every secret seen on the wire before anything is recorded, so that a secret echoed
 * later in an unexpected place (an error message, a listing) is still replaced by its fingerprint.
 */
function harvestSecrets(r: Redactor, request: HttpRequest, response?: HttpResponse): void {
  let auth: string | undefined;
  for (const name in request.headers) {
    if (name.toLowerCase() !== 'authorization') continue;
    auth = request.headers[name];
    break;
  }
  if (auth) r.add(auth.replace(/^\S+\s+/, ''));
  if (request.body) {
    const json = parseJson(request.body);
    if (json !== undefined) walkSecrets(r, json);
    else for (const [k, v] of new URLSearchParams(request.body)) if (SECRET_KEYS.has(k) || k === 'code') r.add(v);
  }
  // Only a body that names a secret field can carry one (a cheap test before parsing it).
  if (response && SECRET_FIELD_TEXT.test(response.text) && response.json !== undefined) walkSecrets(r, response.json);
}

const SECRET_FIELD_TEXT = new RegExp(`"(?:${[...SECRET_KEYS].join('|')})"`);

function walkSecrets(r: Redactor, value: unknown): void {
  if (Array.isArray(value)) value.forEach((v) => walkSecrets(r, v));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && SECRET_KEYS.has(k)) r.add(v);
      else walkSecrets(r, v);
    }
  }
}

function classify(err: NodeJS.ErrnoException): TransportFailure {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
      return 'reset';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    default:
      return err.code?.startsWith('ERR_TLS') || err.code?.includes('CERT') ? 'tls' : 'other';
  }
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  // Node gives the names in lower case already, and every value as one string but set-cookie's
  // (an array): node's own object serves as it is unless there is a set-cookie to join.
  if (headers['set-cookie'] === undefined) return headers as Record<string, string>;
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function redactHeaders(r: Redactor, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      const [scheme, ...rest] = value.split(' ');
      const credential = rest.join(' ');
      out[name] = credential ? `${scheme} ${r.value({ authorization: credential }).authorization}` : r.text(value);
    } else out[name] = r.text(value);
  }
  return out;
}

/** Redacts JSON bodies field by field and form bodies parameter by parameter. */
function redactBody(r: Redactor, body: string): string {
  const json = parseJson(body);
  if (json !== undefined && typeof json === 'object') return JSON.stringify(r.value(json));
  if (/^[\w.%+-]+=[^&]*(&[\w.%+-]+=[^&]*)*$/.test(body)) {
    // Shown decoded (it is a transcript for people, not a request to resend).
    const params = Object.fromEntries(new URLSearchParams(body).entries());
    const redacted = r.value(params) as Record<string, string>;
    return Object.entries(redacted).map(([k, v]) => `${k}=${v}`).join('&');
  }
  return r.text(body);
}

function clip(text: string): string {
  return text.length > MAX_RECORDED_BODY ? `${text.slice(0, MAX_RECORDED_BODY)}… (${text.length} chars)` : text;
}
