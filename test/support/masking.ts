/**
 * The masking and compound mutant suite (test/mutants/masking.test.ts: seed 1; the soak:
 * test/soak/masking.soak.test.ts). Masking and compound mutants: a failure must not mask another requirement, and one observation
 * that breaks several requirements fails every one of them.
 *
 * - Masking: against a mutant that breaks some requirements, every other requirement that the
 *   reference passes with the same seed must still *pass* — not end inconclusive because its check
 *   stopped on the mutant's violation (h2spec and the OpenID suite test clauses in isolation; so
 *   does the harness, by exploring past a known violation).
 * - Compound: the mutant's declared breaks all fail, and none of them is passed.
 */
import { describe, expect, it } from 'vitest';
import { backendMutant, sdkMutant } from '../../src/mutants/index.js';
import { parsePolicy } from '../../src/model/policy.js';
import type { Report } from '../../src/report/schema.js';
import { removeDir, runBackend } from './harness.js';
import { silenced } from './pool.js';
import { runSdk } from './sdk-harness.js';

function passed(report: Report): Set<string> {
  return new Set(report.requirements.filter((r) => r.status === 'passed').map((r) => r.id));
}

function verdictLines(report: Report, ids: Iterable<string>): string[] {
  const wanted = new Set(ids);
  return report.requirements.filter((r) => wanted.has(r.id)).map((r) => `${r.id} ${r.status}${r.reason ? `: ${r.reason}` : ''}`);
}

/**
 * Runs against the in-process references are deterministic (the same seed gives the same run), so
 * each (target, seed, policy) runs once per test file: the reference's report serves every case of
 * that seed, and a case that asks for a mutant's exit code reads the run it judged.
 */
const runs = new Map<string, Promise<{ code: number; report: Report }>>();

function once(key: string, run: () => Promise<{ code: number; report: Report }>): Promise<{ code: number; report: Report }> {
  let pending = runs.get(key);
  if (!pending) {
    pending = run();
    runs.set(key, pending);
  }
  return pending;
}

function backendReport(options: Parameters<typeof runBackend>[0] & {}): Promise<{ code: number; report: Report }> {
  const key = `backend ${options.mutant ?? 'reference'} seed ${options.seed} policy ${options.policy ? JSON.stringify(options.policy) : 'strict'}`;
  return once(key, async () => {
    const { code, report, outDir } = await silenced(() => runBackend(options));
    await removeDir(outDir);
    return { code, report };
  });
}

function sdkReport(options: { seed: number; mutant?: string }): Promise<{ code: number; report: Report }> {
  return once(`sdk ${options.mutant ?? 'reference'} seed ${options.seed}`, async () => {
    const { code, report } = await runSdk(options);
    return { code, report };
  });
}

/** Runs the reference and the mutant with one seed; checks the masking and compound rules. */
async function judgeBackend(name: string, seed: number): Promise<void> {
  const mutant = backendMutant(name)!;
  const policy = mutant.runWith?.policy ? parsePolicy(mutant.runWith.policy)! : undefined;
  const reference = await backendReport({ seed, ...(policy ? { policy } : {}) });
  const broken = await backendReport({ seed, mutant: name, ...(policy ? { policy } : {}) });
  const failed = broken.report.requirements.filter((r) => r.status === 'failed').map((r) => r.id).sort();
  expect(failed, verdictLines(broken.report, failed).join('\n')).toEqual([...mutant.breaks].sort());
  const masked = [...passed(reference.report)].filter((id) => !mutant.breaks.includes(id) && !passed(broken.report).has(id));
  expect(masked, `masked by ${mutant.breaks.join(', ')}:\n${verdictLines(broken.report, masked).join('\n')}`).toEqual([]);
}

async function judgeSdk(name: string, seed: number): Promise<void> {
  const mutant = sdkMutant(name)!;
  const reference = await sdkReport({ seed });
  const broken = await sdkReport({ seed, mutant: name });
  const failed = broken.report.requirements.filter((r) => r.status === 'failed').map((r) => r.id).sort();
  expect(failed, verdictLines(broken.report, failed).join('\n')).toEqual([...mutant.breaks].sort());
  const masked = [...passed(reference.report)].filter((id) => !mutant.breaks.includes(id) && !passed(broken.report).has(id));
  expect(masked, `masked by ${mutant.breaks.join(', ')}:\n${verdictLines(broken.report, masked).join('\n')}`).toEqual([]);
}

/** Every masking, compound and conformant-variant case, for each seed given. */
export function maskingSuite(seeds: readonly number[], variantSeeds: readonly number[]): void {
  describe('masking mutants: every other requirement still gets its own verdict', () => {
    // A server failing one SHOULD (RT-08): the exploration of the MUSTs goes on, the run exits 0.
    it.each(seeds)('refresh-ignores-client-binding (SHOULD RT-08), seed %i: every MUST still passes, exit 0', async (seed) => {
      await judgeBackend('refresh-ignores-client-binding', seed);
      const { code } = await backendReport({ seed, mutant: 'refresh-ignores-client-binding' });
      expect(code).toBe(0);
    }, 120_000);

    // A shape deviation (no token_type, no Cache-Control) must not stop the behavioural checks.
    it.each(seeds)('refresh-response-without-token-type (RT-01, RT-11), seed %i: RT-02 … RT-10 still judged', async (seed) => {
      await judgeBackend('refresh-response-without-token-type', seed);
    }, 120_000);

    // A reactive-only SDK fails SDK-04; single flight of its 401 refreshes is judged on its own.
    it.each(seeds)('no-proactive-refresh (SDK-04, with single flight), seed %i: SDK-06 passes', async (seed) => {
      await judgeSdk('no-proactive-refresh', seed);
    }, 120_000);

    it.each(seeds)('reactive-without-single-flight (SDK-04 + SDK-06), seed %i: both fail, nothing else is masked', async (seed) => {
      await judgeSdk('reactive-without-single-flight', seed);
    }, 120_000);
  });

  describe('compound mutants: one observation, every requirement it breaks', () => {
    it.each(seeds)('listing-shows-raw-key (AK-03 + AK-02), seed %i', async (seed) => {
      await judgeBackend('listing-shows-raw-key', seed);
    }, 120_000);

    it.each(seeds)('replay-not-detected (RT-04 + RT-05), seed %i', async (seed) => {
      await judgeBackend('replay-not-detected', seed);
    }, 120_000);

    it.each(seeds)('api-key-refreshed-on-401 (SDK-14 + SDK-01), seed %i', async (seed) => {
      await judgeSdk('api-key-refreshed-on-401', seed);
    }, 120_000);

    it.each(seeds)('stale-tokens-refreshed-event (SDK-08 + STORE-02), seed %i', async (seed) => {
      await judgeSdk('stale-tokens-refreshed-event', seed);
    }, 120_000);
  });

  describe('conformant variants: another road the requirements allow is not a violation', () => {
    it.each(variantSeeds)('grace-retry-returns-issued-pair under grace=30, seed %i: conformant', async (seed) => {
      const { code, report } = await backendReport({ seed, mutant: 'grace-retry-returns-issued-pair', policy: parsePolicy('grace=30')! });
      const troubled = report.requirements.filter((r) => r.status === 'failed' || r.status === 'inconclusive');
      expect(troubled.map((r) => `${r.id} ${r.status}: ${r.reason}`)).toEqual([]);
      expect(code).toBe(0);
    }, 120_000);
  });
}
