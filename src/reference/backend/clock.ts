/**
 * The backend's notion of "now". Everything time-dependent (API-key expiry, JWT `exp`, the
 * refresh idle window, device-code expiry, the grace window) reads it, so that tests and the
 * `/__conformance/clock` hook can move time without waiting.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void;
}

/**
 * Real time plus an accumulated offset: starts at real time and keeps flowing, and every
 * `advance` jumps it forward (CONTRACT §4: "moves the backend's clock forward").
 */
export class SystemClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward by a finite amount');
    this.offsetMs += ms;
  }
}

/** A clock that stands still except when advanced: for deterministic tests. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.now()) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward by a finite amount');
    this.current += ms;
  }
}
