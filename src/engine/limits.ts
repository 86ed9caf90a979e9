/**
 * Politeness towards live targets: a request-rate cap (H-06, `--rate`) and a cap on requests in
 * flight (`--concurrency`). Both are plain async primitives so that the HTTP client can apply
 * them to every request, including the ones fired concurrently by burst checks.
 */

/** Spaces request starts so that no more than `ratePerSecond` begin in any second. */
export class RateLimiter {
  private nextSlot = 0;
  constructor(private ratePerSecond: number | null) {}

  get rate(): number | null {
    return this.ratePerSecond;
  }

  /** Lowers (never raises) the cap, e.g. after the target answered 429. */
  capAt(ratePerSecond: number): void {
    if (this.ratePerSecond === null || ratePerSecond < this.ratePerSecond) this.ratePerSecond = ratePerSecond;
  }

  /** Undefined when the request may go at once (no cap, or its slot is now): no await then. */
  take(): Promise<void> | undefined {
    if (!this.ratePerSecond || this.ratePerSecond <= 0) return undefined;
    const spacing = 1000 / this.ratePerSecond;
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + spacing;
    const wait = slot - now;
    return wait > 0 ? sleep(wait) : undefined;
  }
}

/** Counting semaphore. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly capacity: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.enter();
  }

  /** A release function at once when a place is free (no await: the common case), else null. */
  tryAcquire(): (() => void) | null {
    return this.active < this.capacity && !this.waiting.length ? this.enter() : null;
  }

  private enter(): () => void {
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
