/**
 * Mutants of refresh tokens and rotation (RT-*): protected-method overrides of the reference
 * backend, or a store whose one method departs from the reference store.
 */
import { randomUUID } from 'node:crypto';
import {
  InMemoryBackendStore,
  ReferenceBackend,
  type AccessTokenCheck,
  type AccessTokenClaims,
  type ConsumeResult,
  type FamilyRecord,
  type RefreshTokenRecord,
  type TokenOutcome,
} from '../../reference/backend/index.js';
import type { BackendMutant } from '../registry.js';
import { REFRESH_RE, sha256Hex, sleep, storeMutant, subclassMutant } from './support.js';

/**
 * RT-01: the refresh grant validates the token as usual but hands back the *same* refresh token
 * (no rotation); its idle window still restarts, so nothing else changes.
 */
class RefreshStopsRotating extends ReferenceBackend {
  protected override async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const fail = (description: string): TokenOutcome => ({ ok: false, status: 400, error: 'invalid_grant', description });
    if (!REFRESH_RE.test(presented)) return fail('unknown refresh token');
    const token = await this.store.getRefreshToken(sha256Hex(presented));
    const family = token && (await this.store.getFamily(token.familyId));
    if (!token || !family) return fail('unknown refresh token');
    if (!this.isClientBound(family, clientId)) return fail('refresh token was issued to another client');
    if (family.revokedAt !== null) return fail('refresh token revoked');
    const now = this.clock.now();
    if (!this.isWithinIdleWindow(token, family, now)) return fail('refresh token expired');
    // The break: no successor; the presented token stays current (sliding window kept).
    await this.store.putRefreshToken({ ...token, issuedAt: now });
    return { ok: true, pair: this.tokenPair(family, presented, now) };
  }
}

/** RT-02: access tokens are never judged expired. */
class AccessTokenNeverExpires extends ReferenceBackend {
  protected override isAccessTokenExpired(_claims: AccessTokenClaims, _now: number): boolean {
    return false;
  }
}

/** RT-03: a replayed (superseded) refresh token is refused with HTTP 403 instead of 400. */
class ReplayRefusedWith403 extends ReferenceBackend {
  protected override async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const outcome = await super.rotateRefreshToken(presented, clientId);
    return !outcome.ok && outcome.description.startsWith('refresh token reused') ? { ...outcome, status: 403 } : outcome;
  }
}

/**
 * RT-03 under `grace=<s>`: the grace rule accepts *any* superseded token of the family within the
 * window, not only the immediately previous one. Otherwise as the reference (a grace retry
 * discards the current token, so one live successor remains).
 */
class GenerationLeakStore extends InMemoryBackendStore {
  override async consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number, graceMs = 0): Promise<ConsumeResult> {
    const token = this.refreshTokens.get(hash);
    const family = token && this.families.get(token.familyId);
    if (!token || !family || family.currentHash === token.hash || family.revokedAt !== null || graceMs <= 0) {
      return super.consumeRefreshToken(hash, successor, now, graceMs);
    }
    const current = this.refreshTokens.get(family.currentHash);
    // The break: no "successor is the current token" condition.
    const withinWindow = token.supersededAt !== null && token.discardedAt === null && now - token.supersededAt <= graceMs;
    if (!current || !withinWindow) return super.consumeRefreshToken(hash, successor, now, graceMs);
    const next: RefreshTokenRecord = { ...structuredClone(successor), familyId: family.id };
    current.supersededAt = now;
    current.successorHash = null;
    current.discardedAt = now;
    token.successorHash = next.hash;
    this.refreshTokens.set(next.hash, next);
    family.currentHash = next.hash;
    return { kind: 'grace', token: structuredClone(token), family: structuredClone(family), discardedHash: current.hash };
  }
}

/**
 * RT-04: replay detection revokes the family (its access tokens die) but carries the current
 * refresh token over to a new family record, so the newest refresh token keeps working.
 */
