/**
 * The concurrency mutants over stdio (`node dist/cli.js adapter --mutant NAME` as `--adapter`):
 * with real concurrency over HTTP instead of scheduled interleavings, each still fails exactly its
 * `breaks`, in full runs. Shared by test/mutants/sdk-kill-stdio.test.ts (seed 1) and the soak
 * tier (more seeds).
 */
import { describe, expect, it } from 'vitest';
import { sdkMutant } from '../../src/mutants/index.js';
import { requireBuiltCli } from './cli.js';
import { judgeMutantRun, runSdk, type ToleratedExtra } from './sdk-harness.js';

export const STDIO_MUTANTS = ['no-single-flight', 'stale-tokens-refreshed-event', 'reuse-superseded-refresh-token'] as const;

/**
 * Known harness issue (reported to the lead, scenarios/sdk/session-model.ts): over stdio real time
 * passes between the harness moving its clock and the SDK deciding, and the session model allows
 * no refresh when the token is a few ms outside the declared margin. While shrinking a genuine
 * failure, fast-check walks the clock advance onto that boundary and the shrunk counterexample
 * becomes a spurious "one refresh too many" — SDK-06, or SDK-09 when a 401 was pending. Tolerated
 * only from `sdk.session.model`, and never for a requirement the mutant itself breaks.
 */
const MARGIN_BOUNDARY: readonly ToleratedExtra[] = ['SDK-06', 'SDK-09'].map((requirement) => ({ requirement, check: 'sdk.session.model', why: 'margin boundary over real time' }));

export function stdioKillSuite(seeds: readonly number[]): void {
  const table: string[] = [];

  describe(`SDK mutants over stdio (seeds ${seeds.join(', ')})`, () => {
    for (const name of STDIO_MUTANTS) {
      it(`${name} fails exactly its breaks through node dist/cli.js adapter --mutant`, async () => {
        requireBuiltCli();
        const mutant = sdkMutant(name)!;
        const failures: string[] = [];
        for (const seed of seeds) {
          const run = await runSdk({ seed, adapter: `node dist/cli.js adapter --mutant ${name}` });
          expect(run.report.target.description ?? '').toContain(`mutant ${name}`);
          const problems = judgeMutantRun(run, mutant.breaks, MARGIN_BOUNDARY.filter((t) => !mutant.breaks.includes(t.requirement)));
          if (problems.length) failures.push(`seed ${seed}: ${problems.join('; ')}`);
        }
        table.push(`  ${name.padEnd(34)} [${mutant.breaks.join(', ')}] ${seeds.length - failures.length}/${seeds.length}`);
        expect(failures).toEqual([]);
      }, 60_000 * seeds.length);
    }

    it('reports the kill rates', () => {
      console.log(`kill rates over stdio (seeds ${seeds.join(', ')}):\n${table.join('\n')}`);
    });
  });
}
