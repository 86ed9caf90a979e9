/**
 * One RefreshableBearerAuth session as the requirements describe it (SDK-03 … SDK-09), from the
 * server's side: which access token is current and until when, and whether a call made now must
 * refresh first. Pure: the check feeds it what the model server observed.
 */
export class SdkSessionModel {
  generation = 0;
  /** A 401 the server will answer the next API request with (at most one at a time: two on one call must fail it). */
  pending401 = false;

  constructor(
    /** Harness time (epoch ms) now. */
    public now: number,
    /** Expiry of the current access token. */
    public expiresAt: number,
    /** The refresh margin the adapter declares (0 when it declares none). */
    readonly marginMs: number,
  ) {}

  advance(ms: number): void {
    this.now += ms;
  }

  /** SDK-04: a call made now must refresh before it sends (expired, or inside the margin). */
  mustRefresh(): boolean {
    return this.expiresAt - this.now <= this.marginMs;
  }

  /** SDK-06: how many refresh requests a burst of concurrent calls made now may cause at most. */
  maxRefreshesForBurst(): number {
    return (this.mustRefresh() ? 1 : 0) + (this.pending401 ? 1 : 0);
  }

  /** A rotation the server performed. */
  rotated(expiresAt: number): void {
    this.generation += 1;
    this.expiresAt = expiresAt;
  }
}
