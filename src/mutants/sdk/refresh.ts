/**
 * Mutants of `RefreshableBearerAuth`: each overrides one seam (or wraps one constructor option) of
 * the reference class, reproducing one client-side refresh bug of anchors.md §10.
 */
import {
  EksoApiException,
  RefreshableBearerAuth,
  type Credential,
  type RefreshableBearerAuthOptions,
  type RefreshFailure,
  type TokenPair,
  type TokensRefreshedEvent,
} from '../../reference/sdk/index.js';
import type { ReadResponse } from '../../reference/sdk/http.js';
import type { SdkMutant } from '../registry.js';
import { factoryMutant } from './support.js';

type AuthClass = new (options: RefreshableBearerAuthOptions) => RefreshableBearerAuth;

const withAuth = (Auth: AuthClass) => () => ({ auth: { refreshable: (o: RefreshableBearerAuthOptions) => new Auth(o) } });

/** Every caller that needs fresh tokens runs its own exchange. */
class NoSingleFlight extends RefreshableBearerAuth {
  protected override refresh(): Promise<void> {
    return this.refreshOnce();
  }
}

/**
 * Proactive refreshes are single-flight, but every 401 handler refreshes on its own with the
 * refresh token it holds, without joining the refresh in flight or noticing that the token it was
 * refused with has been replaced meanwhile.
 */
class UnauthorizedRefreshNotShared extends RefreshableBearerAuth {
  override async renewAfterUnauthorized(): Promise<Credential | null> {
    if (this.deadSession) throw this.deadSession;
    await this.refreshOnce();
    return this.credential();
  }
}

/** The rotation happens, the application is never told. */
class NoTokensRefreshedEvent extends RefreshableBearerAuth {
  protected override async emitTokensRefreshed(): Promise<void> {}
}

/** The event is built from the pair held before the rotation. */
class StaleTokensRefreshedEvent extends RefreshableBearerAuth {
  protected override emitTokensRefreshed(_event: TokensRefreshedEvent, previous: TokenPair): Promise<void> {
    return super.emitTokensRefreshed(previous, previous);
  }
}

/** Reactive only: never refreshes before sending; the expired token goes out and earns a 401. */
class NoProactiveRefresh extends RefreshableBearerAuth {
  protected override shouldRefresh(): boolean {
    return false;
  }
}

/**
 * Reactive only and without single flight: the expired token goes out, and every call that gets
 * a 401 runs its own exchange — the combination common in hand-written interceptors. Two
 * requirements, and the first (SDK-04) must not mask the second (SDK-06).
 */
class ReactiveWithoutSingleFlight extends RefreshableBearerAuth {
  protected override shouldRefresh(): boolean {
    return false;
  }
  protected override refresh(): Promise<void> {
    return this.refreshOnce();
  }
}

/** Refreshes before every request, whatever the token's remaining lifetime. */
class RefreshEveryCall extends RefreshableBearerAuth {
  protected override shouldRefresh(): boolean {
    return true;
  }
}

/** Ignores `expires_in`: treats every access token as stale one minute after obtaining it. */
export const FIXED_TTL_MS = 60_000;
class RefreshAfterFixedTtl extends RefreshableBearerAuth {
  private readonly createdAtMs: number;
  constructor(options: RefreshableBearerAuthOptions) {
    super(options);
    this.createdAtMs = this.now();
  }
  protected override shouldRefresh(nowMs: number): boolean {
    const obtainedAt = this.lifetimeMs !== undefined ? this.expiresAtMs - this.lifetimeMs : this.createdAtMs;
    return super.shouldRefresh(nowMs) || nowMs - obtainedAt >= FIXED_TTL_MS;
  }
}

/**
 * Every exchange presents the refresh token captured when the auth was built, although the SDK
 * holds (and reports in TokensRefreshed) the rotated pair: a stale capture, as in a refresh
 * closure built once.
 */
class ReuseCapturedRefreshToken extends RefreshableBearerAuth {
  private readonly captured: string;
  constructor(options: RefreshableBearerAuthOptions) {
    super(options);
    this.captured = options.refreshToken;
  }
  protected override refreshOnce(): Promise<void> {
    this.refreshToken = this.captured;
    return super.refreshOnce();
  }
}

/** Keeps the refresh token it presented instead of the rotated one (and so reports that one). */
class KeepSupersededRefreshToken extends RefreshableBearerAuth {
  protected override nextRefreshToken(_issued: string | undefined, presented: string): string {
    return presented;
  }
}

