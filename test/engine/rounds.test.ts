/**
 * A failure never masks the other requirements of its check: the runner explores past every
 * violation it found (rounds), one observation can fail several requirements, and a pass is
 * qualified by what the configuration left unexplored. These are the rules of issue "verdicts that
 * hold on targets the harness did not grow up with" (points 3 and 4), at the level of the engine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckDefinition } from '../../src/engine/check.js';
import { deviation, Violation } from '../../src/engine/outcomes.js';
import { property } from '../../src/engine/properties.js';
import { runCheck, type RunnerOptions } from '../../src/engine/runner.js';
import { computeRequirementVerdicts } from '../../src/engine/verdicts.js';
import type { CheckResult } from '../../src/report/schema.js';

const base: RunnerOptions = { baseSeed: 7, setSink: () => {}, replayCommand: (c) => `replay ${c.id}${c.path ? ` --path ${c.path}` : ''}${c.tolerate ? ` --tolerate ${c.tolerate.join(',')}` : ''}` };

function check(overrides: Partial<CheckDefinition<null>> & Pick<CheckDefinition<null>, 'property'>): CheckDefinition<null> {
  return { id: 'test.check', title: 'a check', requirements: ['RT-01', 'RT-08'], defaultRuns: 20, ...overrides };
}

function verdictsOf(results: CheckResult[], mode: 'backend' | 'sdk' = 'backend') {
  const coverage = new Map<string, string[]>();
  for (const r of results) for (const id of r.requirements) coverage.set(id, [...(coverage.get(id) ?? []), r.id]);
  return new Map(computeRequirementVerdicts({ mode, checks: results, coverage }).map((v) => [v.id, v]));
}

describe('exploring past a known violation', () => {
  it('a SHOULD deviation is recorded and the MUST behind it still gets its own verdict (pass)', async () => {
    // Every run first meets a SHOULD deviation (RT-08), then judges a MUST (RT-01) that holds.
    const result = await runCheck(
      check({
        property: (_env, ctx) =>
          property(ctx, fc.nat(10), async (n) => {
            deviation(new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed'));
            if (n > 100) throw new Violation('RT-01', 'rotation', 'none', 'never happens');
          }),
      }),
      null,
      base,
    );
    expect(result.status).toBe('failed');
    expect(result.failedRequirements).toEqual(['RT-08']);
    expect(result.established).toEqual(['RT-01']);
    const verdicts = verdictsOf([result]);
    expect(verdicts.get('RT-08')!.status).toBe('failed');
    expect(verdicts.get('RT-01')!.status).toBe('passed');
    expect(verdicts.get('RT-01')!.decidedBy?.[0]).toMatch(/held in every run exploring past its violation of RT-08/);
  });

  it('a MUST violated behind a known deviation is found as a second finding, replayable with --tolerate', async () => {
    const result = await runCheck(
      check({
        property: (_env, ctx) =>
          property(ctx, fc.nat(10), async (n) => {
            deviation(new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed'));
            if (n >= 3) throw new Violation('RT-01', 'a new refresh token', 'the same one', 'no rotation');
          }),
      }),
      null,
      base,
    );
    expect(result.status).toBe('failed');
    expect(result.failedRequirements).toEqual(['RT-08', 'RT-01']);
    expect(result.additionalFindings).toHaveLength(1);
    const second = result.additionalFindings![0]!;
    expect(second.requirements).toEqual(['RT-01']);
    expect(second.replay).toMatch(/--tolerate RT-08/);
    expect(second.path).toBeDefined();
    const verdicts = verdictsOf([result]);
    expect(verdicts.get('RT-01')!.status).toBe('failed');
    expect(verdicts.get('RT-08')!.status).toBe('failed');
  });

  it('the replay of a later finding (--path with tolerate) reproduces it alone', async () => {
    const definition = check({
      property: (_env, ctx) =>
        property(ctx, fc.nat(10), async (n) => {
          deviation(new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed'));
          if (n >= 3) throw new Violation('RT-01', 'a new refresh token', 'the same one', 'no rotation');
        }),
    });
    const first = await runCheck(definition, null, base);
    const finding = first.additionalFindings![0]!;
    const replayed = await runCheck(definition, null, { ...base, replay: { checkId: 'test.check', path: finding.path!, tolerate: ['RT-08'] } });
    expect(replayed.status).toBe('failed');
    expect(replayed.failedRequirements).toEqual(['RT-01']);
    expect(replayed.tolerated).toEqual(['RT-08']);
  });

  it('an execution that can only stop at a known violation is set aside: no requirement is passed by it', async () => {
    const result = await runCheck(
      check({
        property: (_env, ctx) =>
          property(ctx, fc.nat(10), async () => {
            // A plain throw: the check cannot go on past it, so it tells nothing about RT-01.
            throw new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed');
          }),
      }),
      null,
      base,
    );
    expect(result.status).toBe('failed');
    expect(result.established).toEqual([]);
    expect(result.notEstablished).toMatch(/every run stopped at the known violation of RT-08/);
    expect(verdictsOf([result]).get('RT-01')!.status).toBe('inconclusive');
  });

  it('executions that do not meet the known violation still establish the rest', async () => {
    const result = await runCheck(
      check({
        property: (_env, ctx) =>
          property(ctx, fc.nat(10), async (n) => {
            if (n % 2 === 0) throw new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed');
          }),
      }),
      null,
      base,
    );
    expect(result.established).toEqual(['RT-01']);
    expect(verdictsOf([result]).get('RT-01')!.status).toBe('passed');
  });

  it('generators can leave out what only exercises a known violation (ctx.known)', async () => {
    let sawKnown = false;
    const result = await runCheck(
      check({
        property: (_env, ctx) => {
          if (ctx.known.has('RT-08')) sawKnown = true;
          const foreign = ctx.known.has('RT-08') ? fc.constant(false) : fc.boolean();
          return property(ctx, fc.tuple(foreign, fc.nat(5)), async ([isForeign]) => {
            if (isForeign) throw new Violation('RT-08', 'invalid_grant', '200', 'a foreign client refreshed');
          });
        },
      }),
      null,
      base,
    );
    expect(sawKnown).toBe(true);
    expect(result.established).toEqual(['RT-01']);
  });
});

describe('one observation, several requirements', () => {
  it('a violation naming several requirements fails each of them; none is passed by that check', async () => {
    const result = await runCheck(
      check({
        requirements: ['SDK-14'],
        property: (_env, ctx) =>
          property(ctx, fc.nat(3), async () => {
            throw new Violation('SDK-14', 'no token request', 'a token request', 'an API-key client called the token endpoint after a 401', { also: ['SDK-01'] });
          }),
      }),
      null,
      base,
    );
    expect(result.failedRequirements).toEqual(['SDK-14', 'SDK-01']);
    expect(result.message).toMatch(/^SDK-14 \+ SDK-01: /);
    // Another check covering SDK-01 passed: the observation still decides it.
    const other: CheckResult = { id: 'sdk.api-key.bearer', title: 't', group: 'SDK', requirements: ['SDK-01'], status: 'passed', runs: 6, durationMs: 1, seed: 1 };
    const verdicts = verdictsOf([result, other], 'sdk');
    expect(verdicts.get('SDK-01')!.status).toBe('failed');
    expect(verdicts.get('SDK-01')!.decidedBy?.[0]).toMatch(/^test\.check \(seed -?\d+, path [\d:]+\): SDK-14 \+ SDK-01/);
    expect(verdicts.get('SDK-14')!.status).toBe('failed');
  });
});

describe('limits of what a pass explored', () => {
  it('a check declaring a limit for its configuration qualifies the pass in the verdict', async () => {
    const result = await runCheck(
      check({
        requirements: ['RT-06'],
        limitsFor: () => ({ 'RT-06': 'replays after the 60 s grace window not explored: needs a clock hook' }),
        property: (_env, ctx) => property(ctx, fc.nat(3), async () => {}),
      }),
      null,
      base,
    );
    expect(result.status).toBe('passed');
    const verdict = verdictsOf([result]).get('RT-06')!;
    expect(verdict.status).toBe('passed');
    expect(verdict.limits).toEqual(['replays after the 60 s grace window not explored: needs a clock hook']);
    expect(verdict.reason).toMatch(/^limited: replays after the 60 s grace window/);
  });

  it('a limit noted during a run (ctx.limit) is kept too', async () => {
    const result = await runCheck(
      check({
        requirements: ['RT-02'],
        property: (_env, ctx) =>
          property(ctx, fc.nat(3), async () => {
            ctx.limit('RT-02', 'expiry after 300 s not explored');
          }),
      }),
      null,
      base,
    );
    expect(result.limits).toEqual({ 'RT-02': 'expiry after 300 s not explored' });
  });
});

describe('a model-based check is credited only with what its runs exercised', () => {
  it('a requirement no generated run reached is not established (skipped: the harness did not look), the others pass', async () => {
    const result = await runCheck(
      check({
        requirements: ['RT-04', 'RT-05'],
        creditsOnlyExercised: true,
        property: (_env, ctx) =>
          property(ctx, fc.nat(10), async () => {
            ctx.exercised('RT-04');
          }),
      }),
      null,
      base,
    );
    expect(result.status).toBe('passed');
    expect(result.established).toEqual(['RT-04']);
    expect(result.notEstablished).toMatch(/never exercised RT-05/);
    const verdicts = verdictsOf([result]);
    expect(verdicts.get('RT-04')!.status).toBe('passed');
    expect(verdicts.get('RT-05')!.status).toBe('skipped');
    expect(verdicts.get('RT-05')!.reason).toMatch(/^not exercised: .*never exercised RT-05.*--num-runs/);
  });

  it('a targeted check (the default) judges every requirement in every run', async () => {
    const result = await runCheck(check({ requirements: ['RT-04', 'RT-05'], property: (_env, ctx) => property(ctx, fc.nat(3), async () => {}) }), null, base);
    expect(result.established).toBeUndefined();
    expect(verdictsOf([result]).get('RT-05')!.status).toBe('passed');
  });
});