class ReplayResurrectsCurrentToken extends ReferenceBackend {
  protected override async onReplayDetected(family: FamilyRecord, token: RefreshTokenRecord, now: number): Promise<void> {
    await super.onReplayDetected(family, token, now);
    const head = await this.store.getRefreshToken(family.currentHash);
    if (!head) return;
    // The break: "revoke what was issued so far" re-parents the chain's head into a live family.
    const survivor: FamilyRecord = { ...family, id: randomUUID(), revokedAt: null, revokedReason: null };
    await this.store.putFamily(survivor);
    await this.store.putRefreshToken({ ...head, familyId: survivor.id });
  }
}

/** RT-05: access tokens do not check whether their family was revoked. */
class AccessTokenIgnoresFamilyRevocation extends ReferenceBackend {
  protected override async validateAccessToken(token: string, now: number): Promise<AccessTokenCheck> {
    const verified = this.verifyAccessTokenSignature(token);
    if (!verified.ok) return { ok: false, why: 'invalid' };
    const claims = this.readClaims(verified.payload);
    if (!claims) return { ok: false, why: 'invalid' };
    const family = await this.store.getFamily(claims.fam);
    if (!family || family.userId !== claims.sub || family.clientId !== claims.client_id) return { ok: false, why: 'invalid' };
    if ((family.marker === 'Cli') !== (claims.EksoClient === 'Cli')) return { ok: false, why: 'invalid' };
    // The break: no `family.revokedAt` check.
    if (this.isAccessTokenExpired(claims, now)) return { ok: false, why: 'expired' };
    return { ok: true, claims, family };
  }
}

/** RT-06: revoking a family revokes every family of the same user (WHERE user_id = ?). */
class RevokeAllFamiliesOfUserStore extends InMemoryBackendStore {
  override async revokeFamily(id: string, now: number, reason: string): Promise<void> {
    const target = this.families.get(id);
    if (!target) return;
    for (const family of this.families.values()) {
      if (family.userId === target.userId && family.revokedAt === null) {
        family.revokedAt = now;
        family.revokedReason = reason;
      }
    }
  }
}

/**
 * RT-07: the rotation is check-then-act across an await (read, a few ms of "database round
 * trip", write): concurrent refreshes of one token all pass the check and fork the family.
 */
class CheckThenActStore extends InMemoryBackendStore {
  static readonly roundTripMs = 5;

  override async consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number, graceMs = 0): Promise<ConsumeResult> {
    const token = await this.getRefreshToken(hash);
    const family = token && (await this.getFamily(token.familyId));
    if (!token || !family) return { kind: 'unknown' };
    if (family.revokedAt !== null) return { kind: 'family-revoked', token, family };
    if (family.currentHash !== token.hash) {
      // Not the racy path (and grace, if any, as the reference decides it).
      return graceMs > 0 ? super.consumeRefreshToken(hash, successor, now, graceMs) : { kind: 'replay', token, family };
    }
    await sleep(CheckThenActStore.roundTripMs);
    const next: RefreshTokenRecord = { ...successor, familyId: family.id };
    await this.putRefreshToken({ ...token, supersededAt: now, successorHash: next.hash });
    await this.putRefreshToken(next);
    await this.putFamily({ ...family, currentHash: next.hash });
    return { kind: 'rotated', token, family: { ...family, currentHash: next.hash } };
  }
}

/**
 * RT-07 under `grace=<s>`: a grace retry issues a new pair but does not retire the first
 * successor: both branches stay refreshable (a fork).
 */
class GraceRetryKeepsFirstSuccessorStore extends InMemoryBackendStore {
  override async consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number, graceMs = 0): Promise<ConsumeResult> {
    const token = this.refreshTokens.get(hash);
    const family = token && this.families.get(token.familyId);
    if (!token || !family || family.currentHash === token.hash || family.revokedAt !== null || graceMs <= 0) {
      return super.consumeRefreshToken(hash, successor, now, graceMs);
    }
    const isImmediatelyPrevious = token.successorHash === family.currentHash && token.supersededAt !== null && token.discardedAt === null;
    if (!isImmediatelyPrevious || now - (token.supersededAt ?? now) > graceMs) return super.consumeRefreshToken(hash, successor, now, graceMs);
    // The break: the retry's pair lives in a sibling family; the first successor stays current.
    const sibling: FamilyRecord = { ...structuredClone(family), id: randomUUID(), currentHash: successor.hash };
    this.families.set(sibling.id, sibling);
    this.refreshTokens.set(successor.hash, { ...structuredClone(successor), familyId: sibling.id });
    return { kind: 'grace', token: structuredClone(token), family: structuredClone(sibling), discardedHash: '' };
  }
}

