/**
 * Types of the reference backend's public API and of its protected methods (for mutants).
 */
import type http from 'node:http';
import type { Clock } from './clock.js';
import type { ApiKeyRecord, BackendStore, FamilyRecord, ListValue, Marker, UserRecord } from './store.js';

export type RefreshPolicy = { kind: 'strict' } | { kind: 'grace'; seconds: number };

export interface ReferenceBackendOptions {
  /** CONTRACT §4 hooks under `/__conformance`; default false. */
  testHooks?: boolean;
  /**
   * With `testHooks`: name them in the discovery metadata (`ekso_conformance_test_hooks`); default
   * true. False serves them unannounced — for a harness run whose families come from the user's
   * own scripts (which call the hooks as a deployment's scripts would log in a test user).
   */
  advertiseTestHooks?: boolean;
  /** With `testHooks`: serve the clock hook `/__conformance/clock`; default true. */
  clockHook?: boolean;
  /** Requests per second per IP; 0/undefined = off. `serve` passes 50 (Ekso's documented limit). */
  rateLimitPerSecond?: number;
  /** Access-token lifetime; default 300. */
  accessTokenTtlSeconds?: number;
  /** Sliding inactivity window of refresh tokens (RT-09); default 604800 (7 days). */
  refreshIdleWindowSeconds?: number;
  /** Device-code lifetime; default 600. */
  deviceCodeTtlSeconds?: number;
  /** RFC 8628 `interval`; default 1. The backend never sends `slow_down`. */
  deviceIntervalSeconds?: number;
  /**
   * List revoked keys in `GET /api/admin/api-key` (with their `revokedAt`); default false.
   * Choice: revocation is a soft delete (docs S6: the row is kept for audit) and whether the
   * listing shows revoked rows is not documented (research §ekso-public-docs, "unknown"). The
   * reference hides them by default, as most consoles do once a key is deleted; `true` serves an
   * audit-style listing that grows with every key ever minted (`serve --list-revoked-keys`).
   */
  listRevokedKeys?: boolean;
  /** Refresh-token reuse policy; default strict. */
  refreshPolicy?: RefreshPolicy;
  /** Injectable clock; default real time, moved forward by the clock hook. */
  clock?: Clock;
  /** Storage; default in memory. */
  store?: BackendStore;
  /** HS256 signing key; default 32 random bytes. */
  jwtSecret?: Buffer;
}

export interface BootstrapKeys {
  adminKey: string;
  adminKeyId: string;
  userKey: string;
  userKeyId: string;
}

/** RFC 6749 §5.1 token response. */
export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

/** Result of a token-endpoint operation, turned into a response by the caller. */
export type TokenOutcome = { ok: true; pair: TokenPair } | { ok: false; status: number; error: string; description: string };

/** Claims of the reference's access tokens (ARCHITECTURE "Wire details"). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  fam: string;
  jti: string;
  iat: number;
  exp: number;
  EksoClient?: string;
}

/** What a bearer credential turned out to be. */
export type Credential = { kind: 'apiKey'; key: ApiKeyRecord } | { kind: 'accessToken'; claims: AccessTokenClaims; family: FamilyRecord };

export interface Principal {
  user: UserRecord;
  marker: Marker;
  credential: Credential;
}

/** Why a credential was refused: the `error_description` of the 401. */
export type Rejection = 'invalid' | 'expired' | 'revoked';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; presented: boolean; why: Rejection };

export type AccessTokenCheck = { ok: true; claims: AccessTokenClaims; family: FamilyRecord } | { ok: false; why: Rejection };

export type ApiKeyUsability = 'usable' | 'revoked' | 'expired';

export type ErrorKind = 'Validation' | 'Permission' | 'Logic' | 'Exception';

export interface FieldError {
  field: string;
  code: string;
}

/** The operations on a field that the marker gate may refuse. */
export type FieldOperation = 'metadata' | 'data';

/** A validated metadata update of a list field (`PUT /api/field/list`). */
export interface ListFieldUpdate {
  name: string;
  description?: string;
  multiSelect?: boolean;
  data?: ListValue[];
  defaultValue?: string | null;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  createdBy: string;
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

export type Area = 'api' | 'oauth' | 'hook' | 'page';

export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** `http://host[:port]` as the client addressed us. */
  baseUrl: string;
  /** Captures of the route pattern. */
  params: string[];
  area: Area;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  pattern: RegExp;
  area: Area;
  methods: Record<string, Handler>;
}
