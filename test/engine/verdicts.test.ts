/**
 * From check results to requirement verdicts and the exit code (src/engine/verdicts.ts), without
 * a target: the rules the report promises (CONTRACT §1, §6), stated once each and checked over
 * random sets of check results.
 *
 * - A requirement failed by any check that ran is failed (baselined when the baseline lists it or
 *   every failing check).
 * - Otherwise an inconclusive covering check makes it inconclusive.
 * - Otherwise it passed only when a covering check passed.
 * - Otherwise, when its only checks stopped on another requirement's violation, it is
 *   inconclusive ("not established"); when they were all skipped, skipped.
 * - Not run at all: skipped when some check of the catalogue covers it (with why it was not run),
 *   not-covered when none does; a requirement of the other side is skipped.
 * - Exit code: 1 when a MUST (or, with --strict, any) requirement failed outside the baseline, or
 *   a baseline entry went stale; else 4 when something is inconclusive; else 0.
 *
 * Written against the verdict rules as they are today (one finding per check).
 */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import {
  computeRequirementVerdicts,
  exitCodeFor,
  staleBaselineEntries,
  summarize,
  unknownBaselineEntries,
  type VerdictInput,
} from '../../src/engine/verdicts.js';
import type { CheckResult, CheckStatus, RequirementVerdict } from '../../src/report/schema.js';
import { REQUIREMENTS, requirement } from '../../src/spec/requirements.js';

/** A few backend requirements, MUST and SHOULD, for the generated checks to cover. */
const IDS = ['AK-01', 'AK-07', 'AK-09', 'RT-03', 'RT-08', 'ERR-04'] as const;
const CHECK_IDS = ['c.one', 'c.two', 'c.three', 'c.four', 'c.five'] as const;

function result(id: string, requirements: string[], status: CheckStatus, failedRequirements?: string[], message?: string): CheckResult {
  return {
    id,
    title: id,
    group: 'test',
    requirements,
    status,
    runs: 1,
    durationMs: 1,
    seed: 1,
    ...(failedRequirements ? { failedRequirements } : {}),
    ...(message ? { message } : {}),
  };
}

const checkArb: fc.Arbitrary<CheckResult> = fc
  .record({
    requirements: fc.subarray([...IDS], { minLength: 1 }),
    status: fc.constantFrom<CheckStatus>('passed', 'failed', 'skipped', 'inconclusive'),
    naming: fc.boolean(),
    pick: fc.nat(),
    message: fc.option(fc.constantFrom('m1', 'm2'), { nil: undefined }),
  })
  .map(({ requirements, status, naming, pick, message }) => {
    // A failed check names the requirement(s) it found violated (or, an older shape, none: then all of them).
    const failed = status === 'failed' && naming ? [requirements[pick % requirements.length]!] : undefined;
    return result('', requirements, status, failed, message);
  });

/** Distinct ids, a coverage map that includes what ran plus some catalogue checks that did not. */
const inputArb = fc
  .record({
    checks: fc.array(checkArb, { maxLength: CHECK_IDS.length }),
    extraCoverage: fc.subarray([...IDS]),
    unselected: fc.option(fc.constant('not selected by --check X'), { nil: undefined }),
    baseline: fc.subarray([...IDS, ...CHECK_IDS]),
  })
  .map(({ checks, extraCoverage, unselected, baseline }): VerdictInput => {
    const named = checks.map((c, i) => ({ ...c, id: CHECK_IDS[i]! }));
    const coverage = new Map<string, string[]>();
    for (const c of named) for (const r of c.requirements) coverage.set(r, [...(coverage.get(r) ?? []), c.id]);
    for (const r of extraCoverage) coverage.set(r, [...(coverage.get(r) ?? []), 'c.elsewhere']);
    return { mode: 'backend', checks: named, coverage, baseline, ...(unselected ? { unselectedReason: unselected } : {}) };
  });

function verdictOf(verdicts: readonly RequirementVerdict[], id: string): RequirementVerdict {
  const v = verdicts.find((x) => x.id === id);
  if (!v) throw new Error(`no verdict for ${id}`);
  return v;
}

