/**
 * The refresh-token family model (src/model/token-families.ts) on its own, without a target: what it
 * predicts under `strict` and under `grace=<s>` is what RT-01 … RT-09 say, and it never forbids what
 * a conformant server does (H-04 at the level of the model) while it does forbid what the broken
 * servers of the mutant catalogue do.
 *
 * The oracle below is a plain reading of the requirements — one family, a current generation, a
 * sliding idle window, replay kills the family — independent of the model's code.
 */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import { STRICT, type Policy } from '../../src/model/policy.js';
import { TokenFamiliesModel, type RefreshOutcome } from '../../src/model/token-families.js';

const T0 = Date.UTC(2030, 0, 1);
const IDLE = 7 * 24 * 3600 * 1000;
const SKEW = 5_000;
const TTL = 300_000;
const GRACE: Policy = { kind: 'grace', seconds: 30 };

function model(policy: Policy = STRICT): TokenFamiliesModel {
  return new TokenFamiliesModel(policy, T0, IDLE, SKEW);
}

/** Presents the family's current token and records the answer the model expects. */
function rotate(m: TokenFamiliesModel, familyId: number): void {
  const f = m.family(familyId);
  const p = m.predictRefresh(familyId, f.generation, f.clientId);
  expect(p.allowed).toContain('rotated');
  m.applyRefresh(familyId, p, 'rotated', TTL);
}

/** Presents generation `generation` and records `outcome` (which the prediction must allow). */
function present(m: TokenFamiliesModel, familyId: number, generation: number, outcome: RefreshOutcome, clientId = 'ekso-cli') {
  const p = m.predictRefresh(familyId, generation, clientId);
  m.applyRefresh(familyId, p, outcome, TTL);
  return p;
}

/** A delay that stays clear of the idle window's edge (and its skew band). */
const safeDelay = fc.integer({ min: 0, max: IDLE - SKEW - 1 });

describe('token families: the current token (RT-01, RT-09)', () => {
  prop([fc.array(safeDelay, { maxLength: 12 }), fc.constantFrom(STRICT, GRACE)])(
    'rotating the current token within the idle window always succeeds, however long the chain (sliding window)',
    (delays, policy) => {
      const m = model(policy);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (const delay of delays) {
        m.advance(delay);
        const p = m.predictRefresh(f.id, f.generation, 'ekso-cli');
        expect(p.allowed).toEqual(['rotated']);
        expect(p.kind).toBe('current');
        m.applyRefresh(f.id, p, 'rotated', TTL);
      }
      expect(f.generation).toBe(delays.length);
      expect(f.dead).toBe(false);
    },
  );

  prop([fc.integer({ min: IDLE + SKEW + 1, max: 4 * IDLE }), fc.nat({ max: 5 })])(
    'RT-09: past the idle window (plus skew) since the last rotation, the current token is refused and the family dies of idleness',
    (idle, rotations) => {
      const m = model();
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (let i = 0; i < rotations; i++) rotate(m, f.id);
      m.advance(idle);
      const p = m.predictRefresh(f.id, f.generation, 'ekso-cli');
      expect(p).toMatchObject({ allowed: ['rejected'], requirement: 'RT-09', kind: 'idle-expired' });
      m.applyRefresh(f.id, p, 'rejected', TTL);
      expect(f).toMatchObject({ dead: true, deathCause: 'idle' });
      // Afterwards: the current token stays dead (RT-09); a superseded one is an RT-03 matter.
      expect(m.predictRefresh(f.id, f.generation, 'ekso-cli')).toMatchObject({ allowed: ['rejected'], requirement: 'RT-09' });
      if (f.generation > 0) expect(m.predictRefresh(f.id, f.generation - 1, 'ekso-cli')).toMatchObject({ allowed: ['rejected'], requirement: 'RT-03' });
    },
  );

  prop([fc.integer({ min: -SKEW, max: SKEW })])('at the idle window edge (within the skew) both answers are allowed', (offset) => {
    const m = model();
    const f = m.addFamily('Cli', 'ekso-cli', TTL);
    m.advance(IDLE + offset);
    expect([...m.predictRefresh(f.id, 0, 'ekso-cli').allowed].sort()).toEqual(['rejected', 'rotated']);
  });

  it('a refused current token is explained by what happened since the last rotation: RT-01, RT-09 (time), RT-06 (another family died), RT-08 (foreign presentation)', () => {
    const m = model();
    const a = m.addFamily('Cli', 'ekso-cli', TTL);
    expect(m.predictRefresh(a.id, 0, 'ekso-cli').requirement).toBe('RT-01');
    m.advance(1_000);
    expect(m.predictRefresh(a.id, 0, 'ekso-cli').requirement).toBe('RT-09');
    rotate(m, a.id);
    const b = m.addFamily('Cli', 'ekso-cli', TTL);
    rotate(m, b.id);
    present(m, b.id, 0, 'rejected'); // replay: b dies
    expect(m.predictRefresh(a.id, a.generation, 'ekso-cli').requirement).toBe('RT-06');
    expect(m.predictRefresh(a.id, a.generation, 'ekso-cli').or).toBeUndefined();
    // A death and time passing since the last rotation: a window that does not slide (RT-09)
    // explains a refusal as well as a broken isolation (RT-06) — the model says it cannot tell.
    m.advance(1_000);
    expect(m.predictRefresh(a.id, a.generation, 'ekso-cli')).toMatchObject({ requirement: 'RT-06', or: 'RT-09' });
    rotate(m, a.id);
    present(m, a.id, a.generation, 'rejected', 'another-client');
    expect(m.predictRefresh(a.id, a.generation, 'ekso-cli')).toMatchObject({ allowed: ['rotated'], requirement: 'RT-08' });
  });

  it('a generation that was never issued is a bug of the check, not a prediction', () => {
    const m = model();
    const f = m.addFamily('Web', 'ekso-web', TTL);
    expect(() => m.predictRefresh(f.id, 1, 'ekso-web')).toThrow(/never issued/);
  });
});

