/**
 * The kill-rate suite of the SDK mutants: every mutant, in-process, against several seeds, must
 * fail exactly its `breaks`. Shared by the test files that split the catalogue (so vitest can run
 * the halves on both cores).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SdkMutant } from '../../src/mutants/registry.js';
import { judgeMutantRun, runSdk, type ToleratedExtra } from './sdk-harness.js';

export const KILL_SEEDS: readonly number[] = process.env.EKSO_KILL_SEEDS ? process.env.EKSO_KILL_SEEDS.split(',').map(Number) : [1, 2, 3, 4, 5];

/** Extra failures tolerated per mutant (none: each mutant must fail exactly what it breaks). */
export const TOLERATED: Readonly<Record<string, readonly ToleratedExtra[]>> = {};

export function killRateSuite(title: string, mutants: readonly SdkMutant[], seeds: readonly number[] = KILL_SEEDS): void {
  const table: string[] = [];
  describe(title, () => {
    afterAll(() => {
      // The kill rate of each mutant: seeds whose run failed exactly its `breaks`.
      console.log(`kill rates (${title}, in-process, seeds ${seeds.join(', ')}):\n${table.join('\n')}`);
    });
    for (const mutant of mutants) {
      it(`${mutant.name} fails exactly ${mutant.breaks.join(', ')}`, async () => {
        const failures: string[] = [];
        let killed = 0;
        let slowest = 0;
        for (const seed of seeds) {
          const run = await runSdk({ mutant: mutant.name, seed });
          slowest = Math.max(slowest, run.durationMs);
          const problems = judgeMutantRun(run, mutant.breaks, TOLERATED[mutant.name] ?? []);
          if (problems.length === 0) killed += 1;
          else failures.push(`seed ${seed}: ${problems.join('; ')}`);
        }
        table.push(`  ${mutant.name.padEnd(34)} ${`[${mutant.breaks.join(', ')}]`.padEnd(22)} ${killed}/${seeds.length}  (slowest run ${slowest} ms)`);
        expect(failures, `${mutant.name} (breaks ${mutant.breaks.join(', ')})`).toEqual([]);
      }, 150_000);
    }
  });
}
