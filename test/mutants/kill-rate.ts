/**
 * The kill-rate suite, shared by the kill-rate test files (one file per requirement group, so
 * that vitest spreads them over its workers) and by the soak tier (test/soak/).
 *
 * For every mutant, the harness runs in its default budget (no --num-runs raise) and must fail
 * exactly the requirements the mutant says it breaks — no fewer, and no other one (inconclusive
 * on other requirements of a failing check is allowed: the check stopped before establishing
 * them).
 *
 * Seeds (`KILL_RATE_TIERS`):
 * - `npm test`: seed 1 at full scope (every check: the mutant breaks nothing else), then one
 *   random seed per test run (printed) with only the checks covering what it breaks
 *   (`--check <its breaks>`: each seed still has to find the break, at a fraction of the cost).
 * - `npm run soak`: seed 2 and a random one at full scope (`EKSO_SOAK_FULL=1`: seeds 2, 3 and a
 *   random one).
 * A mutant that needs --check-rate-limit turns a rate limiter on, which would throttle every other
 * check: it always runs the ERR-04 check only (marked `*` in the table).
 *
 * `EKSO_MUTANT_SEEDS=1,2,3` replaces the seeds, all at full scope (e.g. to replay a failure).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendMutant } from '../../src/mutants/index.js';
import { requirement } from '../../src/spec/requirements.js';
import { killRateTable, randomSeed, runMutant, type MutantRun } from '../support/mutants.js';
import { soakSize } from '../support/soak.js';

export const FIXED_SEEDS = [1, 2, 3] as const;

export type KillRateTier = 'everyday' | 'soak';

interface SeedPlan {
  seed: number;
  scope: 'full' | 'breaks';
}

function seedsForThisRun(tier: KillRateTier): SeedPlan[] {
  const given = process.env.EKSO_MUTANT_SEEDS;
  if (given) {
    return given
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n))
      .map((seed) => ({ seed, scope: 'full' as const }));
  }
  const [first, second, third] = FIXED_SEEDS;
  if (tier === 'soak') return soakSize([second!, randomSeed()], [second!, third!, randomSeed()]).map((seed) => ({ seed, scope: 'full' }));
  return [{ seed: first!, scope: 'full' }, { seed: randomSeed(), scope: 'breaks' as const }];
}

export function describeKillRate(title: string, mutants: readonly BackendMutant[], tier: KillRateTier = 'everyday'): void {
  const plan = seedsForThisRun(tier);
  const runs: MutantRun[] = [];
  const seedsText = plan.map((p) => `${p.seed}${p.scope === 'breaks' ? '*' : ''}`).join(', ');

  describe(`kill rate: ${title}`, () => {
    afterAll(() => {
      if (!runs.length) return;
      const total = runs.reduce((sum, r) => sum + r.durationMs, 0);
      const killed = runs.filter((r) => r.exact).length;
      console.log(`kill rate, ${title} (seeds ${seedsText}; * = breaks-only checks): ${killed}/${runs.length} runs failed exactly the broken requirement(s), ${(total / 1000).toFixed(1)} s\n${killRateTable(mutants, runs)}`);
    });

    for (const mutant of mutants) {
      for (const { seed, scope } of plan) {
        it(`${mutant.name} (breaks ${mutant.breaks.join(', ')}), seed ${seed}${scope === 'breaks' ? ', its checks only' : ''}`, async () => {
          const run = await runMutant(mutant, seed, scope);
          runs.push(run);
          const why = [`seed ${seed} (${run.scope} scope): failed [${run.failed.join(', ')}], expected exactly [${mutant.breaks.join(', ')}]`, ...run.details].join('\n  ');
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
