/**
 * Mutants of the request pipeline (`EksoClient`: 401 recovery, error mapping, base URL) and of
 * `ApiKeyAuth`: each overrides one seam of the reference class.
 */
import {
  ApiKeyAuth,
  EksoApiException,
  EksoAuthException,
  EksoClient,
  type Credential,
  type EksoClientOptions,
  type EksoException,
  type EksoResponse,
  type PendingCall,
} from '../../reference/sdk/index.js';
import type { AuthContext } from '../../reference/sdk/adapter.js';
import type { SdkMutant } from '../registry.js';
import { adapterMutant, factoryMutant, referenceWith } from './support.js';

type ClientClass = new (options: EksoClientOptions) => EksoClient;
const withClient = (Client: ClientClass) => () => ({ client: (o: EksoClientOptions) => new Client(o) });

/** How many times the looping client goes round before giving up (a real loop would not stop). */
export const LOOP_LIMIT = 5;

/** Every 401 — including the retry's — triggers another refresh and another retry. */
class RefreshLoopOn401 extends EksoClient {
  protected override async handleUnauthorized(call: PendingCall, credential: Credential, response: EksoResponse): Promise<EksoResponse> {
    let rejected = credential;
    let last = response;
    for (let i = 0; i < LOOP_LIMIT && last.status === 401; i++) {
      const fresh = await this.auth.renewAfterUnauthorized(rejected);
      if (!fresh) throw this.authError(last);
      last = await this.send(call, fresh);
      rejected = fresh;
    }
    if (last.status === 401) throw this.authError(last);
    return last;
  }
}

/** A 401 surfaces at once as EksoAuthException: no fresh credentials, no retry. */
class NoRetryAfter401 extends EksoClient {
  protected override async handleUnauthorized(_call: PendingCall, _credential: Credential, response: EksoResponse): Promise<EksoResponse> {
    throw this.authError(response);
  }
}

/** Refreshes after a 401, then retries with the credential that was just rejected. */
class RetryWithRejectedToken extends EksoClient {
  protected override async handleUnauthorized(call: PendingCall, credential: Credential, response: EksoResponse): Promise<EksoResponse> {
    const fresh = await this.auth.renewAfterUnauthorized(credential);
    if (!fresh) throw this.authError(response);
    const retried = await this.send(call, credential);
    if (retried.status === 401) throw this.authError(retried);
    return retried;
  }
}

/** 429 is not special-cased: it becomes a plain EksoApiException, Retry-After lost. */
class RateLimitAsApiException extends EksoClient {
  protected override mapError(response: EksoResponse): EksoException {
    if (response.status === 429) return new EksoApiException(429, response.body, 'the API answered 429');
    return super.mapError(response);
  }
}

/** A rejected API key is reported as `Expired` (a reason SDK-14 does not allow for keys). */
class ApiKeyExpiredReason extends EksoClient {
  protected override authError(response: EksoResponse): EksoAuthException {
    const error = super.authError(response);
    if (this.auth.kind !== 'apiKey') return error;
    return new EksoAuthException('Expired', 'the API key has expired', error.statusCode !== undefined ? { statusCode: error.statusCode } : {});
  }
}

/** Path-style tenancy instead of the tenant's subdomain. */
export const wrongDefaultBaseUrl = (tenant: string): string => `https://ekso.app/${tenant}`;

/** With only a tenant, requests go to https://ekso.app/{tenant}; a configured base URL still works. */
class PathStyleDefaultBaseUrl extends EksoClient {
  private readonly configured: boolean;
  constructor(options: EksoClientOptions) {
    super(options);
    this.configured = options.baseUrl !== undefined && options.baseUrl !== '';
  }
  override urlFor(path: string): string {
    if (this.configured) return super.urlFor(path);
    return wrongDefaultBaseUrl(this.tenant) + (path.startsWith('/') ? path : `/${path}`);
  }
}

/** `Authorization: bearer <key>`: the scheme in lower case. */
class LowercaseSchemeApiKeyAuth extends ApiKeyAuth {
  override async getCredential(): Promise<Credential> {
    const c = await super.getCredential();
    return { ...c, authorization: c.authorization.replace(/^Bearer /, 'bearer ') };
  }
}

/** Treats a 401 to an API key like an expired token: retries the same key once. */
class RetryingApiKeyAuth extends ApiKeyAuth {
  override async renewAfterUnauthorized(): Promise<Credential | null> {
    return this.getCredential();
  }
}

