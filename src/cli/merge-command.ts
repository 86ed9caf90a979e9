/**
 * `merge <report.json>...`: combines the JSON reports of sharded runs into one set of reports.
 * Verdicts are recomputed from the union of the check results by the same code as a single run,
 * so a merged report equals an unsharded run with the same seed.
 */
import { assembleReport, coverageOf } from '../engine/assemble.js';
import { Redactor } from '../engine/redact.js';
import type { CheckResult, Report } from '../report/schema.js';
import { readReport, type ReporterName } from '../report/write.js';
import { BACKEND_CHECKS } from '../../scenarios/backend/index.js';
import { SDK_CHECKS } from '../../scenarios/sdk/index.js';
import { ConsoleOutput } from '../run/console.js';
import type { Io } from './main.js';
import { writeAll } from '../run/common.js';

export async function mergeReports(reports: readonly Report[]): Promise<Report> {
  const first = reports[0]!;
  const diagnostics: string[] = [];
  for (const r of reports) {
    if (r.mode !== first.mode) throw new Error(`cannot merge a ${r.mode} report with a ${first.mode} report`);
    if (r.policy !== first.policy) throw new Error(`cannot merge reports of different policies (${first.policy}, ${r.policy})`);
  }
  const seeds = new Set(reports.map((r) => r.seed));
  const shardCounts = new Set(reports.map((r) => r.shard?.count).filter((n): n is number => n !== undefined));
  if (shardCounts.size > 1) diagnostics.push(`the reports come from different shard splits (${[...shardCounts].map((n) => `of ${n}`).join(', ')})`);
  else if (shardCounts.size === 1) {
    const count = [...shardCounts][0]!;
    const present = new Set(reports.map((r) => r.shard?.index));
    const absent = Array.from({ length: count }, (_, k) => k + 1).filter((i) => !present.has(i));
    if (absent.length) diagnostics.push(`shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${count}`).join(', ')} not among the merged reports: their checks count as not run`);
  }
  const baselines = new Set(reports.map((r) => JSON.stringify([...(r.baseline?.expected ?? [])].sort())));
  if (baselines.size > 1) diagnostics.push('the shards ran with different --baseline files: the first one is applied to the merged report');
  if (seeds.size > 1) diagnostics.push(`the shards ran with different seeds (${[...seeds].join(', ')}): give every shard the same --seed to make the merge equal a single run`);
  const byId = new Map<string, CheckResult>();
  for (const r of reports) {
    for (const c of r.checks) {
      const seen = byId.get(c.id);
      if (seen && seen.status !== 'skipped') diagnostics.push(`check ${c.id} ran in more than one shard; the first result is kept`);
      else byId.set(c.id, c);
    }
  }
  const catalogue = first.mode === 'backend' ? BACKEND_CHECKS : SDK_CHECKS;
  const order = new Map(catalogue.map((c, i) => [c.id, i]));
  const checks = [...byId.values()].sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9));
  const missing = catalogue.filter((c) => !byId.has(c.id)).map((c) => c.id);
  const options = (first.options ?? {}) as Record<string, unknown>;
  const baseline = first.baseline;
  return assembleReport({
    mode: first.mode,
    target: first.target,
    policy: first.policy,
    seed: first.seed,
    startedAt: new Date(Math.min(...reports.map((r) => Date.parse(r.startedAt)))),
    finishedAt: new Date(Math.max(...reports.map((r) => Date.parse(r.finishedAt)))),
    options: { ...options, mergedFrom: reports.length },
    checks,
    coverage: coverageOf(catalogue as never),
    ...(missing.length ? { unselectedReason: `not in any merged shard` } : {}),
    strict: Boolean(options.strict),
    cleanup: {
      minted: reports.reduce((n, r) => n + r.cleanup.minted, 0),
      revoked: reports.reduce((n, r) => n + r.cleanup.revoked, 0),
      leaked: reports.reduce((n, r) => n + r.cleanup.leaked, 0),
    },
    // Baseline notes are recomputed on the union; other notes (log tails, cleanup) are kept once.
    diagnostics: [...new Set([...diagnostics, ...reports.flatMap((r) => (r.diagnostics ?? []).filter((d) => !/^(stale|unknown) baseline entry/.test(d)))])],
    interrupted: reports.some((r) => r.interrupted),
    ...(baseline ? { baseline: { file: baseline.file, entries: baseline.expected } } : {}),
  });
}

export async function runMerge(files: string[], options: { out: string; reporter: ReporterName[] }, io: Io): Promise<number> {
  const output = new ConsoleOutput({ quiet: false, verbose: false, color: false, redactor: new Redactor(), stream: io.stderr });
  let reports: Report[];
  try {
    reports = await Promise.all(files.map((f) => readReport(f)));
  } catch (error) {
    output.line(`ekso-conformance: ${(error as Error).message}`);
    return 2;
  }
  let merged: Report;
  try {
    merged = await mergeReports(reports);
  } catch (error) {
    output.line(`ekso-conformance: ${(error as Error).message}`);
    return 2;
  }
  const written = await writeAll(merged, options, output);
  output.summary(merged, written);
  return merged.exitCode ?? 1;
}
