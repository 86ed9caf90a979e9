/**
 * The API-key store, as the requirements describe it (AK-*). Pure: no I/O, no secrets — keys are
 * handles; the check keeps the raw values. Time is the target's timeline in epoch ms, moved only by
 * `advance` (the target's clock hook), so predictions are exact except within `skewMs` of an
 * expiry instant, where both answers are allowed (the harness cannot know the target's clock to
 * the millisecond).
 */

export type Role = 'admin' | 'user';
export type KeyUse = 'accepted' | 'rejected';

export interface ModelKey {
  readonly handle: number;
  readonly creator: Role;
  /** Target time (epoch ms) after which the key is dead; null = no timer (AK-06). */
  readonly expiresAt: number | null;
  revoked: boolean;
  /** Model time of the last use the target accepted (for explaining regressions). */
  lastAcceptedAt: number | null;
  readonly mintedAt: number;
}

export interface Event {
  at: number;
  kind: 'mint' | 'revoke' | 'expire' | 'advance';
  handle?: number;
}

export class ApiKeyStoreModel {
  readonly keys: ModelKey[] = [];
  readonly events: Event[] = [];
  private nextHandle = 0;

  constructor(
    /** Target time (epoch ms) at the start of the sequence. */
    public now: number,
    readonly skewMs = 5_000,
  ) {}

  /** AK-01 / AK-11: only a super-admin may mint. */
  predictMint(by: Role): 'created' | 'forbidden' {
    return by === 'admin' ? 'created' : 'forbidden';
  }

  /** Records a key the target created. */
  addKey(creator: Role, expiresAt: number | null): ModelKey {
    const key: ModelKey = { handle: this.nextHandle++, creator, expiresAt, revoked: false, lastAcceptedAt: null, mintedAt: this.now };
    this.keys.push(key);
    this.events.push({ at: this.now, kind: 'mint', handle: key.handle });
    return key;
  }

  key(handle: number): ModelKey {
    const key = this.keys[handle];
    if (!key) throw new Error(`no key with handle ${handle}`);
    return key;
  }

  /** AK-04, AK-06, AK-07, AK-08: what a request authenticated with this key may get. */
  predictUse(handle: number): readonly KeyUse[] {
    const key = this.key(handle);
    if (key.revoked) return ['rejected'];
    if (key.expiresAt === null) return ['accepted'];
    if (this.now < key.expiresAt - this.skewMs) return ['accepted'];
    if (this.now > key.expiresAt + this.skewMs) return ['rejected'];
    return ['accepted', 'rejected'];
  }

  /** Records an observed answer (so that later explanations know the key worked then). */
  observeUse(handle: number, use: KeyUse): void {
    if (use === 'accepted') this.key(handle).lastAcceptedAt = this.now;
  }

  /** AK-08 / AK-09: revocation is immediate and idempotent. */
  revoke(handle: number): void {
    const key = this.key(handle);
    // Recorded again when already revoked: revoking (even a revoked key) must not change others (AK-10).
    this.events.push({ at: this.now, kind: 'revoke', handle });
    key.revoked = true;
  }

  advance(ms: number): void {
    const before = this.now;
    this.now += ms;
    for (const key of this.keys) {
      if (key.expiresAt !== null && key.expiresAt > before && key.expiresAt <= this.now) {
        this.events.push({ at: key.expiresAt, kind: 'expire', handle: key.handle });
      }
    }
    this.events.push({ at: this.now, kind: 'advance' });
  }

  /** Whether some key's expiry lies within the skew window of `now + ms` (an ambiguous instant). */
  nearExpiry(atTime: number): boolean {
    return this.keys.some((k) => k.expiresAt !== null && Math.abs(k.expiresAt - atTime) <= this.skewMs);
  }

  live(): ModelKey[] {
    return this.keys.filter((k) => this.predictUse(k.handle).length === 1 && this.predictUse(k.handle)[0] === 'accepted');
  }

  /**
   * Which requirement a wrongly rejected key contradicts, most specific first: a key that never
   * worked, refused on its first use right after its mint (AK-04); time passing since it last
   * worked, on a key with an expiry still in the future (AK-07) or without one (AK-06); another
   * key's mint/revoke/expiry since this key last worked (AK-10); else a key that stopped working
   * for no visible reason (AK-07 / AK-06 / AK-04 as above).
   *
   * Time comes before other keys' changes: the lifecycle check uses every other key right before
   * and right after each mint and revocation, so a change that breaks another key is seen with no
   * time in between, while a refusal after the clock moved is about time.
   */
  explainWrongRejection(handle: number): 'AK-04' | 'AK-06' | 'AK-07' | 'AK-10' {
    const key = this.key(handle);
    const since = key.lastAcceptedAt;
    if (since === null) return 'AK-04';
    if (this.now - since > this.skewMs) return key.expiresAt !== null ? 'AK-07' : 'AK-06';
    const othersChanged = this.events.some((e) => e.at >= since && e.handle !== undefined && e.handle !== handle && e.kind !== 'advance');
    if (othersChanged) return 'AK-10';
    if (key.expiresAt !== null) return 'AK-07';
    if (this.events.some((e) => e.kind === 'advance' && e.at > since)) return 'AK-06';
    return 'AK-04';
  }

  /** Which requirement a wrongly accepted key contradicts. */
  explainWrongAcceptance(handle: number): 'AK-07' | 'AK-08' {
    return this.key(handle).revoked ? 'AK-08' : 'AK-07';
  }
}
