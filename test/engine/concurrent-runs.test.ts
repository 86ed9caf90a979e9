/**
 * Concurrent runs keep fc.check's verdicts: for properties whose outcome depends on the value only,
 * `checkConcurrently` reports the same counterexample, path, shrink count and number of runs as
 * fc.check — whatever order the runs end in — and its path replays through fc.check. Runs really
 * overlap within their slots, each execution records its own steps, and checks side by side keep
 * a shared state to one at a time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CheckDefinition } from '../../src/engine/check.js';
import { runChecksConcurrently } from '../../src/engine/concurrent-checks.js';
import { checkConcurrently, generatedValues, RunSlots, type FailureAdopter } from '../../src/engine/concurrent-runs.js';
import { sleep } from '../../src/engine/limits.js';
import { Inconclusive, Violation } from '../../src/engine/outcomes.js';
import { modelProperty, property } from '../../src/engine/properties.js';
import { runCheck, type RunnerOptions } from '../../src/engine/runner.js';

const adopter = (): FailureAdopter => ({ pinning: true, executions: 0, adoptFailure() {}, abort() {} });

/** A pseudo-random delay from the value: runs end out of order, outcomes stay a function of the value. */
const jitter = (value: unknown) => sleep([...JSON.stringify(value)].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 97, 7) % 4);

interface Case {
  name: string;
  property: () => fc.IAsyncProperty<any>;
}

const CASES: Case[] = [
  {
    name: 'an array whose sum stays small',
    property: () =>
      fc.asyncProperty(fc.array(fc.integer({ min: -50, max: 100 }), { maxLength: 12 }), async (xs) => {
        await jitter(xs);
        if (xs.reduce((a, b) => a + b, 0) > 150) throw new Error('too big');
      }),
  },
  {
    name: 'a pair of strings that never both contain a digit',
    property: () =>
      fc.asyncProperty(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), async (a, b) => {
        await jitter([a, b]);
        if (/\d/.test(a) && /\d/.test(b)) throw new Error('digits');
      }),
  },
  {
    name: 'a property that holds',
    property: () =>
      fc.asyncProperty(fc.nat(), async (n) => {
        await jitter(n);
        if (n < 0) throw new Error('never');
      }),
  },
];

describe('checkConcurrently', () => {
  for (const c of CASES) {
    it(`reports what fc.check reports: ${c.name} (20 seeds)`, async () => {
      for (let seed = 1; seed <= 20; seed++) {
        const sequential = await fc.check(c.property(), { seed, numRuns: 40 });
        const concurrent = await checkConcurrently(c.property(), { seed, numRuns: 40 }, adopter(), new RunSlots(8, 6));
        const summary = (d: fc.RunDetails<unknown>) => ({ failed: d.failed, path: d.counterexamplePath, counterexample: d.counterexample, numShrinks: d.numShrinks, numRuns: d.numRuns });
        expect(summary(concurrent), `seed ${seed}`).toEqual(summary(sequential));
      }
    });
  }

  it('generates the values fc.check runs, in order', async () => {
    const seen: number[][] = [];
    await fc.check(fc.asyncProperty(fc.array(fc.nat(99)), async (xs) => void seen.push(xs)), { seed: 42, numRuns: 20 });
    expect(generatedValues(fc.asyncProperty(fc.array(fc.nat(99)), async () => {}), 42, 20).map((v) => v.value_[0])).toEqual(seen);
  });

  it('its path replays the shrunk counterexample through fc.check', async () => {
    const concurrent = await checkConcurrently(CASES[0]!.property(), { seed: 7, numRuns: 40 }, adopter(), new RunSlots(8, 8));
    expect(concurrent.failed).toBe(true);
    const replayed = await fc.check(CASES[0]!.property(), { seed: 7, numRuns: 40, path: concurrent.counterexamplePath!, endOnFailure: true });
    expect(replayed.counterexample).toEqual(concurrent.counterexample);
  });

  it('runs overlap, within the check share and within the slots shared by every check', async () => {
    let inFlight = 0;
    let most = 0;
    const waiting = () =>
      fc.asyncProperty(fc.nat(), async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(30);
        inFlight -= 1;
      });
    await checkConcurrently(waiting(), { seed: 1, numRuns: 20 }, adopter(), new RunSlots(16, 5));
    expect(most).toBe(5);
    most = 0;
    const shared = new RunSlots(6, 5);
    await Promise.all([checkConcurrently(waiting(), { seed: 1, numRuns: 20 }, adopter(), shared), checkConcurrently(waiting(), { seed: 2, numRuns: 20 }, adopter(), shared)]);
    expect(most).toBe(6);
  });

  it('stops shrinking at its time limit and reports the failure found so far, which replays', async () => {
    const details = await checkConcurrently(CASES[0]!.property(), { seed: 7, numRuns: 40 }, adopter(), new RunSlots(8, 8, 0));
    expect(details).toMatchObject({ failed: true, numShrinks: 0 });
    expect(details.counterexamplePath).toMatch(/^\d+$/);
    const replayed = await fc.check(CASES[0]!.property(), { seed: 7, numRuns: 40, path: details.counterexamplePath!, endOnFailure: true });
    expect(replayed.counterexample).toEqual(details.counterexample);
  });

  it('starts no run after a known failure that fc.check would not have reached', async () => {
    const started: number[] = [];
    const details = await checkConcurrently(
      fc.asyncProperty(fc.nat(1000), async (n) => {
        started.push(n);
        await sleep(5);
        if (n >= 0) throw new Error('always');
      }),
      { seed: 3, numRuns: 50 },
      adopter(),
      new RunSlots(4, 4),
    );
    expect(details.numRuns).toBe(1);
    expect(details.counterexamplePath?.startsWith('0')).toBe(true);
    // The first batch of four, then shrink candidates only.
    expect(started.length).toBeLessThan(50 + 200);
  });
});