/** `invalid_grant` is handled like a 5xx: an EksoApiException, the session kept, the token retried. */
class InvalidGrantTransient extends RefreshableBearerAuth {
  protected override refreshFailure(failure: { response?: ReadResponse; transport?: unknown }): RefreshFailure {
    const verdict = super.refreshFailure(failure);
    if (!verdict.terminal || !failure.response) return verdict;
    const { status, body } = failure.response;
    return { error: new EksoApiException(status, body, `token endpoint answered ${status}; will retry`), terminal: false };
  }
}

/** Any failed refresh — a 503 or a reset too — ends the session. */
class TransientFailureEndsSession extends RefreshableBearerAuth {
  protected override refreshFailure(failure: { response?: ReadResponse; transport?: unknown }): RefreshFailure {
    return { ...super.refreshFailure(failure), terminal: true };
  }
}

/** `Authorization: bearer <token>`: the scheme in lower case. */
class LowercaseBearerScheme extends RefreshableBearerAuth {
  protected override credential(): Credential {
    const c = super.credential();
    return { ...c, authorization: c.authorization.replace(/^Bearer /, 'bearer ') };
  }
}

/** The client id the SDK was built for, whatever the application configured. */
export const BUILT_IN_CLIENT_ID = 'ekso-sdk';

/**
 * A `fetch` that drops the request's content-type: with a string body, fetch then labels it
 * `text/plain;charset=UTF-8` — the classic form-post-as-string bug.
 */
function withoutContentType(fetchImpl: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    if (!init?.headers) return fetchImpl(input, init);
    const headers = new Headers(init.headers);
    headers.delete('content-type');
    return fetchImpl(input, { ...init, headers });
  };
}

/**
 * A `fetch` that sends the refresh form as the query of a GET: the refresh token ends up in the
 * URL (proxy and server logs, browser history), which RFC 6749 §3.2 forbids by requiring POST.
 */
function refreshAsGet(fetchImpl: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const body = init?.body;
    if ((init?.method ?? 'GET').toUpperCase() !== 'POST' || typeof body !== 'string' && !(body instanceof URLSearchParams)) return fetchImpl(input, init);
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'refresh_token') return fetchImpl(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    for (const [k, v] of form) url.searchParams.set(k, v);
    const headers = new Headers(init?.headers);
    headers.delete('content-type');
    const { body: _dropped, ...rest } = init!;
    return fetchImpl(url, { ...rest, method: 'GET', headers });
  };
}

