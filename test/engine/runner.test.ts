/**
 * The check runner under adverse conditions: a deadline that arrives while an execution hangs,
 * Ctrl-C, and checks that crash in each of their hooks. None of these may become a failure of the
 * target (H-04), crash the run (H-05), or be reported as "passed".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckDefinition } from '../../src/engine/check.js';
import { Inconclusive, Violation } from '../../src/engine/outcomes.js';
import { property } from '../../src/engine/properties.js';
import { runCheck, runChecks, type RunnerOptions } from '../../src/engine/runner.js';
import { sleep } from '../../src/engine/limits.js';

type Env = { calls: number };

const base: RunnerOptions = { baseSeed: 1, setSink: () => {} };

function check(overrides: Partial<CheckDefinition<Env>> & Pick<CheckDefinition<Env>, 'property'>): CheckDefinition<Env> {
  return { id: 'test.check', title: 'a check', requirements: ['AK-01'], defaultRuns: 5, ...overrides };
}

describe('runner', () => {
  it('a deadline reached while the first execution still waits: inconclusive "--max-time", never a property error', async () => {
    const hanging = check({
      property: (_env, ctx) =>
        property(ctx, fc.nat(), async () => {
          await sleep(60_000, ctx.signal);
        }),
    });
    const result = await runCheck(hanging, { calls: 0 }, { ...base, deadline: Date.now() + 200 });
    expect(result.status).toBe('inconclusive');
    expect(result.message).toMatch(/--max-time reached after \d+ of 5 runs/);
  });

  it('what an execution concludes after it was cut short (its sleeps woke early) is never a failure', async () => {
    // The property "sees" a violation only because its wait was cut short by the deadline.
    const premature = check({
      property: (_env, ctx) =>
        property(ctx, fc.nat(), async () => {
          const started = Date.now();
          await sleep(60_000, ctx.signal);
          if (Date.now() - started < 60_000) throw new Violation('AK-07', '401', '200', 'the key still worked');
        }),
    });
    const result = await runCheck(premature, { calls: 0 }, { ...base, deadline: Date.now() + 200 });
    expect(result.status).toBe('inconclusive');
    expect(result.failedRequirements).toBeUndefined();
  });

  it('Ctrl-C: the running check and the ones after it are inconclusive ("interrupted")', async () => {
    const controller = new AbortController();
    const env = { calls: 0 };
    const slow = check({
      id: 'test.slow',
      property: (e, ctx) =>
        property(ctx, fc.nat(), async () => {
          e.calls += 1;
          if (e.calls === 2) controller.abort();
          await sleep(20, ctx.signal);
        }),
    });
    const after = check({ id: 'test.after', property: (_e, ctx) => property(ctx, fc.nat(), async () => {}) });
    const [first, second] = await runChecks([slow, after], env, { ...base, signal: controller.signal });
    expect(first).toMatchObject({ status: 'inconclusive' });
    expect(first!.message).toMatch(/interrupted after \d+ runs/);
    expect(second).toMatchObject({ status: 'inconclusive', message: 'not run: interrupted' });
  });

  it('counts the executions that really ran when a check stops early', async () => {
    const stops = check({
      defaultRuns: 25,
      property: (_env, ctx) =>
        property(ctx, fc.nat(), async () => {
          throw new Inconclusive('transport: timeout');
        }),
    });
    const result = await runCheck(stops, { calls: 0 }, base);
    expect(result).toMatchObject({ status: 'inconclusive', runs: 1, message: 'transport: timeout' });
  });

  it('a check whose skipReason or requirementsFor throws is inconclusive, and the next check still runs', async () => {
    const badSkip = check({
      id: 'test.bad-skip',
      skipReason: () => {
        throw new Error('bug in skipReason');
      },
      property: (_e, ctx) => property(ctx, fc.nat(), async () => {}),
    });
    const badRequirements = check({
      id: 'test.bad-requirements',
      requirementsFor: () => {
        throw new TypeError('bug in requirementsFor');
      },
      property: (_e, ctx) => property(ctx, fc.nat(), async () => {}),
    });
    const fine = check({ id: 'test.fine', property: (_e, ctx) => property(ctx, fc.nat(), async () => {}) });
    const results = await runChecks([badSkip, badRequirements, fine], { calls: 0 }, base);
    expect(results.map((r) => r.status)).toEqual(['inconclusive', 'inconclusive', 'passed']);
    expect(results[0]!.message).toMatch(/check could not start: bug in skipReason/);
    expect(results[1]!.message).toMatch(/check could not start: bug in requirementsFor/);
  });

  it('a property builder that throws something that is not an Error is inconclusive', async () => {
    const result = await runCheck(
      check({
        property: () => {
          throw undefined;
        },
      }),
      { calls: 0 },
      base,
    );
    expect(result).toMatchObject({ status: 'inconclusive', runs: 0 });
    expect(result.message).toMatch(/check could not start: undefined/);
  });

  it('a bug inside a property (not a Violation) is inconclusive with the error, never failed', async () => {
    const result = await runCheck(
      check({
        property: (_e, ctx) =>
          property(ctx, fc.nat(), async () => {
            throw new TypeError("Cannot read properties of undefined (reading 'id')");
          }),
      }),
      { calls: 0 },
      base,
    );
    expect(result.status).toBe('inconclusive');
    expect(result.message).toMatch(/check error: Cannot read properties/);
  });
});
