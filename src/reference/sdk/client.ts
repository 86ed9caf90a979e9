/**
 * The SDK's request pipeline: base URL, credentials, one 401 recovery, error mapping.
 *
 * Seams for mutants (override one protected method): `handleUnauthorized` (the 401 recovery,
 * SDK-09/SDK-14), `authError` (which reason a rejected credential gets), `mapError` (non-2xx →
 * exception type, SDK-13), `send` (the transport).
 */
import type { Credential, IEksoAuth } from './auth.js';
import { DEFAULT_RETRY_AFTER_MS } from './auth.js';
import { EksoApiException, EksoAuthException, EksoRateLimitException, EksoValidationException, type EksoException } from './errors.js';
import { fetchAndRead, parseRetryAfterMs, reasonFromChallenge, requestIdOf, type FetchLike, type ReadResponse } from './http.js';

export interface EksoClientOptions {
  tenant: string;
  /** Replaces `https://{tenant}.ekso.app` for every API request; may carry a path prefix. */
  baseUrl?: string;
  auth: IEksoAuth;
  fetch?: FetchLike;
  /** Clock in epoch milliseconds (used for `Retry-After` dates). */
  now?: () => number;
  /** Bounds each HTTP request (headers and body) the client makes. */
  timeoutMs?: number;
}

export type EksoResponse = ReadResponse;

/**
 * Tenant subdomains are DNS labels. Choice: anything else is refused rather than pasted into a
 * host name (a tenant like `evil.com/x?` would otherwise send credentials to another host).
 */
const TENANT_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** SDK-02: the cloud URL of a tenant, `https://{tenant}.ekso.app` (no trailing slash). */
export function defaultBaseUrl(tenant: string): string {
  if (!TENANT_LABEL.test(tenant)) throw new TypeError(`invalid tenant "${tenant}": expected a DNS label (letters, digits, hyphens)`);
  return `https://${tenant}.ekso.app`;
}

/**
 * Where API requests go: the configured base URL (absolute http(s), trailing slashes dropped, path
 * prefix kept) or the tenant's default.
 */
