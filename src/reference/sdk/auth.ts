/**
 * The two auth strategies of the Ekso SDK (seed: "Pick an auth strategy"): `ApiKeyAuth` and
 * `RefreshableBearerAuth`, both implementing `IEksoAuth`.
 *
 * `RefreshableBearerAuth` is where the client-side refresh bugs of anchors.md §10 live, so its
 * behaviour is split into small protected methods; each named mutant of the reference SDK
 * overrides exactly one of them:
 *
 * | seam                    | reference behaviour                                                 |
 * |-------------------------|---------------------------------------------------------------------|
 * | `refresh()`             | single flight: concurrent callers share one in-flight exchange      |
 * | `refreshOnce()`         | one exchange at the token endpoint, then state update, then event   |
 * | `shouldRefresh(now)`    | proactive: expired, or less than the margin left                    |
 * | `emitTokensRefreshed()` | awaits every listener with the new pair                             |
 * | `nextRefreshToken()`    | the rotated refresh token (the presented one only if none issued)   |
 * | `refreshFailure()`      | 400/401 OAuth error → dead session, `Expired`; others transient     |
 * | `renewAfterUnauthorized()` | after a 401: join / use rotated token / refresh once             |
 */
import { EksoApiException, EksoAuthException, EksoException, EksoRateLimitException } from './errors.js';
import { fetchAndRead, parseRetryAfterMs, requestIdOf, type FetchLike, type ReadResponse } from './http.js';

/** What one request presents. `token` identifies the credential, so a 401 can be matched to it. */
export interface Credential {
  readonly authorization: string;
  readonly token: string;
}

/** The auth strategy seen by the client pipeline. */
export interface IEksoAuth {
  /** `apiKey` credentials are static; `refreshable` ones can be renewed after a 401. */
  readonly kind: 'apiKey' | 'refreshable';
  /** The credential for the next request (a refreshable auth may refresh first). */
  getCredential(): Promise<Credential>;
  /**
   * After a 401 to a request that presented `rejected`: fresh credentials for one retry, or `null`
   * when this strategy cannot renew (API keys). May throw the refresh's failure.
   */
  renewAfterUnauthorized(rejected: Credential): Promise<Credential | null>;
}

/** Static API key, sent as a bearer token on every request; never touches a token endpoint. */
export class ApiKeyAuth implements IEksoAuth {
  readonly kind = 'apiKey' as const;
  readonly #key: string;

  constructor(apiKey: string) {
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('ApiKeyAuth: apiKey must be a non-empty string');
    this.#key = apiKey;
  }

  async getCredential(): Promise<Credential> {
    return { authorization: `Bearer ${this.#key}`, token: this.#key };
  }

  async renewAfterUnauthorized(): Promise<Credential | null> {
    return null;
  }
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
}

/** The payload of `TokensRefreshed`: the new pair after one successful rotation. */
export type TokensRefreshedEvent = TokenPair;
export type TokensRefreshedListener = (event: TokensRefreshedEvent) => void | Promise<void>;

export interface RefreshableBearerAuthOptions {
  accessToken: string;
  refreshToken: string;
  /** Absolute URL of the token endpoint. */
  tokenEndpoint: string | URL;
  clientId: string;
  /** When the access token expires: a Date, an ISO-8601 string or epoch milliseconds. */
  expiresAt: Date | string | number;
  /** For a confidential client: sent with HTTP Basic (RFC 6749 §2.3.1). */
  clientSecret?: string;
  scope?: string;
  /** Refresh proactively when less than this remains (default 30 s). */
  refreshMarginMs?: number;
  /** Bounds each token-endpoint request; unset means no timeout of the SDK's own. */
  timeoutMs?: number;
  fetch?: FetchLike;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /** Where listener failures go (the rotation itself stands: the server has already rotated). */
  onListenerError?: (error: unknown) => void;
}

export const DEFAULT_REFRESH_MARGIN_MS = 30_000;

/**
 * Choice: a token response without `expires_in` is taken to live 300 s, Ekso's documented default
 * lifetime, rather than forever (which would send an expired token) or zero (a refresh per call).
 */
export const DEFAULT_EXPIRES_IN_S = 300;

/**
 * Choice: the docs say `RetryAfter` is always populated; when a 429 carries no usable
 * `Retry-After`, one second is reported.
 */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** What a failed refresh means: the error every waiting call gets, and whether the session is over. */
export interface RefreshFailure {
  error: EksoException;
  /** A terminal failure kills the session: no refresh is ever attempted again with that token. */
  terminal: boolean;
}

/** OAuth token pair that renews itself at the token endpoint, with refresh-token rotation. */
export class RefreshableBearerAuth implements IEksoAuth {
  readonly kind = 'refreshable' as const;

  protected accessToken: string;
  protected refreshToken: string;
  protected expiresAtMs: number;
  /** Lifetime of the current access token when the SDK obtained it (unknown for the initial one). */
  protected lifetimeMs: number | undefined;
  /** The one exchange in flight, shared by every caller that needs fresh tokens (SDK-06). */
  protected inFlight: Promise<void> | null = null;
  /** Set once a refresh is refused: the session is dead (SDK-10). */
  protected deadSession: EksoAuthException | null = null;