describe('token families: superseded tokens and replay (RT-03, RT-04, RT-05)', () => {
  prop([fc.integer({ min: 1, max: 8 }), fc.nat({ max: 7 }), fc.nat({ max: IDLE - SKEW - 1 })])(
    'strict: every superseded generation is refused (RT-03) at any age, and presenting it kills the family (RT-04, RT-05)',
    (rotations, pick, age) => {
      const m = model(STRICT);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (let i = 0; i < rotations; i++) rotate(m, f.id);
      m.advance(age);
      const old = pick % rotations;
      const p = present(m, f.id, old, 'rejected');
      expect(p).toMatchObject({ allowed: ['rejected'], requirement: 'RT-03', kind: 'superseded' });
      expect(f).toMatchObject({ dead: true, deathCause: 'replay' });
      // RT-04: the family's newest refresh token is dead too.
      expect(m.predictRefresh(f.id, f.generation, 'ekso-cli')).toMatchObject({ allowed: ['rejected'], requirement: 'RT-04', kind: 'dead-family' });
      // RT-05: and its (unexpired) access tokens.
      if (age < TTL - SKEW) expect(m.predictAccess(f.id, f.generation)).toMatchObject({ allowed: ['rejected'], requirement: 'RT-05' });
    },
  );

  prop([fc.integer({ min: 1, max: 6 }), fc.nat({ max: 30_000 - SKEW - 1 })])(
    'grace=30: the immediately previous token may still succeed within the window (either answer allowed), and the family becomes indeterminate',
    (rotations, age) => {
      const m = model(GRACE);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (let i = 0; i < rotations; i++) rotate(m, f.id);
      m.advance(age);
      const p = m.predictRefresh(f.id, f.generation - 1, 'ekso-cli');
      expect(p.kind).toBe('grace-previous');
      expect([...p.allowed].sort()).toEqual(['rejected', 'rotated']);
      m.applyRefresh(f.id, p, 'rotated', TTL);
      expect(f.indeterminate).toBe(true);
      expect(f.dead).toBe(false);
      expect(m.liveFamilies()).not.toContain(f);
      expect(m.predictRefresh(f.id, f.generation, 'ekso-cli').kind).toBe('indeterminate');
    },
  );

  prop([fc.integer({ min: 2, max: 8 }), fc.nat({ max: 7 }), fc.nat({ max: 20_000 })])(
    'grace=30: older generations than the immediately previous one are refused as under strict (RT-03) and kill the family (RT-04)',
    (rotations, pick, age) => {
      const m = model(GRACE);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (let i = 0; i < rotations; i++) rotate(m, f.id);
      m.advance(age);
      const old = pick % (rotations - 1); // 0 … generation-2
      const p = present(m, f.id, old, 'rejected');
      expect(p).toMatchObject({ allowed: ['rejected'], requirement: 'RT-03', kind: 'superseded' });
      expect(p.because).toMatch(/rotations old/);
      expect(m.predictRefresh(f.id, f.generation, 'ekso-cli')).toMatchObject({ allowed: ['rejected'], requirement: 'RT-04' });
    },
  );

  prop([fc.integer({ min: 30_000 + SKEW + 1, max: IDLE - SKEW - 1 })])(
    'grace=30: past the grace window (plus skew) the previous token is refused as under strict',
    (age) => {
      const m = model(GRACE);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      rotate(m, f.id);
      m.advance(age);
      expect(m.predictRefresh(f.id, 0, 'ekso-cli')).toMatchObject({ allowed: ['rejected'], requirement: 'RT-03', kind: 'superseded' });
    },
  );
});

