/**
 * The backend driver: the harness as an Ekso client. It knows the wire (paths from the profile
 * and discovery, encodings, test hooks) and nothing of the requirements: it sends what a check
 * asks and hands back the raw response. Checks judge.
 */
import { boundedMemo } from '../../engine/memo.js';
import { DiscoveryMetadata, parseWire } from '../../spec/wire.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../http.js';
import { DEFAULT_PROFILE, type Profile } from './profile.js';
import type { FamilyMarker } from '../../spec/wire.js';

export type Credential =
  | { kind: 'none' }
  /** An API key or an access token, sent as `Authorization: Bearer <token>`. */
  | { kind: 'bearer'; token: string }
  /** A raw Authorization header value (malformed headers, other schemes). */
  | { kind: 'authorization'; value: string };

export const NO_CREDENTIAL: Credential = { kind: 'none' };
export const bearer = (token: string): Credential => ({ kind: 'bearer', token });

/** A family's marker (one type for the concept: src/spec/wire.ts). */
export type Marker = FamilyMarker;
export type UserRole = 'admin' | 'user';

export interface Endpoints {
  tokenEndpoint: string;
  deviceAuthorizationEndpoint?: string;
  /** Absolute prefix of CONTRACT §4 test hooks (advertised or from the profile). */
  testHooks?: string;
  /** Absolute URL of a clock hook (from test hooks or the profile's `testClock`). */
  testClock?: string;
  discovery?: DiscoveryMetadata;
  /** Why discovery did not give metadata (shown in skip reasons). */
  discoveryProblem?: string;
  /** What discovery advertised that the harness does not follow (foreign origins, non-URLs). */
  notes?: string[];
}

export interface ApiRequestOptions {
  credential?: Credential;
  json?: unknown;
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  freshConnection?: boolean;
  raw429?: boolean;
  unthrottled?: boolean;
}

export class BackendDriver {
  endpoints: Endpoints;

  constructor(
    readonly baseUrl: string,
    readonly profile: Profile,
    readonly http: HttpClient,
    readonly clientId: string,
  ) {
    this.endpoints = { tokenEndpoint: this.resolve(profile.tokenEndpoint ?? DEFAULT_PROFILE.tokenEndpoint) };
  }