  protected readonly tokenEndpoint: string;
  protected readonly clientId: string;
  protected readonly clientSecret: string | undefined;
  protected readonly scope: string | undefined;
  protected readonly refreshMarginMs: number;
  protected readonly timeoutMs: number | undefined;
  protected readonly fetchImpl: FetchLike;
  protected readonly now: () => number;
  private readonly listeners: TokensRefreshedListener[] = [];
  private readonly onListenerError: ((error: unknown) => void) | undefined;

  constructor(options: RefreshableBearerAuthOptions) {
    if (!options.accessToken || !options.refreshToken) throw new TypeError('RefreshableBearerAuth: accessToken and refreshToken are required');
    if (!options.clientId) throw new TypeError('RefreshableBearerAuth: clientId is required');
    const endpoint = new URL(String(options.tokenEndpoint)); // throws on a relative or malformed URL
    this.accessToken = options.accessToken;
    this.refreshToken = options.refreshToken;
    this.expiresAtMs = toEpochMs(options.expiresAt);
    this.lifetimeMs = undefined;
    this.tokenEndpoint = endpoint.href;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.scope = options.scope;
    this.refreshMarginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.timeoutMs = options.timeoutMs;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = options.now ?? Date.now;
    this.onListenerError = options.onListenerError;
  }

  /** Subscribes to `TokensRefreshed`; returns an unsubscribe function. */
  onTokensRefreshed(listener: TokensRefreshedListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  /** The pair the SDK holds now (what an application would persist). */
  currentTokens(): TokenPair {
    return { accessToken: this.accessToken, refreshToken: this.refreshToken, expiresAt: new Date(this.expiresAtMs) };
  }

  /** True once a refresh was refused: every call fails until the application supplies new tokens. */
  get isSessionDead(): boolean {
    return this.deadSession !== null;
  }

  async getCredential(): Promise<Credential> {
    // Choice: once a refresh was refused, every later call fails at once with the same
    // EksoAuthException(Expired) — even if the access token has not reached its expiry — since
    // the server has ended the session and only new tokens from the application can help.
    if (this.deadSession) throw this.deadSession;
    if (this.inFlight) {
      // Someone is rotating: the current access token may be superseded any moment, and the
      // event must reach the application before the new token is used (SDK-08).
      await this.inFlight;
    } else if (this.shouldRefresh(this.now())) {
      await this.refresh();
    }
    return this.credential();
  }

  async renewAfterUnauthorized(rejected: Credential): Promise<Credential | null> {
    if (this.deadSession) throw this.deadSession;
    if (this.inFlight) {
      await this.inFlight; // join the refresh already in flight
    } else if (rejected.token === this.accessToken) {
      await this.refresh(); // our own, single refresh for this call
    }
    // else: the token was rotated while the failed request was on the wire; use the new one.
    return this.credential();
  }

  protected credential(): Credential {
    return { authorization: `Bearer ${this.accessToken}`, token: this.accessToken };
  }

  /**
   * Proactive refresh (SDK-04): expired, or less than the margin left.
   * Choice: when the server issues tokens that live no longer than the margin, the margin for
   * that token is half its lifetime — otherwise every call would refresh (a storm SDK-05
   * forbids). The initial token's lifetime is unknown, so the declared margin applies to it.
   */
  protected shouldRefresh(nowMs: number): boolean {
    const margin =
      this.lifetimeMs !== undefined && this.lifetimeMs <= this.refreshMarginMs ? this.lifetimeMs / 2 : this.refreshMarginMs;
    return nowMs >= this.expiresAtMs - margin;
  }

  /** Single flight (SDK-06): every concurrent caller shares one exchange and its outcome. */
  protected refresh(): Promise<void> {
    if (!this.inFlight) {
      const flight: Promise<void> = this.refreshOnce().finally(() => {
        if (this.inFlight === flight) this.inFlight = null;
      });
      this.inFlight = flight;
    }
    return this.inFlight;
  }

  /**
   * One exchange at the token endpoint (SDK-12). On success the new pair replaces the old one
   * *before* the event (so a throwing listener cannot make the SDK keep a dead refresh token),
   * and the event is awaited before the exchange counts as finished, so no call proceeds with the
   * new access token before the application has seen it (SDK-08).
   */
  protected async refreshOnce(): Promise<void> {
    if (this.deadSession) throw this.deadSession;
    const presented = this.refreshToken;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: presented, client_id: this.clientId });
    if (this.scope) form.set('scope', this.scope);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.clientSecret !== undefined) {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      const user = encodeURIComponent(this.clientId);
      const pass = encodeURIComponent(this.clientSecret);
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }

    let response: ReadResponse;
    try {
      response = await fetchAndRead(this.fetchImpl, this.tokenEndpoint, { method: 'POST', headers, body: form.toString() }, this.timeoutMs);
    } catch (error) {
      // Choice: a transport failure (reset, refused, timeout) is transient (SDK-11): the session
      // and the presented refresh token are kept, and the waiting calls fail with the
      // EksoNetworkException. The server may have rotated anyway (lost response); retrying with
      // the same token is then the only move left, and the server's policy decides.
      throw this.settleFailure(this.refreshFailure({ transport: error }));
    }
    if (response.status < 200 || response.status >= 300) throw this.settleFailure(this.refreshFailure({ response }));