describe('runCheck with concurrent runs', () => {
  const options = (overrides: Partial<RunnerOptions> = {}): RunnerOptions => ({ baseSeed: 5, setSink: () => {}, concurrentRuns: new RunSlots(8, 8), ...overrides });

  it('each execution records its own steps: the report shows the shrunk counterexample and nothing of the other runs', async () => {
    const definition: CheckDefinition<null> = {
      id: 'test.steps',
      title: 'steps of concurrent runs',
      requirements: ['SDK-03'],
      defaultRuns: 30,
      property: (_env, ctx) =>
        property(ctx, fc.integer({ min: 0, max: 1000 }), async (n) => {
          ctx.step(`start ${n}`);
          await jitter(n);
          ctx.step(`end ${n}`);
          if (n > 300) throw new Violation('SDK-03', 'at most 300', String(n), 'too big');
        }),
    };
    const concurrent = await runCheck(definition, null, options());
    const sequential = await runCheck(definition, null, options({ concurrentRuns: undefined }));
    expect(concurrent.status).toBe('failed');
    expect(concurrent.steps).toEqual(['start 301', 'end 301']);
    for (const key of ['status', 'path', 'numShrinks', 'steps', 'expected', 'actual', 'runs', 'failedRequirements'] as const) expect(concurrent[key], key).toEqual(sequential[key]);
  });

  it('the lowest failing run decides which requirement is reported, as it would sequentially', async () => {
    // Run 0 fails SDK-05 late; later runs fail SDK-04 at once. Sequentially run 0 fails first.
    const definition: CheckDefinition<null> = {
      id: 'test.pinning',
      title: 'which failure wins',
      requirements: ['SDK-04', 'SDK-05'],
      defaultRuns: 10,
      property: (_env, ctx) => {
        let first = true;
        return property(ctx, fc.nat(), async () => {
          const isFirst = first;
          first = false;
          if (isFirst) {
            await sleep(50);
            throw new Violation('SDK-05', 'x', 'y', 'late');
          }
          throw new Violation('SDK-04', 'x', 'y', 'early');
        });
      },
    };
    const result = await runCheck(definition, null, options());
    // The first finding is run 0's, as sequentially; exploring past it then finds SDK-04 too.
    expect(result.message).toBe('SDK-05: late');
    expect(result.failedRequirements?.[0]).toBe('SDK-05');
    expect(result.additionalFindings?.map((f) => f.requirements[0])).toEqual(['SDK-04']);
  });

  it('model-based properties: the shrunk sequence and its replay path match the sequential run', async () => {
    class Add implements fc.AsyncCommand<{ total: number }, { total: number }> {
      constructor(readonly n: number) {}
      check = () => true;
      async run(model: { total: number }, real: { total: number }): Promise<void> {
        await jitter(this.n);
        model.total += this.n;
        real.total += this.n;
        if (real.total > 20) throw new Violation('SDK-06', 'at most 20', String(real.total), 'over');
      }
      toString = () => `add(${this.n})`;
    }
    const definition: CheckDefinition<null> = {
      id: 'test.model',
      title: 'model',
      requirements: ['SDK-06'],
      defaultRuns: 20,
      property: (_env, ctx) => modelProperty(ctx, [fc.integer({ min: 1, max: 9 }).map((n) => new Add(n))], async () => ({ model: { total: 0 }, real: { total: 0 } })),
    };
    const concurrent = await runCheck(definition, null, options());
    const sequential = await runCheck(definition, null, options({ concurrentRuns: undefined }));
    expect(concurrent.status).toBe('failed');
    for (const key of ['path', 'replayPath', 'numShrinks', 'steps', 'actual'] as const) expect(concurrent[key], key).toEqual(sequential[key]);
  });

  it('a check that stops (inconclusive) is still reported as stopped', async () => {
    const definition: CheckDefinition<null> = {
      id: 'test.stop',
      title: 'stop',
      requirements: ['SDK-07'],
      defaultRuns: 10,
      property: (_env, ctx) =>
        property(ctx, fc.nat(), async () => {
          throw new Inconclusive('the adapter did not answer');
        }),
    };
    expect(await runCheck(definition, null, options())).toMatchObject({ status: 'inconclusive', message: 'the adapter did not answer' });
  });
});

describe('runChecksConcurrently', () => {
  it('runs checks side by side, one at a time per shared state, and returns results in check order', async () => {
    let active = 0;
    let mostOverall = 0;
    let storeActive = 0;
    let mostStore = 0;
    const make = (id: string, sharedState?: string): CheckDefinition<null> => ({
      id,
      title: id,
      requirements: ['STORE-01'],
      defaultRuns: 3,
      ...(sharedState ? { sharedState } : {}),
      property: (_env, ctx) =>
        property(ctx, fc.nat(), async () => {
          active += 1;
          mostOverall = Math.max(mostOverall, active);
          if (sharedState) mostStore = Math.max(mostStore, ++storeActive);
          await sleep(20);
          if (sharedState) storeActive -= 1;
          active -= 1;
        }),
    });
    const checks = [make('a'), make('s1', 'store'), make('b'), make('s2', 'store')];
    const results = await runChecksConcurrently(checks, null, { baseSeed: 1, setSink: () => {}, concurrentRuns: new RunSlots(32, 8) });
    expect(results.map((r) => r.id)).toEqual(['a', 's1', 'b', 's2']);
    expect(results.every((r) => r.status === 'passed')).toBe(true);
    expect(mostStore).toBe(1);
    expect(mostOverall).toBeGreaterThan(3);
  });
});