describe('token families: concurrent presentations of one token, in sequence (RT-07)', () => {
  prop([fc.integer({ min: 2, max: 6 }), fc.nat({ max: 4 })])(
    'strict: of n presentations of the same token, the model lets at most one rotate; the second one revokes the family',
    (n, rotations) => {
      const m = model(STRICT);
      const f = m.addFamily('Cli', 'ekso-cli', TTL);
      for (let i = 0; i < rotations; i++) rotate(m, f.id);
      const token = f.generation;
      let successes = 0;
      for (let i = 0; i < n; i++) {
        const p = m.predictRefresh(f.id, token, 'ekso-cli');
        // The most permissive server the model allows: it rotates whenever it may.
        const outcome: RefreshOutcome = p.allowed.includes('rotated') ? 'rotated' : 'rejected';
        if (outcome === 'rotated') successes += 1;
        m.applyRefresh(f.id, p, outcome, TTL);
      }
      expect(successes).toBe(1);
      expect(f.dead).toBe(true);
      expect(m.predictRefresh(f.id, f.generation, 'ekso-cli').allowed).toEqual(['rejected']);
    },
  );

  prop([fc.integer({ min: 2, max: 6 })])('grace=30: a second presentation right after the first may succeed, and the model stops predicting the family', (n) => {
    const m = model(GRACE);
    const f = m.addFamily('Cli', 'ekso-cli', TTL);
    const first = present(m, f.id, 0, 'rotated');
    expect(first.allowed).toEqual(['rotated']);
    const second = m.predictRefresh(f.id, 0, 'ekso-cli');
    expect(second.allowed).toContain('rotated');
    m.applyRefresh(f.id, second, 'rotated', TTL);
    for (let i = 2; i < n; i++) expect(m.predictRefresh(f.id, 0, 'ekso-cli').kind).toBe('indeterminate');
  });
});