    const body = response.body as Record<string, unknown> | undefined;
    const accessToken = body && typeof body === 'object' ? body['access_token'] : undefined;
    if (typeof accessToken !== 'string' || accessToken === '') {
      // Choice: a 2xx without an access token is a server fault, treated as transient.
      throw this.settleFailure({
        error: new EksoApiException(response.status, response.body, 'token endpoint answered 2xx without an access_token'),
        terminal: false,
      });
    }
    const issuedRefresh = typeof body?.['refresh_token'] === 'string' && body['refresh_token'] !== '' ? (body['refresh_token'] as string) : undefined;
    const expiresIn = typeof body?.['expires_in'] === 'number' && body['expires_in'] > 0 ? (body['expires_in'] as number) : DEFAULT_EXPIRES_IN_S;

    const previous = this.currentTokens();
    const issuedAt = this.now();
    this.accessToken = accessToken;
    this.refreshToken = this.nextRefreshToken(issuedRefresh, presented);
    this.expiresAtMs = issuedAt + expiresIn * 1000;
    this.lifetimeMs = expiresIn * 1000;
    await this.emitTokensRefreshed(this.currentTokens(), previous);
  }

  /**
   * The refresh token to hold after a rotation (SDK-07): the one just issued.
   * Choice: when the server issues none (RFC 6749 §6 allows keeping the old one), the presented
   * token stays valid by the server's own account, so it is kept.
   */
  protected nextRefreshToken(issued: string | undefined, presented: string): string {
    return issued ?? presented;
  }

  /** Fires `TokensRefreshed` once with the new pair and waits for every listener (SDK-08). */
  protected async emitTokensRefreshed(event: TokensRefreshedEvent, _previous: TokenPair): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener({ ...event, expiresAt: new Date(event.expiresAt.getTime()) });
      } catch (error) {
        // Choice: a failing listener does not undo the rotation (the server already rotated);
        // it is reported to `onListenerError` and the calls proceed.
        this.onListenerError?.(error);
      }
    }
  }

  /**
   * Classifies a failed exchange (SDK-10, SDK-11).
   * - 400/401 with an OAuth error (`invalid_grant`, `invalid_client`, …): the refresh token is
   *   refused → `EksoAuthException(Expired)` carrying the token endpoint's status; terminal.
   * - Choice: a transient failure fails the calls waiting on that refresh with the closest
   *   documented type — 5xx and odd 4xx → `EksoApiException` (the token endpoint's status),
   *   429 → `EksoRateLimitException`, transport failures → `EksoNetworkException` — and keeps
   *   the session and the presented refresh token for the next call (SDK-11).
   *   Choice: only a 400/401 *with an OAuth error body* is a refusal; a 400/401 without one
   *   (a proxy page, say) cannot be told apart from a glitch, so the session is kept.
   */
  protected refreshFailure(failure: { response?: ReadResponse; transport?: unknown }): RefreshFailure {
    if (!failure.response) {
      const error = failure.transport instanceof EksoException ? failure.transport : new EksoException(`token endpoint: ${String(failure.transport)}`, { cause: failure.transport });
      return { error, terminal: false };
    }
    const { status, headers, body } = failure.response;
    const requestId = requestIdOf(headers);
    const oauthError = body && typeof body === 'object' && typeof (body as Record<string, unknown>)['error'] === 'string' ? ((body as Record<string, unknown>)['error'] as string) : undefined;
    if ((status === 400 || status === 401) && oauthError !== undefined) {
      const error = new EksoAuthException('Expired', `refresh refused by the token endpoint (${status} ${oauthError}); sign in again`, {
        statusCode: status,
        ...(requestId !== undefined ? { requestId } : {}),
      });
      return { error, terminal: true };
    }
    if (status === 429) {
      const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), this.now()) ?? DEFAULT_RETRY_AFTER_MS;
      return { error: new EksoRateLimitException(retryAfterMs, 'token endpoint rate limited the refresh', { statusCode: 429, ...(requestId !== undefined ? { requestId } : {}) }), terminal: false };
    }
    return {
      error: new EksoApiException(status, body, `token endpoint answered ${status}; the session is kept for a later retry`, requestId !== undefined ? { requestId } : {}),
      terminal: false,
    };
  }

  private settleFailure(failure: RefreshFailure): EksoException {
    if (failure.terminal) {
      this.deadSession =
        failure.error instanceof EksoAuthException
          ? failure.error
          : new EksoAuthException('Expired', failure.error.message, failure.error.statusCode !== undefined ? { statusCode: failure.error.statusCode } : {});
      return this.deadSession;
    }
    return failure.error;
  }
}

export function toEpochMs(value: Date | string | number): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new TypeError(`invalid expiresAt: ${String(value)}`);
  return ms;
}