  /** Resolves a profile path (or absolute URL) against the base URL, keeping any base path prefix. */
  resolve(pathOrUrl: string): string {
    if (/^https?:\/\//.test(pathOrUrl)) return pathOrUrl;
    return this.baseUrl.replace(/\/+$/, '') + pathOrUrl;
  }

  /** RFC 8414 discovery, falling back to OpenID discovery; the profile overrides what it finds. */
  async discover(): Promise<Endpoints> {
    const paths = this.profile.discoveryPath
      ? [this.profile.discoveryPath]
      : [DEFAULT_PROFILE.discoveryPath, DEFAULT_PROFILE.discoveryFallbackPath];
    let metadata: DiscoveryMetadata | undefined;
    const problems: string[] = [];
    for (const path of paths) {
      const url = this.resolve(path);
      // A discovery URL named in the profile is the user's configuration: trusted, like the base URL.
      if (this.profile.discoveryPath) this.http.allowOrigin(new URL(url).origin);
      const response = await this.http.send({ method: 'GET', url, headers: { accept: 'application/json' } });
      if (response.status !== 200) {
        problems.push(`${path} answered ${response.status}`);
        continue;
      }
      const parsed = parseWire(DiscoveryMetadata, response.json);
      if (parsed.ok) {
        metadata = parsed.value;
        break;
      }
      problems.push(`${path}: ${response.json === undefined ? 'not JSON' : parsed.error}`);
    }
    // Endpoints named in the profile are the user's own configuration and are trusted, also on
    // another origin. Endpoints the target advertises are not (H-06: no request to any host but
    // the target's): one on an origin nobody named is not followed, and whatever needs it becomes
    // inconclusive with the reason, instead of the harness talking to a host nobody named.
    const fromProfile = (value: string | undefined): string | undefined => {
      if (!value) return undefined;
      const url = this.resolve(value);
      this.http.allowOrigin(new URL(url).origin);
      return url;
    };
    const named = {
      hooks: fromProfile(this.profile.testHooks),
      token: fromProfile(this.profile.tokenEndpoint),
      device: fromProfile(this.profile.deviceAuthorizationEndpoint),
      clock: fromProfile(this.profile.testClock),
    };
    const notes: string[] = [];
    const advertised = (key: string, value: string | undefined): string | undefined => {
      if (value === undefined) return undefined;
      let url: URL;
      try {
        url = value.startsWith('/') ? new URL(this.resolve(value)) : new URL(value);
      } catch {
        notes.push(`discovery: ${key} ${JSON.stringify(value)} is neither an absolute URL nor a path: ignored`);
        return undefined;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        notes.push(`discovery: ${key} ${url.origin === 'null' ? JSON.stringify(value) : url.origin} is not http(s): ignored`);
        return undefined;
      }
      if (!this.http.isAllowed(url.toString())) {
        const consequence = key === 'ekso_conformance_test_hooks' ? 'the test hooks are not used' : 'checks that need it are inconclusive';
        notes.push(
          `discovery advertises ${key} on another origin (${url.origin}): not followed, the harness only sends requests to ${new URL(this.baseUrl).origin} (H-06); ` +
            `${consequence} (name it in --profile if it really belongs to the target)`,
        );
      }
      return url.toString();
    };
    const advertisedHooks = advertised('ekso_conformance_test_hooks', named.hooks ? undefined : metadata?.ekso_conformance_test_hooks);
    // Choice: test hooks on another origin are dropped altogether (the run goes on without them),
    // since they would mint identities and tokens on a host nobody named.
    const hooks = named.hooks ?? (advertisedHooks && this.http.isAllowed(advertisedHooks) ? advertisedHooks.replace(/\/+$/, '') : undefined);
    const tokenEndpoint = named.token ?? advertised('token_endpoint', metadata?.token_endpoint) ?? this.resolve(DEFAULT_PROFILE.tokenEndpoint);
    const device = named.device ?? advertised('device_authorization_endpoint', metadata?.device_authorization_endpoint);
    const clock = named.clock ?? (hooks ? `${hooks}/clock` : undefined);
    this.endpoints = {
      tokenEndpoint,
      ...(device ? { deviceAuthorizationEndpoint: device } : {}),
      ...(hooks ? { testHooks: hooks } : {}),
      ...(clock ? { testClock: clock } : {}),
      ...(metadata ? { discovery: metadata } : { discoveryProblem: problems.join('; ') }),
      ...(notes.length ? { notes } : {}),
    };
    return this.endpoints;
  }

  // ---- the API (/api) -------------------------------------------------------------------

  /** The normalized URL of an API path without a query (the probe is sent thousands of times). */
  private readonly plainApiUrl = boundedMemo((path) => new URL(this.resolve(path)).toString());

  private apiUrl(path: string, query: Record<string, string> | undefined): string {
    if (!query || !Object.keys(query).length) return this.plainApiUrl(path);
    const url = new URL(this.resolve(path));
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }

  api(method: string, path: string, options: ApiRequestOptions = {}): Promise<HttpResponse> {
    // Plain assignments, no spreads of temporary objects: this runs for every request of a run.
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = authorizationValue(options.credential);
    if (authorization !== undefined) headers.authorization = authorization;
    if (options.headers) Object.assign(headers, options.headers);
    const request: HttpRequest = { method, url: this.apiUrl(path, options.query), headers };
    if (options.json !== undefined) {
      request.body = JSON.stringify(options.json);
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.rawBody !== undefined) {
      request.body = options.rawBody;
      if (options.contentType) headers['content-type'] = options.contentType;
    }
    if (options.freshConnection) request.freshConnection = true;
    if (options.raw429) request.raw429 = true;
    if (options.unthrottled) request.unthrottled = true;
    return this.http.send(request);
  }

  get apiKeyPath(): string {
    return this.profile.apiKeyPath ?? DEFAULT_PROFILE.apiKeyPath;
  }

  mintKey(credential: Credential, body: unknown): Promise<HttpResponse> {
    return this.api('POST', this.apiKeyPath, { credential, json: body });
  }

  listKeys(credential: Credential): Promise<HttpResponse> {
    return this.api('GET', this.apiKeyPath, { credential });
  }

  /** Revokes by the profile's method unless the check asks for one explicitly. */
  revokeKey(credential: Credential, id: string, via: 'post-revoke' | 'delete' = this.profile.revoke ?? DEFAULT_PROFILE.revoke): Promise<HttpResponse> {
    const path = `${this.apiKeyPath}/${encodeURIComponent(id)}`;
    return via === 'delete' ? this.api('DELETE', path, { credential }) : this.api('POST', `${path}/revoke`, { credential });
  }

  /** The authenticated probe: 200 with valid credentials, 401 without. */
  probe(credential: Credential, options: Omit<ApiRequestOptions, 'credential'> = {}): Promise<HttpResponse> {
    const probe = this.profile.probe ?? DEFAULT_PROFILE.probe;
    return this.api(probe.method, probe.path, { ...options, credential });
  }

  fields(credential: Credential): Promise<HttpResponse> {
    return this.api('GET', this.profile.fieldsPath ?? DEFAULT_PROFILE.fieldsPath, { credential });
  }

  updateFieldList(credential: Credential, field: unknown, extra: Omit<ApiRequestOptions, 'credential' | 'json'> = {}): Promise<HttpResponse> {
    return this.api('PUT', this.profile.fieldUpdatePath ?? DEFAULT_PROFILE.fieldUpdatePath, { ...extra, credential, json: field });
  }

  updateFieldData(credential: Credential, body: unknown): Promise<HttpResponse> {
    return this.api('PUT', this.profile.fieldDataPath ?? DEFAULT_PROFILE.fieldDataPath, { credential, json: body });
  }

  // ---- OAuth endpoints -----------------------------------------------------------------

  /** A form-encoded request to the token endpoint (RFC 6749 §4, §6). */
  tokenRequest(params: Record<string, string>, options: { freshConnection?: boolean; url?: string } = {}): Promise<HttpResponse> {
    const form = new URLSearchParams(params);
    if (this.profile.scope && !form.has('scope') && params.grant_type !== 'urn:ietf:params:oauth:grant-type:device_code') {
      form.set('scope', this.profile.scope);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.profile.clientSecret) {
      const id = form.get('client_id') ?? this.clientId;
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(this.profile.clientSecret)}`).toString('base64')}`;
    }
    return this.http.send({
      method: 'POST',
      url: options.url ?? this.endpoints.tokenEndpoint,
      headers,
      body: form.toString(),
      ...(options.freshConnection ? { freshConnection: true } : {}),
    });
  }