export function resolveBaseUrl(tenant: string, baseUrl?: string): string {
  if (baseUrl === undefined || baseUrl === '') return defaultBaseUrl(tenant);
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new TypeError(`invalid baseUrl "${baseUrl}": not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError(`invalid baseUrl "${baseUrl}": expected http or https`);
  if (parsed.search || parsed.hash) throw new TypeError(`invalid baseUrl "${baseUrl}": no query or fragment allowed`);
  return parsed.href.replace(/\/+$/, '');
}

/** A configured Ekso client. `request` is the pipeline every typed API call goes through. */
export class EksoClient {
  readonly baseUrl: string;
  readonly tenant: string;
  protected readonly auth: IEksoAuth;
  protected readonly fetchImpl: FetchLike;
  protected readonly now: () => number;
  protected readonly timeoutMs: number | undefined;

  constructor(options: EksoClientOptions) {
    this.tenant = options.tenant;
    this.baseUrl = resolveBaseUrl(options.tenant, options.baseUrl);
    this.auth = options.auth;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs;
  }

  /** `path` (which may carry a query string) appended to the base URL, by plain concatenation so it can never change host. */
  urlFor(path: string): string {
    return this.baseUrl + (path.startsWith('/') ? path : `/${path}`);
  }

  /**
   * Sends one API request. Resolves with the 2xx response; rejects with an `EksoException`
   * subclass for everything else.
   */
  async request(method: string, path: string, body?: unknown): Promise<EksoResponse> {
    const call: PendingCall = { method: method.toUpperCase(), url: this.urlFor(path), body };
    const credential = await this.auth.getCredential();
    let response = await this.send(call, credential);
    if (response.status === 401) response = await this.handleUnauthorized(call, credential, response);
    if (response.status >= 200 && response.status < 300) return response;
    throw this.mapError(response);
  }

  /**
   * SDK-09 / SDK-14: a 401 gets fresh credentials exactly once — the auth refreshes, joins a
   * refresh in flight, or hands over a token rotated since `credential` was sent — and the call
   * is retried once. A second 401 is final. Static credentials are never retried.
   * Returns the retry's response (any status but 401); throws `EksoAuthException` otherwise.
   */
  protected async handleUnauthorized(call: PendingCall, credential: Credential, response: EksoResponse): Promise<EksoResponse> {
    const fresh = await this.auth.renewAfterUnauthorized(credential);
    if (!fresh) throw this.authError(response);
    const retried = await this.send(call, fresh);
    if (retried.status === 401) throw this.authError(retried);
    return retried;
  }

  /**
   * The exception for a final 401. The reason comes from the server's `WWW-Authenticate`
   * error_description. API keys: `Revoked` when the server says so, `Invalid` otherwise (SDK-14
   * allows only these two). Refreshable credentials: `Expired`/`Revoked`/`Invalid` as the server
   * says, `Invalid` when it says nothing.
   */
  protected authError(response: EksoResponse): EksoAuthException {
    const said = reasonFromChallenge(response.headers.get('www-authenticate'));
    const reason = this.auth.kind === 'apiKey' ? (said === 'Revoked' ? 'Revoked' : 'Invalid') : (said ?? 'Invalid');
    const requestId = requestIdOf(response.headers);
    const what = this.auth.kind === 'apiKey' ? 'API key' : 'access token';
    return new EksoAuthException(reason, `the ${what} was rejected (401, ${reason})`, {
      statusCode: response.status,
      ...(requestId !== undefined ? { requestId } : {}),
    });
  }

  /**
   * SDK-13: non-2xx (other than a handled 401) → exception type.
   * - 429 → `EksoRateLimitException` with `Retry-After` (seconds or HTTP date) in ms.
   * - 400/422 with a validation body → `EksoValidationException`.
   *   Choice: a body is a validation body when its `kind` is `Validation` or it carries a
   *   non-empty `fields` array; a 422 `Logic` error without fields stays an `EksoApiException`
   *   (the API documents 422 as business-rule violations, which have no field errors).
   *   `fieldErrors` maps each field to its `code`s (falling back to `message`), in order.
   * - 401 (when reached here only through an override) → `EksoAuthException`.
   * - anything else → `EksoApiException(status, body)`.
   */
  protected mapError(response: EksoResponse): EksoException {
    const { status, headers, body } = response;
    const requestId = requestIdOf(headers);
    const idOption = requestId !== undefined ? { requestId } : {};
    if (status === 429) {
      const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), this.now()) ?? DEFAULT_RETRY_AFTER_MS;
      return new EksoRateLimitException(retryAfterMs, `rate limited; retry after ${retryAfterMs} ms`, { statusCode: status, ...idOption });
    }
    if (status === 400 || status === 422) {
      const fieldErrors = validationFields(body);
      if (fieldErrors) return new EksoValidationException(fieldErrors, messageOf(body) ?? `validation failed (${status})`, { statusCode: status, ...idOption });
    }
    if (status === 401) return this.authError(response);
    return new EksoApiException(status, body, messageOf(body) ?? `the API answered ${status}`, idOption);
  }

  /** One HTTP exchange with the given credential. Transport failures become `EksoNetworkException`. */
  protected send(call: PendingCall, credential: Credential): Promise<EksoResponse> {
    const headers: Record<string, string> = { authorization: credential.authorization, accept: 'application/json' };
    const init: RequestInit = { method: call.method, headers };
    // Choice: a body given with GET/HEAD is dropped (fetch refuses it) instead of failing the call.
    if (call.body !== undefined && call.method !== 'GET' && call.method !== 'HEAD') {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(call.body);
    }
    return fetchAndRead(this.fetchImpl, call.url, init, this.timeoutMs);
  }
}

export interface PendingCall {
  method: string;
  url: string;
  body: unknown;
}

function validationFields(body: unknown): Record<string, string[]> | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const fields = Array.isArray(record['fields']) ? record['fields'] : [];
  if (record['kind'] !== 'Validation' && fields.length === 0) return undefined;
  // A Map, then fromEntries: a field named `__proto__` stays an ordinary key.
  const out = new Map<string, string[]>();
  for (const entry of fields) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const field = typeof e['field'] === 'string' ? e['field'] : '';
    const code = typeof e['code'] === 'string' ? e['code'] : typeof e['message'] === 'string' ? e['message'] : undefined;
    if (code === undefined) continue;
    const codes = out.get(field) ?? [];
    codes.push(code);
    out.set(field, codes);
  }
  return Object.fromEntries(out);
}

function messageOf(body: unknown): string | undefined {
  if (body && typeof body === 'object' && typeof (body as Record<string, unknown>)['message'] === 'string') {
    return (body as Record<string, unknown>)['message'] as string;
  }
  return undefined;
}
