/**
 * The kill-rate suite of the SDK mutants: every mutant, in-process, against several seeds, must
 * fail exactly its `breaks`. Shared by the test files that split the catalogue (so vitest can run
 * the halves on both cores).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SdkMutant } from '../../src/mutants/registry.js';
import { judgeMutantRun, runSdk, type ToleratedExtra } from './sdk-harness.js';

export const KILL_SEEDS = [1, 2, 3, 4, 5] as const;

/**
 * Known harness issue (reported to the lead, scenarios/sdk/session-model.ts): the session model
 * allows no refresh in a burst that did not need one and blames an extra refresh on SDK-06 (single
 * flight) — a needless refresh is SDK-05's concern. Tolerated for the needless-refresh mutants,
 * and only when `sdk.session.model` is the check failing SDK-06; remove once the model attributes
 * it to SDK-05.
 */
export const SESSION_MODEL_NEEDLESS_REFRESH: ToleratedExtra = {
  requirement: 'SDK-06',
  check: 'sdk.session.model',
  why: 'the session model reports a needless refresh as a single-flight violation',
};

export const TOLERATED: Readonly<Record<string, readonly ToleratedExtra[]>> = {
  'refresh-every-call': [SESSION_MODEL_NEEDLESS_REFRESH],
  'refresh-after-fixed-ttl': [SESSION_MODEL_NEEDLESS_REFRESH],
};

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