describe('requirement verdicts', () => {
  prop([inputArb])('one verdict per backend and SDK requirement, in catalogue order; the other side is skipped', (input) => {
    const verdicts = computeRequirementVerdicts(input);
    expect(verdicts.map((v) => v.id)).toEqual(REQUIREMENTS.filter((r) => r.side !== 'harness').map((r) => r.id));
    for (const v of verdicts.filter((x) => x.side === 'sdk')) {
      expect(v.status).toBe('skipped');
      expect(v.reason).toMatch(/an SDK requirement/);
    }
  });

  prop([inputArb])('each covered requirement follows the rules (failed > inconclusive > passed > not established > skipped)', (input) => {
    const verdicts = computeRequirementVerdicts(input);
    for (const id of IDS) {
      const v = verdictOf(verdicts, id);
      const ran = input.checks.filter((c) => c.requirements.includes(id));
      const failing = ran.filter((c) => c.status === 'failed' && (c.failedRequirements ?? c.requirements).includes(id));
      const why = `${id}: ${JSON.stringify(ran.map((c) => [c.id, c.status, c.failedRequirements]))} → ${v.status}`;
      expect(v.level, why).toBe(requirement(id).level);
      expect(v.side, why).toBe('backend');
      if (ran.length === 0) {
        const covering = input.coverage.get(id) ?? [];
        expect(v.status, why).toBe(covering.length ? 'skipped' : 'not-covered');
        if (covering.length) expect(v.reason, why).toBe(input.unselectedReason ?? 'its checks were not run');
        expect(v.checks, why).toEqual(covering.length ? covering : []);
        continue;
      }
      expect(v.checks, why).toEqual(ran.map((c) => c.id));
      if (failing.length) {
        expect(v.status, why).toBe('failed');
        for (const c of failing) expect(v.reason, why).toContain(c.id);
        const baselined = input.baseline!.includes(id) || failing.every((c) => input.baseline!.includes(c.id));
        expect(Boolean(v.baselined), why).toBe(baselined);
        continue;
      }
      expect(v.baselined, why).toBeUndefined();
      if (ran.some((c) => c.status === 'inconclusive')) expect(v.status, why).toBe('inconclusive');
      else if (ran.some((c) => c.status === 'passed')) expect(v.status, why).toBe('passed');
      else if (ran.some((c) => c.status === 'failed')) {
        expect(v.status, why).toBe('inconclusive');
        expect(v.reason, why).toMatch(/^not established: /);
      } else expect(v.status, why).toBe('skipped');
    }
  });

  prop([inputArb])('passed only when a covering check passed and none failed on it or was inconclusive', (input) => {
    for (const v of computeRequirementVerdicts(input).filter((x) => x.status === 'passed')) {
      const ran = input.checks.filter((c) => c.requirements.includes(v.id));
      expect(ran.some((c) => c.status === 'passed')).toBe(true);
      expect(ran.some((c) => c.status === 'inconclusive')).toBe(false);
      expect(ran.some((c) => c.status === 'failed' && (c.failedRequirements ?? c.requirements).includes(v.id))).toBe(false);
    }
  });

  it('a check that failed naming one requirement leaves its other requirements "not established" unless another check passed them', () => {
    const coverage = new Map([['RT-03', ['rt.model']], ['RT-04', ['rt.model', 'rt.replay']], ['RT-09', ['rt.model']]]);
    const checks = [result('rt.model', ['RT-03', 'RT-04', 'RT-09'], 'failed', ['RT-03'], 'superseded token accepted'), result('rt.replay', ['RT-04'], 'passed')];
    const verdicts = computeRequirementVerdicts({ mode: 'backend', checks, coverage });
    expect(verdictOf(verdicts, 'RT-03')).toMatchObject({ status: 'failed', reason: 'rt.model: superseded token accepted' });
    expect(verdictOf(verdicts, 'RT-04')).toMatchObject({ status: 'passed' });
    expect(verdictOf(verdicts, 'RT-09')).toMatchObject({ status: 'inconclusive', reason: 'not established: rt.model stopped on RT-03' });
  });

  it('a passed requirement says so when part of its coverage was skipped', () => {
    const checks = [result('a', ['AK-07'], 'passed'), result('b', ['AK-07'], 'skipped', undefined, 'needs the clock hook')];
    const v = verdictOf(computeRequirementVerdicts({ mode: 'backend', checks, coverage: new Map([['AK-07', ['a', 'b']]]) }), 'AK-07');
    expect(v).toMatchObject({ status: 'passed', reason: 'partly: b skipped (needs the clock hook)' });
  });

  it('SDK mode: backend requirements are skipped with a pointer to backend mode', () => {
    const v = verdictOf(computeRequirementVerdicts({ mode: 'sdk', checks: [], coverage: new Map() }), 'AK-01');
    expect(v).toMatchObject({ status: 'skipped', side: 'backend' });
    expect(v.reason).toMatch(/--base-url/);
  });

  prop([inputArb])('the summary counts every verdict once', (input) => {
    const verdicts = computeRequirementVerdicts(input);
    const s = summarize(verdicts);
    expect(s.passed + s.failed + s.skipped + s.inconclusive + s.notCovered).toBe(verdicts.length);
    expect(s.failed).toBe(verdicts.filter((v) => v.status === 'failed').length);
    expect(s.notCovered).toBe(verdicts.filter((v) => v.status === 'not-covered').length);
  });
});

