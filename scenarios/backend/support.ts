/**
 * Small judging helpers shared by the backend checks: they turn a raw response into the fact a
 * requirement talks about ("the key was accepted", "an OAuth error invalid_grant"), and throw a
 * Violation naming the requirement when the answer is outside what the requirement allows.
 */
import { createHash } from 'node:crypto';
import { deviation, Violation } from '../../src/engine/outcomes.js';
import type { HttpResponse } from '../../src/targets/http.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import { CLIENT_REFUSALS, type TokenPair } from '../../src/targets/backend/token-sources.js';
import { EksoErrorBody, MintResponse, OAuthError, TokenResponse, UsableTokens, parseWire } from '../../src/spec/wire.js';
import type { RequirementId } from '../../src/spec/requirements.js';

/** A one-line, redacted description of a response for expected/actual. */
export function describe(session: BackendSession, response: HttpResponse): string {
  // Redacted before it is clipped: a clipped secret no longer matches the secret, nor its shape.
  const body = session.redactor.text(response.text).replace(/\s+/g, ' ').trim();
  const clipped = body.length > 200 ? `${body.slice(0, 200)}…` : body;
  return session.redactor.text(`${response.status}${clipped ? ` ${clipped}` : ''}`);
}

export const is2xx = (r: HttpResponse) => r.status >= 200 && r.status < 300;

/** Authentication outcome of a request: 2xx accepted, 401 rejected, anything else a violation. */
export function authOutcome(
  session: BackendSession,
  response: HttpResponse,
  requirement: RequirementId,
  what: string,
): 'accepted' | 'rejected' {
  if (is2xx(response)) return 'accepted';
  if (response.status === 401) return 'rejected';
  throw new Violation(requirement, '2xx (accepted) or 401 (rejected)', describe(session, response), `${what}: neither accepted nor rejected with 401`);
}

export function expectStatus(
  session: BackendSession,
  response: HttpResponse,
  allowed: (status: number) => boolean,
  requirement: RequirementId,
  summary: string,
  expected: string,
): void {
  if (!allowed(response.status)) throw new Violation(requirement, expected, describe(session, response), summary);
}

/** Parses a successful mint; anything else violates AK-01. */
export function mintedKey(session: BackendSession, response: HttpResponse): MintResponse {
  if (!is2xx(response)) throw new Violation('AK-01', '2xx with {id, rawKey}', describe(session, response), 'a super-admin could not mint a key');
  const parsed = parseWire(MintResponse, response.json);
  if (!parsed.ok) throw new Violation('AK-01', 'a mint response with id and rawKey', `${parsed.error} in ${describe(session, response)}`, 'the mint response has the wrong shape');
  if (!parsed.value.rawKey.startsWith('ek_live_')) {
    throw new Violation('AK-01', 'rawKey beginning "ek_live_"', session.redactor.text(parsed.value.rawKey), 'the raw key has the wrong prefix');
  }
  return parsed.value;
}

/** The tokens of a token response, as far as they can be used (the shape is judged apart). */
export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  /** Absent when the response lacked a positive `expires_in` (an RT-01 deviation). */
  expires_in?: number;
}

/**
 * The tokens of a successful token response. `requirement` is the behaviour the caller judges
 * (a refresh inside the idle window must succeed: RT-09): anything but a 200 violates it. The
 * §5.1 shape is a separate matter: RT-01's for refresh responses (`shape`; DF-02 for the device
 * flow), whichever check looks at the answer. A shape deviation whose tokens are still usable
 * (say `token_type` missing) is recorded, and — once known — the check goes on with the tokens the
 * target returned, so that a shape failure never leaves the behavioural requirements unexplored.
 */
export function tokenPair(session: BackendSession, response: HttpResponse, requirement: RequirementId = 'RT-01', shape: RequirementId = requirement === 'DF-02' ? 'DF-02' : 'RT-01'): IssuedTokens {
  const expected = '200 {access_token, token_type: Bearer, expires_in > 0, refresh_token}';
  if (response.status !== 200) throw new Violation(requirement, expected, describe(session, response), 'the token endpoint did not answer with a token pair');
  const parsed = parseWire(TokenResponse, response.json);
  if (parsed.ok) return parsed.value;
  const violation = new Violation(shape, expected, `${parsed.error}: ${describe(session, response)}`, 'not an RFC 6749 §5.1 token response');
  const usable = parseWire(UsableTokens, response.json);
  if (!usable.ok) throw violation;
  deviation(violation);
  const { access_token, refresh_token, expires_in } = usable.value;
  return { access_token, refresh_token, ...(typeof expires_in === 'number' && expires_in > 0 ? { expires_in } : {}) };
}

/** The OAuth error code of a 4xx answer, or null when the answer is not an RFC 6749 error. */
export function oauthErrorCode(response: HttpResponse): string | null {
  const parsed = parseWire(OAuthError, response.json);
  return parsed.ok ? parsed.value.error : null;
}

/**
 * An RFC 6749 §5.2 refusal of the client itself (`invalid_client`, `unauthorized_client`; 400,
 * or 401 as §5.2 allows): the target did not judge the grant, so a requirement about the grant
 * cannot be judged from it — the harness's client configuration is in question.
 */
export function isClientRefusal(response: HttpResponse): boolean {
  const code = oauthErrorCode(response);
  return (response.status === 400 || response.status === 401) && code !== null && CLIENT_REFUSALS.includes(code);
}

/** Asserts an RFC 6749 §5.2 refusal: status 400 and `error` in `codes`. */
export function expectOAuthError(
  session: BackendSession,
  response: HttpResponse,
  codes: readonly string[],
  requirement: RequirementId,
  summary: string,
): string {
  const code = oauthErrorCode(response);
  if (response.status !== 400 || !code || !codes.includes(code)) {
    throw new Violation(requirement, `400 {"error": ${codes.map((c) => `"${c}"`).join(' or ')}}`, describe(session, response), summary);
  }
  return code;
}

export function eksoErrorKind(response: HttpResponse): string | null {
  const parsed = parseWire(EksoErrorBody, response.json);
  return parsed.ok ? parsed.value.kind : null;
}

/** A refusal by the marker / permission gate: 403 with an Ekso `Permission` body. */
export function expectPermissionDenied(session: BackendSession, response: HttpResponse, requirement: RequirementId, summary: string): void {
  const kind = eksoErrorKind(response);
  if (response.status !== 403 || kind !== 'Permission') {
    throw new Violation(requirement, '403 {"kind": "Permission", …}', describe(session, response), summary);
  }
}

/** Every representation of a raw key's SHA-256 a careless listing could leak (AK-03). */
export function hashForms(rawKey: string): string[] {
  const digest = createHash('sha256').update(rawKey).digest();
  return [digest.toString('hex'), digest.toString('hex').toUpperCase(), digest.toString('base64'), digest.toString('base64url')];
}

export function pairLabel(pair: TokenPair): string {
  return `${pair.marker} family`;
}
