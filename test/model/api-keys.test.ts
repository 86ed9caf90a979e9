/**
 * The API-key store model (src/model/api-keys.ts) on its own: its predictions are what AK-01,
 * AK-04, AK-06 … AK-11 say, they never forbid what a conformant store answers, and a wrong answer
 * is blamed on the requirement it contradicts.
 */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import { ApiKeyStoreModel, type KeyUse, type Role } from '../../src/model/api-keys.js';

const T0 = Date.UTC(2030, 0, 1);
const SKEW = 5_000;

type Op =
  | { kind: 'mint'; by: Role; expiresIn: number | null }
  | { kind: 'revoke'; key: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'use'; key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('mint' as const), by: fc.constantFrom<Role>('admin', 'user'), expiresIn: fc.option(fc.integer({ min: 1_000, max: 3_600_000 }), { nil: null }) }),
  fc.record({ kind: fc.constant('revoke' as const), key: fc.nat({ max: 9 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 4_000_000 })) }),
  fc.record({ kind: fc.constant('use' as const), key: fc.nat({ max: 9 }) }),
);

/** A key store as the requirements describe it: a key works iff not revoked and (no expiry or now before it). */
class OracleStore {
  readonly keys: Array<{ expiresAt: number | null; revoked: boolean }> = [];
  constructor(public now: number) {}
  use(handle: number): KeyUse {
    const key = this.keys[handle]!;
    return !key.revoked && (key.expiresAt === null || this.now < key.expiresAt) ? 'accepted' : 'rejected';
  }
}

describe('API-key store model', () => {
  it('AK-01 / AK-11: only a super-admin may mint', () => {
    const m = new ApiKeyStoreModel(T0);
    expect(m.predictMint('admin')).toBe('created');
    expect(m.predictMint('user')).toBe('forbidden');
  });

  prop([fc.array(opArb, { maxLength: 50 })])('never forbids what a conformant store answers, and predicts exactly outside the skew band', (ops) => {
    const m = new ApiKeyStoreModel(T0, SKEW);
    const store = new OracleStore(T0);
    for (const op of ops) {
      if (op.kind === 'mint') {
        if (m.predictMint(op.by) !== 'created') continue;
        const expiresAt = op.expiresIn === null ? null : m.now + op.expiresIn;
        m.addKey(op.by, expiresAt);
        store.keys.push({ expiresAt, revoked: false });
      } else if (op.kind === 'advance') {
        m.advance(op.ms);
        store.now += op.ms;
      } else if (m.keys.length) {
        const handle = op.key % m.keys.length;
        if (op.kind === 'revoke') {
          m.revoke(handle);
          store.keys[handle]!.revoked = true;
          continue;
        }
        const allowed = m.predictUse(handle);
        const answer = store.use(handle);
        expect(allowed).toContain(answer);
        const key = m.key(handle);
        if (key.revoked || key.expiresAt === null || Math.abs(key.expiresAt - m.now) > SKEW) expect(allowed).toHaveLength(1);
        m.observeUse(handle, answer);
      }
    }
    // live() is exactly the keys that must be accepted.
    expect(m.live().map((k) => k.handle)).toEqual(m.keys.filter((k) => store.use(k.handle) === 'accepted' && m.predictUse(k.handle).length === 1).map((k) => k.handle));
  });

  prop([fc.array(fc.integer({ min: 0, max: 30 * 24 * 3_600_000 }), { maxLength: 10 })])('AK-06: a key without expiresAt is accepted whatever time passes', (advances) => {
    const m = new ApiKeyStoreModel(T0);
    const key = m.addKey('admin', null);
    for (const ms of advances) {
      m.advance(ms);
      expect(m.predictUse(key.handle)).toEqual(['accepted']);
    }
  });

  prop([fc.integer({ min: 1, max: 3_600_000 }), fc.nat({ max: 7_200_000 })])('AK-07: a key with expiresAt is accepted before it and rejected after it (either within the skew)', (expiresIn, elapsed) => {
    const m = new ApiKeyStoreModel(T0, SKEW);
    const key = m.addKey('admin', T0 + expiresIn);
    m.advance(elapsed);
    const allowed = m.predictUse(key.handle);
    if (elapsed < expiresIn - SKEW) expect(allowed).toEqual(['accepted']);
    else if (elapsed > expiresIn + SKEW) expect(allowed).toEqual(['rejected']);
    else expect(allowed).toEqual(['accepted', 'rejected']);
    // The expiry is an event once the clock passed it.
    expect(m.events.some((e) => e.kind === 'expire' && e.handle === key.handle)).toBe(elapsed >= expiresIn);
  });

  prop([fc.integer({ min: 2, max: 8 }), fc.nat({ max: 7 }), fc.integer({ min: 1, max: 3 })])(
    'AK-08 / AK-09 / AK-10: revocation is immediate and idempotent, and changes no other key',
    (count, pick, times) => {
      const m = new ApiKeyStoreModel(T0);
      const keys = Array.from({ length: count }, (_, i) => m.addKey('admin', i % 2 ? null : T0 + 3_600_000));
      const victim = keys[pick % count]!;
      const before = keys.filter((k) => k !== victim).map((k) => m.predictUse(k.handle));
      for (let i = 0; i < times; i++) m.revoke(victim.handle);
      expect(m.predictUse(victim.handle)).toEqual(['rejected']);
      expect(keys.filter((k) => k !== victim).map((k) => m.predictUse(k.handle))).toEqual(before);
      expect(m.events.filter((e) => e.kind === 'revoke' && e.handle === victim.handle)).toHaveLength(times);
      expect(m.explainWrongAcceptance(victim.handle)).toBe('AK-08');
    },
  );

  it('blames a wrong rejection on the most specific requirement: AK-04, AK-06 / AK-07 (time), AK-10 (another key changed)', () => {
    const m = new ApiKeyStoreModel(T0, SKEW);
    const timed = m.addKey('admin', T0 + 3_600_000);
    const forever = m.addKey('admin', null);
    // Never accepted yet: the mint did not take effect (AK-04).
    expect(m.explainWrongRejection(timed.handle)).toBe('AK-04');
    m.observeUse(timed.handle, 'accepted');
    m.observeUse(forever.handle, 'accepted');
    // Refused right after another key was minted: AK-10.
    m.addKey('admin', null);
    expect(m.explainWrongRejection(timed.handle)).toBe('AK-10');
    // Time passed since it last worked: AK-07 for a key with an expiry, AK-06 without.
    m.advance(60_000);
    expect(m.explainWrongRejection(timed.handle)).toBe('AK-07');
    expect(m.explainWrongRejection(forever.handle)).toBe('AK-06');
    // Not revoked, wrongly accepted: only an expiry can forbid it (AK-07).
    expect(m.explainWrongAcceptance(timed.handle)).toBe('AK-07');
  });

  it('an unknown handle is a bug of the check', () => {
    expect(() => new ApiKeyStoreModel(T0).key(0)).toThrow(/no key/);
  });
});