/**
 * Treats a 401 to an API key like an expired access token: it tries to "refresh" it at the token
 * endpoint (with the key as the refresh token), then gives up. One behaviour, two requirements:
 * ApiKeyAuth never calls the token endpoint (SDK-01), and a rejected key is not retried (SDK-14).
 */
class ApiKeyAuthRefreshingOn401 extends ApiKeyAuth {
  constructor(
    private readonly key: string,
    private readonly context: AuthContext,
  ) {
    super(key);
  }
  override async renewAfterUnauthorized(): Promise<Credential | null> {
    const fetchImpl = this.context.fetch ?? globalThis.fetch.bind(globalThis);
    const origin = this.context.baseUrl ? new URL(this.context.baseUrl).origin : undefined;
    if (origin) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.key, client_id: 'ekso-sdk' });
      try {
        const response = await fetchImpl(`${origin}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
        await response.text();
      } catch {
        // The attempt is the bug; its answer does not matter.
      }
    }
    return null;
  }
}

export const CLIENT_MUTANTS: readonly SdkMutant[] = [
  factoryMutant(
    {
      name: 'refresh-loop-on-401',
      description: `a 401 to the retried request triggers another refresh and another retry (stopped after ${LOOP_LIMIT} rounds here; a real loop would not stop)`,
      breaks: ['SDK-09'],
      modelledOn: 'axios response interceptors re-entered by their own retry (the loop axios-auth-refresh guards with skipAuthRefresh; cf. #307)',
    },
    withClient(RefreshLoopOn401),
  ),
  factoryMutant(
    {
      name: 'no-retry-after-401',
      description: 'a 401 on a refreshable client surfaces at once as EksoAuthException, without trying fresh credentials',
      breaks: ['SDK-09'],
    },
    withClient(NoRetryAfter401),
  ),
  factoryMutant(
    {
      name: 'retry-with-rejected-token',
      description: 'refreshes after a 401, then retries the call with the access token that was just rejected',
      breaks: ['SDK-09'],
    },
    withClient(RetryWithRejectedToken),
  ),
  factoryMutant(
    {
      name: 'rate-limit-as-api-exception',
      description: '429 maps to EksoApiException instead of EksoRateLimitException, losing Retry-After',
      breaks: ['SDK-13'],
    },
    withClient(RateLimitAsApiException),
  ),
  factoryMutant(
    {
      name: 'api-key-expired-reason',
      description: 'a rejected API key surfaces as EksoAuthException(Expired) instead of Revoked or Invalid',
      breaks: ['SDK-14'],
    },
    withClient(ApiKeyExpiredReason),
  ),
  factoryMutant(
    {
      name: 'api-key-retried-on-401',
      description: 'ApiKeyAuth treats a 401 like an expired token and retries the same key once',
      breaks: ['SDK-14'],
    },
    () => ({ auth: { apiKey: (key: string) => new RetryingApiKeyAuth(key) } }),
  ),
  factoryMutant(
    {
      name: 'api-key-refreshed-on-401',
      description: 'ApiKeyAuth treats a 401 like an expired access token and calls the token endpoint with the key before giving up',
      breaks: ['SDK-14', 'SDK-01'],
      modelledOn: 'generic OAuth interceptors installed on every client, API-key clients included (one observation, two requirements)',
    },
    () => ({ auth: { apiKey: (key: string, context: AuthContext) => new ApiKeyAuthRefreshingOn401(key, context) } }),
  ),
  factoryMutant(
    {
      name: 'api-key-lowercase-scheme',
      description: 'sends the API key as "Authorization: bearer <key>" (lower-case scheme)',
      breaks: ['SDK-01'],
    },
    () => ({ auth: { apiKey: (key: string) => new LowercaseSchemeApiKeyAuth(key) } }),
  ),
  adapterMutant(
    {
      name: 'path-style-default-base-url',
      description: 'with only a tenant configured, requests go to https://ekso.app/{tenant} instead of https://{tenant}.ekso.app',
      breaks: ['SDK-02'],
    },
    (options) => {
      const inner = referenceWith('path-style-default-base-url', { client: (o: EksoClientOptions) => new PathStyleDefaultBaseUrl(o) }, options);
      return {
        ...inner,
        // The adapter answers for its SDK: resolveBaseUrl reports where this client really sends.
        async resolveBaseUrl(params) {
          const resolved = await inner.resolveBaseUrl(params);
          return params.baseUrl ? resolved : { baseUrl: wrongDefaultBaseUrl(params.tenant) };
        },
      };
    },
  ),
];
