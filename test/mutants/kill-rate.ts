/**
 * The kill-rate suite, shared by the kill-rate test files (one file per requirement group, so
 * that vitest spreads them over its workers).
 *
 * For every mutant, the harness runs in its default budget (no --num-runs raise) and must fail
 * exactly the requirements the mutant says it breaks — no fewer, and no other one (inconclusive
 * on other requirements of a failing check is allowed: the check stopped before establishing
 * them). Seeds: three fixed ones (reproducible) and one random one per test run (printed), each a
 * full run of every check. A mutant that needs --check-rate-limit turns a rate limiter on, which
 * would throttle every other check: it runs the ERR-04 check only (marked `*` in the table).
 *
 * `EKSO_MUTANT_SEEDS=1,2,3` replaces the seeds (e.g. to replay a failure).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendMutant } from '../../src/mutants/index.js';
import { requirement } from '../../src/spec/requirements.js';
import { killRateTable, randomSeed, runMutant, type MutantRun } from '../support/mutants.js';

export const FIXED_SEEDS = [1, 2, 3] as const;

function seedsForThisRun(): number[] {
  const given = process.env.EKSO_MUTANT_SEEDS;
  if (given) return given.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n));
  return [...FIXED_SEEDS, randomSeed()];
}

export function describeKillRate(title: string, mutants: readonly BackendMutant[]): void {
  const seeds = seedsForThisRun();
  const runs: MutantRun[] = [];

  describe(`kill rate: ${title}`, () => {
    afterAll(() => {
      if (!runs.length) return;
      const total = runs.reduce((sum, r) => sum + r.durationMs, 0);
      const killed = runs.filter((r) => r.exact).length;
      console.log(`kill rate, ${title} (seeds ${seeds.join(', ')}): ${killed}/${runs.length} runs failed exactly the broken requirement(s), ${(total / 1000).toFixed(1)} s\n${killRateTable(mutants, runs)}`);
    });

    for (const mutant of mutants) {
      for (const seed of seeds) {
        it(`${mutant.name} (breaks ${mutant.breaks.join(', ')}), seed ${seed}`, async () => {
          const run = await runMutant(mutant, seed);
          runs.push(run);
          const why = [`seed ${seed}: failed [${run.failed.join(', ')}], expected exactly [${mutant.breaks.join(', ')}]`, ...run.details].join('\n  ');
          expect(run.failed, why).toEqual([...mutant.breaks].sort());
          // A MUST break makes the run fail (exit 1); a SHOULD-only break does not (no --strict).
          expect(run.code, why).toBe(run.failed.some(isMust) ? 1 : run.inconclusive.length ? 4 : 0);
        });
      }
    }
  });
}

function isMust(id: string): boolean {
  return requirement(id).level === 'MUST';
}
