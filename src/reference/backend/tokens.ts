/**
 * Token issuance of the reference backend: refresh-token families, access tokens and rotation
 * (RT-*), device authorization (DF-*), authorization codes with PKCE (Web families).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type ConsumeResult, type FamilyMarker, type FamilyRecord, type RefreshTokenRecord } from './store.js';
import { signHs256 } from './jwt.js';
import type { AccessTokenClaims, DeviceAuthorization, TokenOutcome, TokenPair } from './types.js';
import { REFRESH_PREFIX, REFRESH_RE, DEVICE_PREFIX, AUTH_CODE_PREFIX, JWT_ISSUER, JWT_AUDIENCE, USER_CODE_ALPHABET, AUTH_CODE_TTL_MS, PKCE_VERIFIER_RE, sha256Hex, randomToken, stringsEqualConstantTime } from './shared.js';
import { ApiKeyEndpoints } from './api-keys.js';

/** How long a dead token or code is kept (backend clock). */
export const RETENTION_MS = 24 * 3600 * 1000;
export abstract class TokenIssuer extends ApiKeyEndpoints {
  // ---------------------------------------------------------------------------------------------
  // Tokens: families, access tokens, rotation (RT-*)

  protected newRefreshToken(now: number, familyId = ''): { raw: string; record: RefreshTokenRecord } {
    const raw = `${REFRESH_PREFIX}${randomToken(32)}`;
    return {
      raw,
      record: { hash: sha256Hex(raw), familyId, issuedAt: now, supersededAt: null, successorHash: null, discardedAt: null },
    };
  }

  protected signAccessToken(family: FamilyRecord, now: number): string {
    const iat = Math.floor(now / 1000);
    const claims: AccessTokenClaims = {
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: family.userId,
      client_id: family.clientId,
      fam: family.id,
      jti: randomUUID(),
      iat,
      exp: iat + this.accessTokenTtlSeconds,
    };
    // CM-02..04: the marker is persisted on the family and stamped on every access token of it.
    if (family.marker === 'Cli') claims.EksoClient = 'Cli';
    return signHs256({ ...claims }, this.jwtSecret);
  }

  protected tokenPair(family: FamilyRecord, refreshToken: string, now: number): TokenPair {
    return {
      access_token: this.signAccessToken(family, now),
      token_type: 'Bearer',
      expires_in: this.accessTokenTtlSeconds,
      refresh_token: refreshToken,
    };
  }

  /** Starts a new family (device flow → `Cli`, authorization code → `Web`). */
  protected async issueFamily(userId: string, clientId: string, marker: FamilyMarker, now: number, familyId: string = randomUUID()): Promise<TokenPair> {
    const first = this.newRefreshToken(now, familyId);
    const family: FamilyRecord = {
      id: familyId,
      userId,
      clientId,
      marker,
      createdAt: now,
      currentHash: first.record.hash,
      revokedAt: null,
      revokedReason: null,
    };
    await this.store.insertFamily(family, first.record);
    await this.noteIssued(now);
    return this.tokenPair(family, first.raw, now);
  }

  /**
   * Retention, as a real backend purges dead rows: every `purgeEvery` tokens and codes issued,
   * the rows dead for more than `RETENTION_MS` (plus the access-token lifetime) of the backend's
   * clock are deleted — codes past their expiry, families revoked or idled out with their refresh
   * tokens, and revoked API keys unless the listing shows them (`listRevokedKeys`) (issue 13: a
   * deep run issues 100,000+ of them, and device approvals looked through every code ever
   * issued). Presenting a purged refresh token or code gets `invalid_grant` (unknown), which is
   * what a dead one gets anyway, and an access token of a purged family gets 401 `invalid_token`
   * as it would for being expired (its family died a day after its expiry). What changes: a
   * device code expired for more than a day answers `invalid_grant` rather than `expired_token`,
   * the 401's description (of an access token or an API key) says `invalid` rather than
   * `revoked`/`expired`, and a superseded token of a family dead for a day revokes nothing (there
   * is nothing left to revoke).
   */
  protected override async noteIssued(now: number): Promise<void> {
    if (++this.issuedSincePurge < this.purgeEvery) return;
    this.issuedSincePurge = 0;
    const before = now - RETENTION_MS - this.accessTokenTtlSeconds * 1000;
    await this.store.purge?.(
      before,
      (family, current) => (family.revokedAt !== null ? family.revokedAt < before : current === undefined || !this.isWithinIdleWindow(current, family, before)),
      // The audit-style listing shows every key ever minted: none is purged then.
      { revokedKeys: !this.listRevokedKeys },
    );
  }
  private issuedSincePurge = 0;
  /** How many tokens and codes are issued between two looks for the dead. */
  protected readonly purgeEvery: number = 1000;

