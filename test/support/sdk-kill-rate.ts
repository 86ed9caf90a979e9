/**
 * The kill-rate suite of the SDK mutants: every mutant, in-process, against several seeds, must
 * fail exactly its `breaks`. Shared by the test files that split the catalogue (so vitest can run
 * them on both cores) and by the soak tier (test/soak/).
 *
 * Seeds (`SDK_KILL_TIERS`):
 * - `npm test`: seed 1 at full scope (every check: the mutant breaks nothing else), then seed 4
 *   with only the checks covering what it breaks (`--check <its breaks>`).
 * - `npm run soak`: seeds 2 and 3 at full scope (`EKSO_SOAK_FULL=1`: seeds 2 … 5).
 *
 * `EKSO_KILL_SEEDS=1,2,3` replaces the seeds, all at full scope (e.g. to replay a failure).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SdkMutant } from '../../src/mutants/registry.js';
import { judgeMutantRun, runSdk, type ToleratedExtra } from './sdk-harness.js';
import { soakSize } from './soak.js';

export interface SeedPlan {
  seed: number;
  scope: 'full' | 'breaks';
}

const GIVEN: SeedPlan[] | null = process.env.EKSO_KILL_SEEDS ? process.env.EKSO_KILL_SEEDS.split(',').map((s) => ({ seed: Number(s), scope: 'full' })) : null;

export const SDK_KILL_TIERS: Readonly<Record<'everyday' | 'soak', readonly SeedPlan[]>> = {
  everyday: GIVEN ?? [{ seed: 1, scope: 'full' }, { seed: 4, scope: 'breaks' as const }],
  soak: GIVEN ?? soakSize([2, 3], [2, 3, 4, 5]).map((seed) => ({ seed, scope: 'full' as const })),
};

/** Extra failures tolerated per mutant (none: each mutant must fail exactly what it breaks). */
export const TOLERATED: Readonly<Record<string, readonly ToleratedExtra[]>> = {};

/** `--check` patterns selecting the checks that cover the given requirements. */
export function checksFor(breaks: readonly string[]): { check: RegExp[]; checkText: string } {
  return { check: breaks.map((id) => new RegExp(`^${id}$`)), checkText: breaks.join(',') };
}

export function killRateSuite(title: string, mutants: readonly SdkMutant[], plan: readonly SeedPlan[] = SDK_KILL_TIERS.everyday): void {
  const table: string[] = [];
  const seedsText = plan.map((p) => `${p.seed}${p.scope === 'breaks' ? '*' : ''}`).join(', ');
  describe(title, () => {
    afterAll(() => {
      // The kill rate of each mutant: seeds whose run failed exactly its `breaks`.
      console.log(`kill rates (${title}, in-process, seeds ${seedsText}; * = breaks-only checks):\n${table.join('\n')}`);
    });
    for (const mutant of mutants) {
      it(`${mutant.name} fails exactly ${mutant.breaks.join(', ')} (seeds ${seedsText})`, async () => {
        const failures: string[] = [];
        let killed = 0;
        let slowest = 0;
        for (const { seed, scope } of plan) {
          const run = await runSdk({ mutant: mutant.name, seed, ...(scope === 'breaks' ? checksFor(mutant.breaks) : {}) });
          slowest = Math.max(slowest, run.durationMs);
          const problems = judgeMutantRun(run, mutant.breaks, TOLERATED[mutant.name] ?? [], scope);
          if (problems.length === 0) killed += 1;
          else failures.push(`seed ${seed} (${scope} scope): ${problems.join('; ')}`);
        }
        table.push(`  ${mutant.name.padEnd(34)} ${`[${mutant.breaks.join(', ')}]`.padEnd(22)} ${killed}/${plan.length}  (slowest run ${slowest} ms)`);
        expect(failures, `${mutant.name} (breaks ${mutant.breaks.join(', ')})`).toEqual([]);
      }, 150_000);
    }
  });
}
