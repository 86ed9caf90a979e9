/**
 * Per-IP sliding-window rate limiter (ERR-04; Ekso documents 50 requests per second per IP).
 *
 * Choice: the limiter runs on real (monotonic) time, not on the injectable clock: advancing the
 * test clock by a day must neither reset nor trip a burst window.
 */
import { performance } from 'node:perf_hooks';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class SlidingWindowRateLimiter {
  /** Timestamps (ms) of the last `limit` accepted requests of each IP, oldest first. */
  private readonly windows = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Records a request from `ip`. Choice: refused requests are not recorded, so a client that
   * keeps hammering is let through again once its accepted requests age out of the window.
   */
  check(ip: string): RateDecision {
    const now = this.now();
    this.sweep(now);
    let window = this.windows.get(ip);
    if (!window) {
      window = [];
      this.windows.set(ip, window);
    }
    while (window.length > 0 && now - (window[0] as number) >= this.windowMs) window.shift();
    if (window.length >= this.limit) {
      const waitMs = this.windowMs - (now - (window[0] as number));
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    window.push(now);
    return { allowed: true };
  }

  /** Forgets idle IPs now and then, so that the map does not grow without bound. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 10 * this.windowMs) return;
    this.lastSweep = now;
    for (const [ip, window] of this.windows) {
      const last = window[window.length - 1];
      if (last === undefined || now - last >= this.windowMs) this.windows.delete(ip);
    }
  }
}