export const REFRESH_MUTANTS: readonly SdkMutant[] = [
  factoryMutant(
    {
      name: 'no-single-flight',
      description: 'every call that needs fresh tokens runs its own refresh: concurrent callers present the same refresh token, and the replay revokes the family',
      breaks: ['SDK-06'],
      modelledOn: 'axios-auth-refresh #307; next-auth #6851; MSAL.js #3705; angular-oauth2-oidc #1509',
    },
    withAuth(NoSingleFlight),
  ),
  factoryMutant(
    {
      name: 'unauthorized-refresh-not-shared',
      description: 'proactive refreshes are shared, but each concurrent 401 runs its own refresh: the handlers present one refresh token twice (or rotate twice for one rejected token)',
      breaks: ['SDK-06'],
      modelledOn: 'modelcontextprotocol/typescript-sdk PR #1813 (concurrent 401 handlers replay a rotated refresh token and trigger family revocation)',
    },
    withAuth(UnauthorizedRefreshNotShared),
  ),
  factoryMutant(
    {
      name: 'no-tokens-refreshed-event',
      description: 'rotates without raising TokensRefreshed, so the application never sees (or saves) the new pair',
      breaks: ['SDK-08'],
    },
    withAuth(NoTokensRefreshedEvent),
  ),
  factoryMutant(
    {
      name: 'stale-tokens-refreshed-event',
      description: 'TokensRefreshed carries the pair held before the rotation (the superseded refresh token)',
      breaks: ['SDK-08', 'STORE-02'],
      modelledOn: 'next-auth #7558 (the rotated pair is not what the application persists)',
    },
    withAuth(StaleTokensRefreshedEvent),
  ),
  factoryMutant(
    {
      name: 'no-proactive-refresh',
      description: 'never refreshes before sending: an expired access token goes out and the 401 triggers the refresh',
      breaks: ['SDK-04'],
      modelledOn: 'reactive-only refresh interceptors (axios-auth-refresh: refresh only after a 401)',
    },
    withAuth(NoProactiveRefresh),
  ),
  factoryMutant(
    {
      name: 'reactive-without-single-flight',
      description: 'never refreshes before sending, and every call that gets a 401 runs its own exchange (no single flight)',
      breaks: ['SDK-04', 'SDK-06'],
      modelledOn: 'hand-written 401 interceptors (axios-auth-refresh #307 before its request queue): reactive only, one refresh per failed call',
    },
    withAuth(ReactiveWithoutSingleFlight),
  ),
  factoryMutant(
    {
      name: 'refresh-every-call',
      description: 'refreshes before every request, whatever the token has left — so a 401 costs a second refresh for the same call',
      breaks: ['SDK-05', 'SDK-09'],
    },
    withAuth(RefreshEveryCall),
  ),
  factoryMutant(
    {
      name: 'refresh-after-fixed-ttl',
      description: `ignores expires_in and treats each access token as stale ${FIXED_TTL_MS / 1000} s after obtaining it (needless refreshes)`,
      breaks: ['SDK-05'],
    },
    withAuth(RefreshAfterFixedTtl),
  ),
  factoryMutant(
    {
      name: 'reuse-superseded-refresh-token',
      description: 'reports the rotated pair but refreshes with the refresh token captured when it was built; the second refresh replays it and the server revokes the family',
      breaks: ['SDK-07'],
      modelledOn: 'modelcontextprotocol/typescript-sdk PR #1813 (a handler replays a rotated refresh token it captured earlier; family revoked)',
    },
    withAuth(ReuseCapturedRefreshToken),
  ),
  factoryMutant(
    {
      name: 'keep-superseded-refresh-token',
      description: 'discards the rotated refresh token and keeps the presented one, so it also reports that one in TokensRefreshed (and the application stores it: a resumed client presents it)',
      breaks: ['SDK-07', 'SDK-08', 'STORE-02'],
      modelledOn: 'next-auth #7558 (the rotated refresh token is not kept)',
    },
    withAuth(KeepSupersededRefreshToken),
  ),
  factoryMutant(
    {
      name: 'invalid-grant-transient',
      description: 'treats invalid_grant like a 5xx: EksoApiException instead of EksoAuthException(Expired), and retries the refused token on the next call',
      breaks: ['SDK-10'],
    },
    withAuth(InvalidGrantTransient),
  ),
  factoryMutant(
    {
      name: 'transient-failure-ends-session',
      description: 'a 5xx or a reset at the token endpoint kills the session as if the refresh had been refused',
      breaks: ['SDK-11'],
    },
    withAuth(TransientFailureEndsSession),
  ),
  factoryMutant(
    {
      name: 'refreshable-lowercase-scheme',
      description: 'sends the access token as "Authorization: bearer <token>" (lower-case scheme)',
      breaks: ['SDK-03'],
    },
    withAuth(LowercaseBearerScheme),
  ),
  factoryMutant(
    {
      name: 'refresh-built-in-client-id',
      description: `refreshes with the SDK's built-in client_id ${BUILT_IN_CLIENT_ID} instead of the configured one (refused for any other client)`,
      breaks: ['SDK-12'],
    },
    () => ({ auth: { refreshable: (o: RefreshableBearerAuthOptions) => new RefreshableBearerAuth({ ...o, clientId: BUILT_IN_CLIENT_ID }) } }),
  ),
  factoryMutant(
    {
      name: 'refresh-form-as-text',
      description: 'posts the refresh form as a string without its content-type, so it goes out as text/plain',
      breaks: ['SDK-12'],
    },
    () => ({
      auth: {
        refreshable: (o: RefreshableBearerAuthOptions) => new RefreshableBearerAuth({ ...o, fetch: withoutContentType(o.fetch ?? globalThis.fetch.bind(globalThis)) }),
      },
    }),
  ),
  factoryMutant(
    {
      name: 'refresh-token-in-query',
      description: 'refreshes with GET /token?grant_type=refresh_token&refresh_token=…: the refresh token travels in the URL',
      breaks: ['SDK-12'],
      modelledOn: 'refresh tokens sent as query parameters, which end up in access logs (RFC 6749 §3.2 requires POST to the token endpoint)',
    },
    () => ({
      auth: {
        refreshable: (o: RefreshableBearerAuthOptions) => new RefreshableBearerAuth({ ...o, fetch: refreshAsGet(o.fetch ?? globalThis.fetch.bind(globalThis)) }),
      },
    }),
  ),
];