/** RT-08: the refresh grant does not check which client the family was issued to. */
class RefreshIgnoresClientBinding extends ReferenceBackend {
  protected override isClientBound(_family: FamilyRecord, _clientId: string): boolean {
    return true;
  }
}

/** RT-09: refresh tokens never idle out. */
class RefreshNeverIdlesOut extends ReferenceBackend {
  protected override isWithinIdleWindow(_token: RefreshTokenRecord, _family: FamilyRecord, _now: number): boolean {
    return true;
  }
}

/** RT-09: the idle window counts from the family's creation, so rotations do not slide it. */
class IdleWindowNotSliding extends ReferenceBackend {
  protected override isWithinIdleWindow(_token: RefreshTokenRecord, family: FamilyRecord, now: number): boolean {
    return now - family.createdAt < this.refreshIdleWindowSeconds * 1000;
  }
}

/**
 * RT-10: a refresh token that is not in the expected format makes the decoder throw; the token
 * endpoint turns that into 500 server_error (an RFC 6749-shaped body, so only RT-10 is broken).
 */
class MalformedRefreshToken500 extends ReferenceBackend {
  protected override async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    if (!REFRESH_RE.test(presented)) return { ok: false, status: 500, error: 'server_error', description: 'could not decode the refresh token' };
    return super.rotateRefreshToken(presented, clientId);
  }
}

/** RT-11: token responses carry no Cache-Control / Pragma. */
class TokenResponseCacheable extends ReferenceBackend {
  protected override tokenResponseHeaders(): Record<string, string> {
    return {};
  }
}

/**
 * RT-04 + RT-05: a replay is refused (RT-03 holds) but detected as nothing: the family is not
 * revoked, so its newest refresh token and its access tokens keep working. One behaviour, two
 * requirements.
 */
class ReplayNotDetected extends ReferenceBackend {
  protected override async onReplayDetected(): Promise<void> {}
}

/**
 * RT-01 + RT-11: refresh responses omit `token_type`, and token responses `Cache-Control` (the
 * tokens themselves are fine). A shape deviation: every behavioural requirement of rotation must
 * still get its own verdict behind it.
 */
class RefreshResponseWithoutTokenType extends ReferenceBackend {
  protected override async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const outcome = await super.rotateRefreshToken(presented, clientId);
    if (!outcome.ok) return outcome;
    const { token_type: _omitted, ...pair } = outcome.pair;
    return { ...outcome, pair: pair as typeof outcome.pair };
  }
  protected override tokenResponseHeaders(): Record<string, string> {
    return {};
  }
}