describe('exit code (CONTRACT §1: 0, 1, 4)', () => {
  const verdictArb = fc.record({
    id: fc.constantFrom(...IDS),
    level: fc.constantFrom<'MUST' | 'SHOULD'>('MUST', 'SHOULD'),
    side: fc.constant<'backend'>('backend'),
    status: fc.constantFrom<RequirementVerdict['status']>('passed', 'failed', 'skipped', 'inconclusive', 'not-covered'),
    checks: fc.constant<string[]>([]),
    baselined: fc.option(fc.constant(true), { nil: undefined }),
  });

  prop([fc.array(verdictArb, { maxLength: 8 }), fc.boolean(), fc.subarray(['AK-01', 'c.one'])])('1 for a counted failure or a stale baseline, else 4 for an inconclusive verdict, else 0', (raw, strict, stale) => {
    const verdicts = raw.map(({ baselined, ...v }) => ({ ...v, ...(baselined && v.status === 'failed' ? { baselined } : {}) }));
    const code = exitCodeFor({ verdicts, strict, staleBaseline: stale });
    const counted = verdicts.some((v) => v.status === 'failed' && !v.baselined && (v.level === 'MUST' || strict));
    const expected = counted || stale.length ? 1 : verdicts.some((v) => v.status === 'inconclusive') ? 4 : 0;
    expect(code).toBe(expected);
  });

  it('a SHOULD failure fails the run only with --strict; a baselined MUST failure does not fail it', () => {
    const should: RequirementVerdict = { id: 'AK-09', level: 'SHOULD', side: 'backend', status: 'failed', checks: ['x'] };
    expect(exitCodeFor({ verdicts: [should], strict: false })).toBe(0);
    expect(exitCodeFor({ verdicts: [should], strict: true })).toBe(1);
    const baselined: RequirementVerdict = { id: 'AK-01', level: 'MUST', side: 'backend', status: 'failed', checks: ['x'], baselined: true };
    expect(exitCodeFor({ verdicts: [baselined], strict: true })).toBe(0);
    expect(exitCodeFor({ verdicts: [baselined, { ...should, status: 'inconclusive' }], strict: false })).toBe(4);
    // A failure outranks an inconclusive verdict.
    expect(exitCodeFor({ verdicts: [{ ...baselined, baselined: undefined }, { ...should, status: 'inconclusive' }], strict: false })).toBe(1);
  });

  it('the verdicts of a run feed the exit code: a baselined MUST failure passes, its stale entry fails', () => {
    const coverage = new Map([['AK-01', ['ak.mint']], ['AK-07', ['ak.expiry']]]);
    const checks = [result('ak.mint', ['AK-01'], 'failed', ['AK-01'], 'no rawKey'), result('ak.expiry', ['AK-07'], 'passed')];
    const verdicts = computeRequirementVerdicts({ mode: 'backend', checks, coverage, baseline: ['AK-01', 'AK-07'] });
    expect(verdictOf(verdicts, 'AK-01').baselined).toBe(true);
    const stale = staleBaselineEntries(['AK-01', 'AK-07'], checks, verdicts, coverage);
    expect(stale).toEqual(['AK-07']);
    expect(exitCodeFor({ verdicts, strict: false })).toBe(0);
    expect(exitCodeFor({ verdicts, strict: false, staleBaseline: stale })).toBe(1);
  });
});