  /** RT-08: a family is bound to the client it was issued to. */
  protected isClientBound(family: FamilyRecord, clientId: string): boolean {
    return family.clientId === clientId;
  }

  /** RT-09: the idle window starts when the token was issued, i.e. at the last rotation. */
  protected isWithinIdleWindow(token: RefreshTokenRecord, _family: FamilyRecord, now: number): boolean {
    return now - token.issuedAt < this.refreshIdleWindowSeconds * 1000;
  }

  protected graceWindowMs(): number {
    return this.refreshPolicy.kind === 'grace' ? this.refreshPolicy.seconds * 1000 : 0;
  }

  /** The atomic check-and-mark of a rotation (RT-03, RT-07): one store call, no await inside. */
  protected consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number): Promise<ConsumeResult> {
    return this.store.consumeRefreshToken(hash, successor, now, this.graceWindowMs());
  }

  /** RT-04, RT-05: a replay revokes the whole family (its refresh and access tokens). */
  protected async onReplayDetected(family: FamilyRecord, _token: RefreshTokenRecord, now: number): Promise<void> {
    await this.store.revokeFamily(family.id, now, 'replay');
  }

  /** The refresh_token grant: the rotation transaction (RT-01, RT-03, RT-04, RT-08, RT-09, RT-10). */
  protected async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const fail = (description: string): TokenOutcome => ({ ok: false, status: 400, error: 'invalid_grant', description });
    if (!REFRESH_RE.test(presented)) return fail('unknown refresh token');
    const hash = sha256Hex(presented);
    const token = await this.store.getRefreshToken(hash);
    const family = token && (await this.store.getFamily(token.familyId));
    if (!token || !family) return fail('unknown refresh token');
    // Choice: a token presented by another client is refused before anything else and is
    // neither rotated, consumed nor treated as a replay (RT-08): the other client cannot use
    // it, and the rightful client keeps its session.
    if (!this.isClientBound(family, clientId)) return fail('refresh token was issued to another client');
    if (family.revokedAt !== null) return fail('refresh token revoked');
    const now = this.clock.now();
    // Only the current token can idle out; a superseded one is judged as a replay below.
    if (family.currentHash === token.hash && !this.isWithinIdleWindow(token, family, now)) return fail('refresh token expired');

    const successor = this.newRefreshToken(now, family.id);
    const result = await this.consumeRefreshToken(hash, successor.record, now);
    switch (result.kind) {
      case 'rotated':
      case 'grace':
        await this.noteIssued(now);
        return { ok: true, pair: this.tokenPair(result.family, successor.raw, now) };
      case 'replay':
        await this.onReplayDetected(result.family, result.token, now);
        return fail('refresh token reused: the session was revoked');
      case 'family-revoked':
        return fail('refresh token revoked');
      default:
        return fail('unknown refresh token');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Device flow (DF-*)

  protected newUserCode(): string {
    const bytes = randomBytes(8);
    let code = '';
    for (const byte of bytes) code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    return code;
  }

  /** RFC 8628 §6.1: case-insensitive, punctuation ignored. */
  protected normalizeUserCode(input: string): string {
    return input.toUpperCase().replace(/[^A-Z0-9]/g, '');
  }

  protected formatUserCode(code: string): string {
    return `${code.slice(0, 4)}-${code.slice(4)}`;
  }

  protected async startDeviceAuthorization(clientId: string): Promise<DeviceAuthorization> {
    const now = this.clock.now();
    let userCode = this.newUserCode();
    // User codes are short: redraw while a live request holds the same one.
    for (let i = 0; i < 10; i++) {
      const existing = await this.store.getDeviceCodeByUserCode(userCode);
      if (!existing || now >= existing.expiresAt) break;
      userCode = this.newUserCode();
    }
    const deviceCode = `${DEVICE_PREFIX}${randomToken(32)}`;
    await this.store.insertDeviceCode({
      hash: sha256Hex(deviceCode),
      userCode,
      clientId,
      createdAt: now,
      expiresAt: now + this.deviceCodeTtlSeconds * 1000,
      status: 'pending',
      userId: null,
      familyId: null,
    });
    await this.noteIssued(now);
    return { deviceCode, userCode: this.formatUserCode(userCode), expiresIn: this.deviceCodeTtlSeconds, interval: this.deviceIntervalSeconds };
  }

  /** The device_code grant: pending / denied / expired / once only (DF-02, DF-03). */
  protected async redeemDeviceCode(deviceCode: string, clientId: string): Promise<TokenOutcome> {
    const fail = (error: string, description: string): TokenOutcome => ({ ok: false, status: 400, error, description });
    const hash = sha256Hex(deviceCode);
    const record = await this.store.getDeviceCode(hash);
    if (!record) return fail('invalid_grant', 'unknown device code');
    if (record.clientId !== clientId) return fail('invalid_grant', 'device code was issued to another client');
    const now = this.clock.now();
    const familyId = randomUUID();
    const claim = await this.store.claimDeviceCode(hash, now, familyId);
    switch (claim.kind) {
      case 'pending':
        return fail('authorization_pending', 'the user has not acted yet');
      case 'denied':
        return fail('access_denied', 'the user denied the request');
      case 'expired':
        return fail('expired_token', 'the device code has expired');
      case 'redeemed':
        return fail('invalid_grant', 'the device code was already redeemed');
      case 'claimed': {
        const userId = claim.record.userId;
        if (!userId) return fail('invalid_grant', 'the device code has no approving user');
        return { ok: true, pair: await this.issueFamily(userId, clientId, 'Cli', now, familyId) };
      }
      default:
        return fail('invalid_grant', 'unknown device code');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Authorization code + PKCE (Web families)

  protected async createAuthorizationCode(clientId: string, redirectUri: string, codeChallenge: string, userId: string): Promise<string> {
    const code = `${AUTH_CODE_PREFIX}${randomToken(32)}`;
    const now = this.clock.now();
    await this.store.insertAuthorizationCode({
      hash: sha256Hex(code),
      clientId,
      redirectUri,
      codeChallenge,
      userId,
      createdAt: now,
      expiresAt: now + AUTH_CODE_TTL_MS,
      usedAt: null,
      familyId: null,
    });
    await this.noteIssued(now);
    return code;
  }

  /** RFC 7636 §4.6, S256 only. */
  protected verifyPkce(verifier: string, challenge: string): boolean {
    if (!PKCE_VERIFIER_RE.test(verifier)) return false;
    const computed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
    return stringsEqualConstantTime(computed, challenge);
  }

  protected async exchangeAuthorizationCode(code: string, verifier: string, clientId: string, redirectUri: string): Promise<TokenOutcome> {
    const fail = (description: string): TokenOutcome => ({ ok: false, status: 400, error: 'invalid_grant', description });
    const hash = sha256Hex(code);
    const record = await this.store.getAuthorizationCode(hash);
    if (!record) return fail('unknown authorization code');
    // Choice: a code presented by the wrong client or with the wrong redirect_uri is refused
    // without consuming it (as for refresh tokens, RT-08) ...
    if (record.clientId !== clientId) return fail('authorization code was issued to another client');
    if (record.redirectUri !== redirectUri) return fail('redirect_uri does not match the authorization request');
    const now = this.clock.now();
    const familyId = randomUUID();
    const claim = await this.store.claimAuthorizationCode(hash, now, familyId);
    if (claim.kind === 'reused') {
      // RFC 6749 §4.1.2: a code used twice revokes what was issued from it.
      if (claim.record.familyId) await this.store.revokeFamily(claim.record.familyId, now, 'authorization code reused');
      return fail('authorization code already used');
    }
    if (claim.kind !== 'claimed') return fail(claim.kind === 'expired' ? 'authorization code expired' : 'unknown authorization code');
    // ... but a wrong verifier burns it: the code is single-use, and a guesser gets one try.
    if (!this.verifyPkce(verifier, claim.record.codeChallenge)) return fail('code_verifier does not match the code_challenge');
    return { ok: true, pair: await this.issueFamily(claim.record.userId, clientId, 'Web', now, familyId) };
  }
}
