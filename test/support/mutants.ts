/**
 * Runs the harness in-process against a named backend mutant (or the reference) and judges the
 * outcome the way the kill-rate tests need: which requirements failed, and whether that is exactly
 * what the mutant says it breaks. Also renders the kill-rate table.
 */
import { parsePolicy } from '../../src/model/policy.js';
import type { BackendMutant } from '../../src/mutants/index.js';
import type { Report } from '../../src/report/schema.js';
import { failedRequirements, removeDir, runBackend, type BackendRunOptions } from './harness.js';
import { silenced } from './pool.js';

export interface MutantRun {
  mutant: string;
  seed: number;
  /** `full`: every check; `breaks`: only the checks covering the broken requirements. */
  scope: 'full' | 'breaks';
  failed: string[];
  inconclusive: string[];
  /** The failed requirements are exactly `breaks`. */
  exact: boolean;
  code: number;
  durationMs: number;
  /** One line per failed or inconclusive check, for failure messages. */
  details: string[];
}

/** `--check` patterns selecting the checks that cover the given requirements. */
export function checksCovering(ids: readonly string[]): RegExp[] {
  return ids.map((id) => new RegExp(`^${id}$`));
}

/**
 * The run options a mutant needs (its `runWith`). A mutant that needs `--check-rate-limit` turns a
 * rate limiter on, which would throttle every other check: such a mutant is always run with only
 * the checks covering what it breaks.
 */
export function mutantScope(mutant: BackendMutant, wanted: 'full' | 'breaks'): { scope: 'full' | 'breaks'; options: BackendRunOptions } {
  const policy = mutant.runWith?.policy ? parsePolicy(mutant.runWith.policy) : null;
  if (mutant.runWith?.policy && !policy) throw new Error(`${mutant.name}: invalid runWith.policy ${mutant.runWith.policy}`);
  const checkRateLimit = Boolean(mutant.runWith?.checkRateLimit);
  const scope = checkRateLimit ? 'breaks' : wanted;
  return {
    scope,
    options: {
      mutant: mutant.name,
      checkRateLimit,
      ...(policy ? { policy } : {}),
      ...(scope === 'breaks' ? { check: checksCovering(mutant.breaks), checkText: mutant.breaks.join(',') } : {}),
    },
  };
}

/**
 * Runs the harness with its console output (a progress line per failed check and a summary on
 * stderr, even when quiet) held back, so that a hundred runs leave a readable test log; the
 * failure messages carry what matters. `EKSO_MUTANT_VERBOSE=1` lets it through.
 */
export async function quietRun(options: BackendRunOptions): Promise<Awaited<ReturnType<typeof runBackend>>> {
  if (process.env.EKSO_MUTANT_VERBOSE) return runBackend(options);
  return silenced(() => runBackend(options));
}

export async function runMutant(mutant: BackendMutant, seed: number, wanted: 'full' | 'breaks' = 'full'): Promise<MutantRun> {
  const { scope, options } = mutantScope(mutant, wanted);
  const started = Date.now();
  const { code, report, outDir } = await quietRun({ ...options, seed });
  try {
    const failed = failedRequirements(report);
    return {
      mutant: mutant.name,
      seed,
      scope,
      failed,
      inconclusive: report.requirements.filter((r) => r.status === 'inconclusive').map((r) => r.id).sort(),
      exact: sameSet(failed, mutant.breaks),
      code,
      durationMs: Date.now() - started,
      details: checkDetails(report),
    };
  } finally {
    await removeDir(outDir);
  }
}

export function checkDetails(report: Report): string[] {
  return report.checks
    .filter((c) => c.status === 'failed' || c.status === 'inconclusive')
    .map((c) => `${c.id} ${c.status}: ${c.message ?? ''}${c.replay ? ` (replay: ${c.replay})` : ''}`);
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((x, i) => x === right[i]);
}

/** A seed for this test run: fixed ones reproduce, a random one widens the net (it is printed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** The kill-rate table: one row per mutant, killed exactly / seeds tried. */
export function killRateTable(mutants: readonly BackendMutant[], runs: readonly MutantRun[]): string {
  const rows = mutants.map((m) => {
    const mine = runs.filter((r) => r.mutant === m.name);
    const killed = mine.filter((r) => r.exact).length;
    const seeds = mine.map((r) => `${r.seed}${r.scope === 'breaks' ? '*' : ''}${r.exact ? '' : '!'}`).join(' ');
    const ms = mine.reduce((sum, r) => sum + r.durationMs, 0);
    return [m.name, m.breaks.join(','), `${killed}/${mine.length}`, seeds, `${(ms / 1000).toFixed(1)} s`];
  });
  const header = ['mutant', 'breaks', 'killed exactly', 'seeds (* = breaks-only checks, ! = not exact)', 'time'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