describe('baseline entries', () => {
  const coverage = new Map([['RT-03', ['rt.model', 'rt.replay']], ['AK-07', ['ak.expiry']]]);

  it('stale: a check entry whose check passed; a requirement entry that passed with all its checks run', () => {
    const checks = [result('rt.model', ['RT-03'], 'passed'), result('rt.replay', ['RT-03'], 'passed'), result('ak.expiry', ['AK-07'], 'failed', ['AK-07'])];
    const verdicts = computeRequirementVerdicts({ mode: 'backend', checks, coverage });
    expect(staleBaselineEntries(['rt.model', 'RT-03', 'AK-07', 'ak.expiry', 'RT-03'], checks, verdicts, coverage)).toEqual(['rt.model', 'RT-03']);
  });

  it('not stale: a requirement whose coverage ran only in part (a shard or a --check selection), or that was skipped', () => {
    const checks = [result('rt.model', ['RT-03'], 'passed'), result('ak.expiry', ['AK-07'], 'skipped', undefined, 'no clock hook')];
    const verdicts = computeRequirementVerdicts({ mode: 'backend', checks, coverage });
    expect(verdictOf(verdicts, 'RT-03').status).toBe('passed');
    expect(staleBaselineEntries(['RT-03', 'AK-07', 'ak.expiry', 'rt.replay'], checks, verdicts, coverage)).toEqual([]);
  });

  prop([fc.subarray(['RT-03', 'AK-07', 'rt.model', 'ak.expiry', 'RT-3', 'rt.modle', 'nonsense'])])('unknown: entries naming neither a requirement nor a check of the catalogue', (baseline) => {
    const unknown = unknownBaselineEntries(baseline, coverage);
    expect(unknown).toEqual(baseline.filter((e) => ['RT-3', 'rt.modle', 'nonsense'].includes(e)));
  });
});

describe('a check that could not explore past its violation for want of configuration', () => {
  it('leaves its other requirements skipped with the reason, not inconclusive (DF-03 on a server without a clock hook)', () => {
    const failedSkipping: CheckResult = {
      ...result('df.expired', ['DF-01', 'DF-03'], 'failed', ['DF-01'], 'DF-01: not RFC 8628'),
      notEstablished: 'exploring past DF-01: checking expired_token needs a clock hook',
      exploreSkipped: true,
    };
    const input: VerdictInput = { mode: 'backend', checks: [failedSkipping], coverage: new Map([['DF-01', ['df.expired']], ['DF-03', ['df.expired']]]) };
    const byId = new Map(computeRequirementVerdicts(input).map((v) => [v.id, v]));
    expect(byId.get('DF-01')?.status).toBe('failed');
    expect(byId.get('DF-03')?.status).toBe('skipped');
    expect(byId.get('DF-03')?.reason).toMatch(/needs a clock hook/);
    // Stopped for another reason (not a skip): still inconclusive.
    const stopped = computeRequirementVerdicts({ ...input, checks: [{ ...failedSkipping, exploreSkipped: undefined }] });
    expect(stopped.find((v) => v.id === 'DF-03')?.status).toBe('inconclusive');
  });
});