export const ROTATION_MUTANTS: readonly BackendMutant[] = [
  subclassMutant(
    {
      name: 'refresh-stops-rotating',
      description: 'The refresh grant returns the same refresh token again (no rotation); everything else as the reference',
      breaks: ['RT-01'],
      modelledOn: "a refresh that silently stops rotating (cf. node oidc-provider's default rotateRefreshToken, which stops rotating after a year; anchors §9)",
    },
    RefreshStopsRotating,
  ),
  subclassMutant(
    {
      name: 'refresh-response-without-token-type',
      description: 'Refresh responses omit token_type, token responses Cache-Control; the tokens themselves are fine (a shape deviation that must not mask rotation behaviour)',
      breaks: ['RT-01', 'RT-11'],
      modelledOn: 'token endpoints returning {access_token, refresh_token, expires_in} only (seen in hand-written issuers; RFC 6749 §5.1 makes token_type REQUIRED)',
    },
    RefreshResponseWithoutTokenType,
  ),
  subclassMutant(
    {
      name: 'replay-not-detected',
      description: 'A replayed refresh token is refused, but the family is not revoked: its newest refresh token and its access tokens keep working',
      breaks: ['RT-04', 'RT-05'],
      modelledOn: 'single-use refresh tokens without reuse detection (RFC 9700 §4.14.2 asks for family revocation)',
    },
    ReplayNotDetected,
  ),
  subclassMutant({ name: 'access-token-never-expires', description: 'Access tokens are accepted past their exp', breaks: ['RT-02'] }, AccessTokenNeverExpires),
  subclassMutant(
    {
      name: 'replay-refused-with-403',
      description: 'A superseded refresh token is refused with HTTP 403 invalid_grant instead of 400 (the family is still revoked)',
      breaks: ['RT-03'],
      modelledOn: 'Auth0 answering refresh-token reuse with 403 invalid_grant (anchors §9)',
    },
    ReplayRefusedWith403,
  ),
  {
    ...storeMutant(
      {
        name: 'grace-accepts-older-generations',
        description: 'Under a grace policy, any superseded token of the family (not only the previous one) is accepted within the window',
        breaks: ['RT-03'],
        modelledOn: 'django-oauth-toolkit #1617 (grace period accepted refresh tokens several generations old)',
      },
      () => new GenerationLeakStore(),
    ),
    runWith: { policy: 'grace=30' },
  },
  subclassMutant(
    {
      name: 'replay-resurrects-current-token',
      description: "Replay detection revokes the family's access tokens but carries its newest refresh token over to a new family",
      breaks: ['RT-04'],
      modelledOn: 'supabase discussion #52614 (a descendant refresh succeeding after family revocation)',
    },
    ReplayResurrectsCurrentToken,
  ),
  subclassMutant(
    { name: 'access-token-outlives-revocation', description: 'Access tokens stay valid after replay detection revoked their family', breaks: ['RT-05'] },
    AccessTokenIgnoresFamilyRevocation,
  ),
  storeMutant(
    {
      name: 'replay-revokes-all-user-families',
      description: "Revoking a family revokes every family of the same user (WHERE user_id instead of family id)",
      breaks: ['RT-06'],
    },
    () => new RevokeAllFamiliesOfUserStore(),
  ),
  storeMutant(
    {
      name: 'race-refresh-check-then-act',
      description: 'The rotation reads, awaits a 5 ms store round trip, then writes: concurrent refreshes of one token both succeed',
      breaks: ['RT-07'],
      modelledOn: 'Keycloak GHSA-m2w5-7xhv-w6fh (refresh-token reuse check and update not atomic)',
    },
    () => new CheckThenActStore(),
  ),
  {
    ...storeMutant(
      {
        name: 'grace-retry-keeps-first-successor',
        description: 'Under a grace policy, a retry with the previous token issues a second successor without retiring the first: two live branches',
        breaks: ['RT-07'],
        modelledOn: 'WSO2 graceful rotation, which must revoke the previously rotated child on a replay (anchors §9)',
      },
      () => new GraceRetryKeepsFirstSuccessorStore(),
    ),
    runWith: { policy: 'grace=30' },
  },
  subclassMutant(
    { name: 'refresh-ignores-client-binding', description: 'A refresh token is accepted (and rotated) for any client_id', breaks: ['RT-08'] },
    RefreshIgnoresClientBinding,
  ),
  subclassMutant({ name: 'refresh-never-idles-out', description: 'Refresh tokens never die of inactivity', breaks: ['RT-09'] }, RefreshNeverIdlesOut),
  subclassMutant(
    { name: 'idle-window-not-sliding', description: "The idle window counts from the family's creation: rotations do not restart it", breaks: ['RT-09'] },
    IdleWindowNotSliding,
  ),
  subclassMutant(
    { name: 'malformed-refresh-token-500', description: 'A refresh token in an unexpected format makes the token endpoint answer 500 server_error', breaks: ['RT-10'] },
    MalformedRefreshToken500,
  ),
  subclassMutant({ name: 'token-response-cacheable', description: 'Token responses carry no Cache-Control: no-store', breaks: ['RT-11'] }, TokenResponseCacheable),
];
