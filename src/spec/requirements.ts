/**
 * The requirement catalog in code: one entry per ID of `shared/spec/REQUIREMENTS.md` (catalog v1).
 *
 * Statements are paraphrased; the IDs, levels and sides are normative and a test
 * (test/spec/catalog.test.ts) compares them with the Markdown catalog whenever it is present, so
 * the two cannot drift apart. IDs are stable: never renumber, only append.
 */

export type Level = 'MUST' | 'SHOULD';
/** Which side of the Ekso surface a requirement constrains; `harness` = a promise of this tool. */
export type Side = 'backend' | 'sdk' | 'harness';
export type Group = 'AK' | 'RT' | 'DF' | 'CM' | 'ERR' | 'SDK' | 'STORE' | 'H';

/** A catalog entry; `Requirement` is the one with any of the catalog's ids. */
interface CatalogEntry<Id extends string> {
  readonly id: Id;
  /** Harness requirements (H-*) carry no Ekso level: they are verified by the project's own tests. */
  readonly level: Level | null;
  readonly side: Side;
  readonly group: Group;
  readonly statement: string;
  readonly source: string;
  /** Present when the requirement is only checked on request (the option that enables it). */
  readonly optIn?: string;
}

export const GROUP_TITLES: Readonly<Record<Group, string>> = {
  AK: 'Backend: API keys',
  RT: 'Backend: refresh tokens and rotation',
  DF: 'Backend: device flow',
  CM: 'Backend: client marker (Web / Cli / Sdk)',
  ERR: 'Backend: authentication enforcement and errors',
  SDK: 'SDK: IEksoAuth behaviour',
  STORE: 'SDK: token store',
  H: 'Harness product requirements',
};

type Row = readonly [id: string, level: Level | null, statement: string, source: string, optIn?: string];

// `const R`: the ids stay literal types, so that `RequirementId` is the union of the catalog's ids.
function group<const R extends readonly Row[]>(groupId: Group, side: Side, rows: R): CatalogEntry<R[number][0]>[] {
  return rows.map(([id, level, statement, source, optIn]) => ({
    id,
    level,
    side,
    group: groupId,
    statement,
    source,
    ...(optIn ? { optIn } : {}),
  }));
}