describe('token families: independence and client binding (RT-06, RT-08)', () => {
  prop([fc.integer({ min: 2, max: 5 }), fc.nat({ max: 4 }), fc.nat({ max: 3 })])(
    "RT-06: one family's replay death changes no other family's predictions",
    (count, victimPick, rotations) => {
      const m = model();
      const families = Array.from({ length: count }, (_, i) => m.addFamily(i % 2 ? 'Web' : 'Cli', 'ekso-cli', TTL));
      for (const f of families) for (let i = 0; i < rotations + 1; i++) rotate(m, f.id);
      const victim = families[victimPick % count]!;
      const before = families.filter((f) => f !== victim).map((f) => m.predictRefresh(f.id, f.generation, 'ekso-cli').allowed);
      present(m, victim.id, 0, 'rejected');
      expect(victim.dead).toBe(true);
      const after = families.filter((f) => f !== victim).map((f) => m.predictRefresh(f.id, f.generation, 'ekso-cli').allowed);
      expect(after).toEqual(before);
      for (const f of families.filter((x) => x !== victim)) {
        expect(m.predictAccess(f.id, f.generation).allowed).toEqual(['accepted']);
        expect(m.predictAccess(f.id, f.generation).requirement).toBe('RT-06');
      }
    },
  );

  prop([fc.string({ minLength: 1 }).filter((c) => c !== 'ekso-cli')])('RT-08: a foreign client_id is refused and neither rotates nor consumes the token', (other) => {
    const m = model();
    const f = m.addFamily('Cli', 'ekso-cli', TTL);
    const p = present(m, f.id, 0, 'rejected', other);
    expect(p).toMatchObject({ allowed: ['rejected'], requirement: 'RT-08', kind: 'foreign-client' });
    expect(f).toMatchObject({ generation: 0, dead: false });
    expect(m.predictRefresh(f.id, 0, 'ekso-cli').allowed).toEqual(['rotated']);
  });
});

describe('token families: access tokens (RT-02)', () => {
  prop([fc.nat({ max: 3 * TTL })])('an access token is accepted until its expiry and refused after it (both allowed within the skew)', (age) => {
    const m = model();
    const f = m.addFamily('Cli', 'ekso-cli', TTL);
    m.advance(age);
    const p = m.predictAccess(f.id, 0);
    if (age > TTL + SKEW) expect(p).toMatchObject({ allowed: ['rejected'], requirement: 'RT-02' });
    else if (age < TTL - SKEW) expect(p).toMatchObject({ allowed: ['accepted'], requirement: 'RT-02' });
    else expect([...p.allowed].sort()).toEqual(['accepted', 'rejected']);
  });

  it('an access token that was never issued is a bug of the check', () => {
    const m = model();
    const f = m.addFamily('Cli', 'ekso-cli', TTL);
    expect(() => m.predictAccess(f.id, 3)).toThrow(/never issued/);
  });
});

// ---- the model against servers -------------------------------------------------------------------

type Op =
  | { kind: 'new'; marker: 'Cli' | 'Web' }
  | { kind: 'advance'; ms: number }
  | { kind: 'refresh'; family: number; back: number; foreign: boolean }
  | { kind: 'access'; family: number; back: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('new' as const), marker: fc.constantFrom('Cli' as const, 'Web' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: TTL * 2 }), fc.integer({ min: IDLE / 2, max: IDLE * 2 })),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('refresh' as const), family: fc.nat({ max: 3 }), back: fc.oneof(fc.constant(0), fc.nat({ max: 3 })), foreign: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('access' as const), family: fc.nat({ max: 3 }), back: fc.nat({ max: 2 }) }), weight: 2 },
);

/** A server as the requirements describe it, with optional defects (the mutants' kinds of bugs). */
interface ServerFamily {
  clientId: string;
  current: number;
  issuedAt: number[];
  lastActivity: number;
  dead: boolean;
}
interface Defects {
  /** A replayed token is refused but the family lives on (RT-04). */
  noFamilyRevocation?: boolean;
  /** Superseded tokens still rotate (RT-03). */
  acceptsSuperseded?: boolean;
  /** The idle window does not slide: it counts from the grant (RT-09). */
  fixedWindow?: boolean;
}

class OracleServer {
  readonly families: ServerFamily[] = [];
  constructor(
    readonly policy: Policy,
    public now: number,
    readonly defects: Defects = {},
  ) {}
  add(): void {
    this.families.push({ clientId: 'ekso-cli', current: 0, issuedAt: [this.now], lastActivity: this.now, dead: false });
  }
  refresh(id: number, generation: number, clientId: string): RefreshOutcome {
    const f = this.families[id]!;
    if (f.dead) return 'rejected';
    if (clientId !== f.clientId) return 'rejected';
    const since = this.defects.fixedWindow ? f.issuedAt[0]! : f.lastActivity;
    if (this.now - since >= IDLE) {
      f.dead = true;
      return 'rejected';
    }
    const graceOk = this.policy.kind === 'grace' && generation === f.current - 1 && this.now - f.issuedAt[f.current]! < this.policy.seconds * 1000;
    if (generation === f.current || graceOk || this.defects.acceptsSuperseded) {
      f.current += 1;
      f.issuedAt.push(this.now);
      f.lastActivity = this.now;
      return 'rotated';
    }
    if (!this.defects.noFamilyRevocation) f.dead = true;
    return 'rejected';
  }
  access(id: number, generation: number): 'accepted' | 'rejected' {
    const f = this.families[id]!;
    if (f.dead) return 'rejected';
    return this.now < f.issuedAt[generation]! + TTL ? 'accepted' : 'rejected';
  }
}

