/**
 * The RefreshableBearerAuth session model (src/model/sdk-session.ts): when a call must refresh
 * (SDK-04), when a refresh is not needless (SDK-05), how many refreshes a burst may cause (SDK-06,
 * SDK-09) and which requirement an extra one breaks.
 */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import { SdkSessionModel } from '../../src/model/sdk-session.js';

const T0 = 1_000_000;

const sessionArb = fc.record({
  lifetimeMs: fc.integer({ min: 1_000, max: 600_000 }),
  marginMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
  toleranceMs: fc.integer({ min: 0, max: 2_000 }),
  elapsed: fc.integer({ min: 0, max: 1_200_000 }),
  pending401: fc.boolean(),
});

type Session = typeof sessionArb extends fc.Arbitrary<infer T> ? T : never;

function session({ lifetimeMs, marginMs, toleranceMs, elapsed, pending401 }: Session): SdkSessionModel {
  const m = new SdkSessionModel(T0, T0 + lifetimeMs, marginMs, lifetimeMs, toleranceMs);
  m.advance(elapsed);
  m.pending401 = pending401;
  return m;
}

describe('SDK session model', () => {
  prop([sessionArb])('SDK-04: a call must refresh exactly when the token expired or less than the declared margin remains', (s) => {
    const m = session(s);
    const left = s.lifetimeMs - s.elapsed;
    expect(m.mustRefresh()).toBe(left <= (s.marginMs ?? 0));
  });

  prop([sessionArb])('a refresh a call must make is never needless (mustRefresh ⇒ mayRefresh)', (s) => {
    const m = session(s);
    if (m.mustRefresh()) expect(m.mayRefresh()).toBe(true);
  });

  prop([sessionArb])('SDK-05: without a declared margin, a refresh is needless in the first half of the lifetime; with one, outside margin + tolerance', (s) => {
    const m = session(s);
    const left = s.lifetimeMs - s.elapsed;
    if (s.marginMs === undefined) expect(m.mayRefresh()).toBe(left <= s.lifetimeMs / 2);
    else expect(m.mayRefresh()).toBe(left <= s.marginMs + s.toleranceMs);
  });

  prop([sessionArb, fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 10 })])('time only makes a refresh more necessary: once due, it stays due until a rotation', (s, steps) => {
    const m = session(s);
    let due = m.mustRefresh();
    for (const ms of steps) {
      m.advance(ms);
      if (due) expect(m.mustRefresh()).toBe(true);
      due = m.mustRefresh();
    }
    if (due) {
      m.rotated(m.now + s.lifetimeMs);
      expect(m.mustRefresh()).toBe(s.lifetimeMs <= (s.marginMs ?? 0));
    }
  });

  prop([sessionArb])('SDK-06 / SDK-09: a burst may cause one refresh when one is due, plus one for a pending 401; an extra one breaks SDK-09, SDK-06 or SDK-05', (s) => {
    const m = session(s);
    expect(m.maxRefreshesForBurst()).toBe((m.mayRefresh() ? 1 : 0) + (s.pending401 ? 1 : 0));
    const expected = s.pending401 ? 'SDK-09' : m.mayRefresh() ? 'SDK-06' : 'SDK-05';
    expect(m.extraRefreshRequirement()).toBe(expected);
  });

  it('a rotation moves to the next generation with the new expiry', () => {
    const m = new SdkSessionModel(T0, T0 + 1_000, 200, 1_000, 50);
    m.advance(900);
    expect(m.mustRefresh()).toBe(true);
    m.rotated(m.now + 1_000);
    expect(m.generation).toBe(1);
    expect(m.expiresAt).toBe(T0 + 1_900);
    expect(m.mustRefresh()).toBe(false);
    expect(m.maxRefreshesForBurst()).toBe(0);
    expect(m.extraRefreshRequirement()).toBe('SDK-05');
  });
});
