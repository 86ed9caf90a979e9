/**
 * One RefreshableBearerAuth session as the requirements describe it (SDK-03 … SDK-09), from the
 * server's side: which access token is current and until when, and whether a call made now must
 * refresh first. Pure: the check feeds it what the model server observed.
 */
export class SdkSessionModel {
  generation = 0;
  /** A 401 the server will answer the next API request with (at most one at a time: two on one call must fail it). */
  pending401 = false;
  /** Time the sequence let pass on purpose (ms), apart from what its calls took: bounds real-time runs. */
  advancedMs = 0;

  constructor(
    /** Harness time (epoch ms) now. */
    public now: number,
    /** Expiry of the current access token. */
    public expiresAt: number,
    /** The refresh margin the adapter declares, if it declares one. */
    readonly marginMs: number | undefined,
    /** Lifetime of the access tokens the server issues. */
    readonly lifetimeMs: number,
    /** How far the SDK's clock may be from the harness's at a decision (real time flows over stdio). */
    readonly toleranceMs: number,
  ) {}

  advance(ms: number): void {
    this.now += ms;
  }

  /** SDK-04: a call made now must refresh before it sends (expired, or inside the declared margin). */
  mustRefresh(): boolean {
    return this.expiresAt - this.now <= (this.marginMs ?? 0);
  }

  /**
   * SDK-05: a refresh made now is not needless — within the declared margin (plus the clock
   * tolerance), or, without a declared margin, in the second half of the token's lifetime.
   */
  mayRefresh(): boolean {
    const left = this.expiresAt - this.now;
    return this.marginMs !== undefined ? left <= this.marginMs + this.toleranceMs : left <= this.lifetimeMs / 2;
  }

  /** SDK-06 / SDK-09: how many refresh requests a burst of concurrent calls made now may cause at most. */
  maxRefreshesForBurst(): number {
    return (this.mayRefresh() ? 1 : 0) + (this.pending401 ? 1 : 0);
  }

  /** The requirement an extra refresh in a burst violates. */
  extraRefreshRequirement(): 'SDK-05' | 'SDK-06' | 'SDK-09' {
    if (this.pending401) return 'SDK-09';
    return this.mayRefresh() ? 'SDK-06' : 'SDK-05';
  }

  /** A rotation the server performed. */
  rotated(expiresAt: number): void {
    this.generation += 1;
    this.expiresAt = expiresAt;
  }
}