/**
 * Drives the model and a server with the same operations, the way the rotation check does, and
 * returns the first answer the model forbids (null when every answer was allowed).
 */
function firstForbidden(policy: Policy, ops: readonly Op[], defects: Defects = {}): string | null {
  const m = model(policy);
  const server = new OracleServer(policy, T0, defects);
  const add = (marker: 'Cli' | 'Web') => {
    m.addFamily(marker, 'ekso-cli', TTL);
    server.add();
  };
  add('Cli');
  for (const op of ops) {
    if (op.kind === 'new') {
      if (m.families.length < 4) add(op.marker);
      continue;
    }
    if (op.kind === 'advance') {
      m.advance(op.ms);
      server.now += op.ms;
      continue;
    }
    const f = m.family(op.family % m.families.length);
    if (f.indeterminate) continue;
    const generation = Math.max(0, f.generation - op.back);
    if (op.kind === 'access') {
      const p = m.predictAccess(f.id, generation);
      const answer = server.access(f.id, generation);
      if (!p.allowed.includes(answer)) return `${p.requirement}: access with generation ${generation} → ${answer} (${p.because})`;
      continue;
    }
    const clientId = op.foreign ? 'someone-else' : 'ekso-cli';
    const p = m.predictRefresh(f.id, generation, clientId);
    const answer = server.refresh(f.id, generation, clientId);
    if (!p.allowed.includes(answer)) return `${p.requirement}: refresh with generation ${generation} → ${answer} (${p.because})`;
    m.applyRefresh(f.id, p, answer, TTL);
  }
  return null;
}

describe('token families: the model against servers', () => {
  prop([fc.constantFrom(STRICT, GRACE), fc.array(opArb, { maxLength: 40 })])(
    'never forbids an answer of a conformant server (no false positives), under strict and grace=30',
    (policy, ops) => {
      expect(firstForbidden(policy, ops)).toBeNull();
    },
  );

  /** Sequences that expose each defect, which the model must catch by naming the requirement broken. */
  it.each([
    ['noFamilyRevocation', 'RT-04', [{ kind: 'refresh', family: 0, back: 0, foreign: false }, { kind: 'refresh', family: 0, back: 1, foreign: false }, { kind: 'refresh', family: 0, back: 0, foreign: false }]],
    ['acceptsSuperseded', 'RT-03', [{ kind: 'refresh', family: 0, back: 0, foreign: false }, { kind: 'refresh', family: 0, back: 1, foreign: false }]],
    [
      'fixedWindow',
      'RT-09',
      [{ kind: 'advance', ms: IDLE - 60_000 }, { kind: 'refresh', family: 0, back: 0, foreign: false }, { kind: 'advance', ms: 120_000 }, { kind: 'refresh', family: 0, back: 0, foreign: false }],
    ],
  ] as Array<[keyof Defects, string, Op[]]>)('catches a server with %s as a violation of %s', (defect, requirement, ops) => {
    expect(firstForbidden(STRICT, ops, { [defect]: true })).toMatch(new RegExp(`^${requirement}:`));
  });

  prop([fc.array(opArb, { maxLength: 40 })])('a defective server is caught only by the requirement it breaks (RT-03 for accepting superseded tokens)', (ops) => {
    const found = firstForbidden(STRICT, ops, { acceptsSuperseded: true });
    if (found !== null) expect(found).toMatch(/^RT-03:/);
  });
});