const CATALOG = [
  ...group('AK', 'backend', [
    ['AK-01', 'MUST', 'A super-admin mints a key with POST /api/admin/api-key {name, expiresAt?}; the response holds the raw key in `rawKey`, starting `ek_live_`, and an `id` that revokes it.', 'seed; docs'],
    ['AK-02', 'MUST', 'The raw key is returned exactly once: no later response of any endpoint (listing, lookups, errors) contains it.', 'seed'],
    ['AK-03', 'MUST', 'The key listing (GET /api/admin/api-key) contains neither raw keys nor their hashes.', 'docs'],
    ['AK-04', 'MUST', 'A freshly minted key authenticates as `Authorization: Bearer <rawKey>` on the very next request (no read-after-write gap).', 'seed'],
    ['AK-05', 'MUST', "A key has its minter's permissions: a super-admin's key can mint and revoke keys, a non-admin's key cannot.", 'seed'],
    ['AK-06', 'MUST', 'A key minted without `expiresAt` does not expire on a timer.', 'seed'],
    ['AK-07', 'MUST', 'A key minted with `expiresAt` works before that instant and gets 401 after it.', 'seed'],
    ['AK-08', 'MUST', 'Once a key is revoked (POST …/{id}/revoke, or DELETE …/{id} where the profile says so) the very next request with it gets 401: no grace, no cache lag.', 'seed; docs'],
    ['AK-09', 'SHOULD', 'Revoking a revoked key succeeds again (idempotent); revoking an unknown id is a 4xx, never a 5xx.', 'docs'],
    ['AK-10', 'MUST', 'Minting, revoking or expiring one key never changes whether any other key works.', '[inferred]'],
    ['AK-11', 'MUST', 'Only a super-admin may mint: any other credential gets 403 `Permission` and no key is created.', 'docs (NuGet README)'],
    ['AK-12', 'SHOULD', 'A mint request with an invalid body (no `name`; `expiresAt` not a date or in the past) gets 400 `Validation` naming the field and creates no key.', 'docs error model [inferred]'],
    ['AK-13', 'SHOULD', 'Raw keys are unpredictable: no two mints repeat, and the part after `ek_live_` carries at least 128 bits of entropy (judged by length and alphabet).', 'RFC 6749 §10.10 by analogy [inferred]'],
  ]),
  ...group('RT', 'backend', [
    ['RT-01', 'MUST', 'POST /token with grant_type=refresh_token, the refresh token and client_id returns a new access token and a new refresh token, in the RFC 6749 §5.1 shape (access_token, token_type Bearer, positive expires_in, refresh_token).', 'seed; RFC 6749 §5.1, §6'],
    ['RT-02', 'MUST', 'An access token authenticates API requests until it expires, and gets 401 afterwards.', 'seed; RFC 6750'],
    ['RT-03', 'MUST', 'After a rotation the superseded refresh token is dead: it gets 400 invalid_grant (under grace=<s> only the immediately previous token may still succeed, and only within s seconds).', 'seed; RFC 9700 §4.14.2'],
    ['RT-04', 'MUST', "Presenting a superseded refresh token (a replay) revokes the whole family: the family's newest refresh token fails afterwards.", 'seed ("family-rotation replay detection")'],
    ['RT-05', 'SHOULD', "After replay detection, the family's access tokens are rejected too.", 'RFC 9700 §4.14.2 [inferred]'],
    ['RT-06', 'MUST', 'Replay detection, expiry or revocation in one family never affects another family, even one of the same user.', '[inferred]'],
    ['RT-07', 'MUST', 'Concurrent refreshes presenting one refresh token (on separate connections) leave at most one live successor family: at most one succeeds under strict; under grace the successes return the same pair or leave a single live successor.', 'RFC 9700 §4.14.2 [inferred]'],
    ['RT-08', 'SHOULD', 'A refresh token is bound to its client: presented with another client_id it fails with invalid_grant and is not rotated.', 'RFC 6749 §6'],
    ['RT-09', 'MUST', 'A refresh token dies after the inactivity window (Ekso: about 7 days; the profile sets it), and every successful rotation restarts the window (sliding).', 'seed; docs'],
    ['RT-10', 'MUST', 'An unknown, malformed, truncated or empty refresh token gets a 400 OAuth error (invalid_grant or invalid_request): never tokens, never a 5xx.', 'RFC 6749 §5.2'],
    ['RT-11', 'SHOULD', 'Token responses carry `Cache-Control: no-store`.', 'RFC 6749 §5.1'],
  ]),
  ...group('DF', 'backend', [
    ['DF-01', 'MUST', 'The device authorization endpoint (from RFC 8414 metadata, else the profile) returns device_code, user_code, verification_uri, expires_in and interval; verification_uri_complete SHOULD be present.', 'docs; RFC 8628 §3.2'],
    ['DF-02', 'MUST', 'Polling /token before approval gets authorization_pending; after approval it returns one token pair; the device code cannot be redeemed twice.', 'RFC 8628 §3.5'],
    ['DF-03', 'SHOULD', 'A denied request gets access_denied; an expired device code gets expired_token (a server that never sends slow_down is not failed).', 'RFC 8628 §3.5'],
  ]),
  ...group('CM', 'backend', [
    ['CM-01', 'MUST', 'Requests authenticated by an API key are `Sdk`: the system-field metadata update gets 403 `Permission`.', 'seed; docs'],
    ['CM-02', 'MUST', 'Requests with device-flow tokens are `Cli`: the system-field metadata update gets 403 `Permission`.', 'seed; docs'],
    ['CM-03', 'MUST', 'Requests with web authorization-code tokens (no EksoClient claim) are `Web`: the system-field metadata update is allowed.', 'seed; docs'],
    ['CM-04', 'MUST', "The marker survives rotation: every access token of a family keeps the family's marker.", 'docs'],
    ['CM-05', 'MUST', "Updating a system list field's values (PUT /api/field/list/data) is allowed for Web, Cli and Sdk.", 'docs'],
    ['CM-06', 'MUST', 'A refused (403) gated update changes nothing: reading the field back gives what was there before.', '[inferred]'],
    ['CM-07', 'MUST', 'A caller cannot choose its marker: headers, query parameters or body fields claiming another client do not change the decision.', '[inferred]'],
  ]),
  ...group('ERR', 'backend', [
    ['ERR-01', 'MUST', 'Protected /api endpoints answer 401 (never 2xx, never 5xx) to no credentials, a malformed Authorization header, an unknown ek_live_ key, a truncated or tampered token, a token signed with another key, or an alg:none token.', 'RFC 6750 §3'],
    ['ERR-02', 'SHOULD', '401 responses carry `WWW-Authenticate: Bearer`, with error="invalid_token" when a bearer credential was presented and no error code when none was.', 'RFC 6750 §3'],
    ['ERR-03', 'MUST', 'Error bodies of /api endpoints (400, 403, 422, 500) are {kind, message, fields?} with kind matching the status (Validation, Permission, Logic, Exception); `fields` entries {field, code} only for Validation. OAuth endpoints use RFC 6749 {error, error_description?}.', 'docs; RFC 6749 §5.2'],
    ['ERR-04', 'SHOULD', 'Past the rate limit (50 requests/s per IP) the API answers 429 with a Retry-After header.', 'docs', '--check-rate-limit'],
  ]),
  ...group('SDK', 'sdk', [
    ['SDK-01', 'MUST', 'ApiKeyAuth sends `Authorization: Bearer <key>` on every request and never calls the token endpoint.', 'seed'],
    ['SDK-02', 'MUST', 'With only a tenant configured, requests go to https://{Tenant}.ekso.app; a configured base URL replaces it for every API request.', 'seed'],
    ['SDK-03', 'MUST', 'RefreshableBearerAuth sends its current access token as `Authorization: Bearer` on every request.', 'seed'],
    ['SDK-04', 'MUST', 'It never sends an access token past its expiry: a request made after expiry (or within the declared refresh margin) refreshes first.', 'seed ("when the access token nears expiry")'],
    ['SDK-05', 'SHOULD', 'It does not refresh needlessly: at most one refresh per access-token lifetime while calls keep succeeding.', '[inferred]'],
    ['SDK-06', 'MUST', 'Single flight: when several concurrent calls need a refresh, exactly one refresh reaches the token endpoint and every call proceeds with the new access token.', 'seed (replay detection makes a second refresh fatal)'],
    ['SDK-07', 'MUST', 'After a rotation it never presents the superseded refresh token again.', 'seed'],
    ['SDK-08', 'MUST', 'TokensRefreshed fires exactly once per successful rotation with the new access token, refresh token and expiry, before any call using the new access token completes.', 'seed'],
    ['SDK-09', 'MUST', 'A 401 on a call with a refreshable credential leads to fresh credentials and one retry (refresh once, join a refresh in flight, or use a token rotated meanwhile); a second 401 surfaces EksoAuthException: no loop, no exception without trying fresh credentials.', 'docs (error handling)'],
    ['SDK-10', 'MUST', 'When the refresh is refused (invalid_grant) every waiting call fails with EksoAuthException reason Expired, and no further refresh is attempted with that token.', 'docs (error handling)'],
    ['SDK-11', 'SHOULD', 'A transient token-endpoint failure (5xx, reset, timeout) keeps the session: a later call refreshes with the same refresh token and succeeds.', '[inferred]'],
    ['SDK-12', 'MUST', 'The refresh is a POST to the configured token endpoint with grant_type=refresh_token, the refresh token and the configured client_id.', 'seed'],
    ['SDK-13', 'MUST', 'Errors map to the documented types: 429 → EksoRateLimitException with RetryAfter from Retry-After; 400 with a validation body → EksoValidationException with field errors; other non-2xx → EksoApiException with the status; transport failure → EksoNetworkException.', 'docs (error handling)'],
    ['SDK-14', 'MUST', 'A rejected API key (401, refresh impossible) surfaces EksoAuthException with reason Revoked or Invalid and is not retried.', 'docs (error handling)'],
  ]),
  ...group('STORE', 'sdk', [
    ['STORE-01', 'MUST', 'Stored token pairs are keyed by (Tenant, ClientId, Environment): saving under one key never changes what another key loads.', 'seed'],
    ['STORE-02', 'MUST', 'A client resumed from the store after a rotation (the pair saved from TokensRefreshed) presents the rotated refresh token, never the superseded one.', 'seed'],
    ['STORE-03', 'SHOULD', 'A store on disk writes atomically and is readable by its owner only (mode 0600 or stricter).', '[inferred]'],
  ]),
  ...group('H', 'harness', [
    ['H-01', null, 'No secret from the target appears in any report, console line or log: secrets are shown as fingerprints (prefix, length, first 8 hex digits of SHA-256).', 'product'],
    ['H-02', null, 'Every API key the harness mints is revoked before it exits (success, failure, timeout, crash of a check, Ctrl-C), and the report states minted / revoked / leaked counts.', 'product'],
    ['H-03', null, 'Every failure is reproducible: seed and path, the shrunk minimal steps, the redacted HTTP transcript, and a command line replaying just that check.', 'product'],
    ['H-04', null, 'Against a conformant target the harness reports no failure, whatever the seed.', 'product'],
    ['H-05', null, 'Against a misbehaving or unreachable target the harness never crashes: it diagnoses, marks checks inconclusive or failed, and still writes its reports.', 'product'],
    ['H-06', null, 'It sends no request to any host but the target, honours --rate (default 40/s off loopback) and refuses plain http:// to a non-loopback host unless --insecure.', 'product'],
  ]),
];

/** Every id of the catalog (a check naming another does not compile). */
export type RequirementId = (typeof CATALOG)[number]['id'];
export type Requirement = CatalogEntry<RequirementId>;

export const REQUIREMENTS: readonly Requirement[] = Object.freeze(CATALOG);


const BY_ID = new Map<string, Requirement>(REQUIREMENTS.map((r) => [r.id, r]));

/** The catalog entry of an id (ids also come from files and flags: a string; unknown ones throw). */
export function requirement(id: string): Requirement {
  const found = BY_ID.get(id);
  if (!found) throw new Error(`unknown requirement id ${id}`);
  return found;
}

export function isRequirementId(id: string): id is RequirementId {
  return BY_ID.has(id);
}

/** The Ekso requirements (backend and SDK sides) that every report lists with a verdict. */
export function eksoRequirements(): Requirement[] {
  return REQUIREMENTS.filter((r) => r.side !== 'harness');
}

export function requirementsOfSide(side: Side): Requirement[] {
  return REQUIREMENTS.filter((r) => r.side === side);
}