  refresh(refreshToken: string, options: { clientId?: string; freshConnection?: boolean } = {}): Promise<HttpResponse> {
    return this.tokenRequest(
      { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: options.clientId ?? this.clientId },
      options.freshConnection ? { freshConnection: true } : {},
    );
  }

  deviceAuthorize(clientId = this.clientId): Promise<HttpResponse> {
    const url = this.endpoints.deviceAuthorizationEndpoint;
    if (!url) throw new Error('no device authorization endpoint (discovery or profile)');
    const form = new URLSearchParams({ client_id: clientId });
    if (this.profile.scope) form.set('scope', this.profile.scope);
    return this.http.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
  }

  pollDevice(deviceCode: string, clientId = this.clientId): Promise<HttpResponse> {
    return this.tokenRequest({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode, client_id: clientId });
  }

  // ---- CONTRACT §4 test hooks ------------------------------------------------------------

  get hasTestHooks(): boolean {
    return Boolean(this.endpoints.testHooks);
  }

  private hook(path: string, body: unknown): Promise<HttpResponse> {
    const prefix = this.endpoints.testHooks;
    if (!prefix) throw new Error('the target has no test hooks');
    return this.http.send({
      method: 'POST',
      url: `${prefix}${path}`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }

  hookToken(marker: Marker, user: UserRole, clientId = this.clientId): Promise<HttpResponse> {
    return this.hook('/token', { marker, user, client_id: clientId });
  }

  hookApprove(userCode: string, decision: 'approve' | 'deny', user: UserRole = 'admin'): Promise<HttpResponse> {
    return this.hook('/device/approve', { user_code: userCode, decision, user });
  }

  hookApiKey(user: UserRole, name: string): Promise<HttpResponse> {
    return this.hook('/api-key', { user, name });
  }

  /** Moves the target's clock (test hook or the profile's `testClock`); returns the raw answer. */
  advanceClock(ms: number): Promise<HttpResponse> {
    const url = this.endpoints.testClock;
    if (!url) throw new Error('the target has no clock hook');
    return this.http.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ advanceMs: ms }),
    });
  }
}

function authorizationValue(credential: Credential | undefined): string | undefined {
  if (!credential || credential.kind === 'none') return undefined;
  return credential.kind === 'bearer' ? `Bearer ${credential.token}` : credential.value;
}
