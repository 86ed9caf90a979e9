/**
 * Assembles the report object of a run from its check results. Verdicts come from verdicts.ts;
 * this only gathers facts (target, seed, times, cleanup, diagnostics) around them.
 */
import type { CheckResult, Mode, Report } from '../report/schema.js';
import type { CheckDefinition } from './check.js';
import { computeRequirementVerdicts, exitCodeFor, staleBaselineEntries, summarize, unknownBaselineEntries } from './verdicts.js';

export { TOOL_VERSION } from '../version.js';
import { TOOL_VERSION } from '../version.js';

/** requirement id → ids of every check (selected or not) that covers it. */
export function coverageOf(checks: readonly CheckDefinition<unknown>[]): Map<string, string[]> {
  const coverage = new Map<string, string[]>();
  for (const check of checks) {
    for (const id of check.requirements) coverage.set(id, [...(coverage.get(id) ?? []), check.id]);
  }
  return coverage;
}

export interface AssembleInput {
  mode: Mode;
  target: Report['target'];
  policy: string;
  seed: number;
  startedAt: Date;
  finishedAt: Date;
  options: Record<string, unknown>;
  checks: CheckResult[];
  coverage: Map<string, string[]>;
  unselectedReason?: string;
  strict: boolean;
  cleanup: Report['cleanup'];
  diagnostics: string[];
  interrupted: boolean;
  shard?: { index: number; count: number };
  baseline?: { file: string; entries: string[] };
}

export function assembleReport(input: AssembleInput): Report {
  const baselineEntries = input.baseline?.entries ?? [];
  const requirements = computeRequirementVerdicts({
    mode: input.mode,
    checks: input.checks,
    coverage: input.coverage,
    ...(input.unselectedReason ? { unselectedReason: input.unselectedReason } : {}),
    baseline: baselineEntries,
  });
  // Baselined checks do not fail the run either.
  const checks = input.checks;
  const stale = input.baseline ? staleBaselineEntries(baselineEntries, checks, requirements, input.coverage) : [];
  const unknown = input.baseline ? unknownBaselineEntries(baselineEntries, input.coverage) : [];
  const exitCode = exitCodeFor({ verdicts: requirements, strict: input.strict, staleBaseline: stale });
  return {
    schemaVersion: 1,
    tool: { name: 'ekso-conformance', version: TOOL_VERSION },
    mode: input.mode,
    target: input.target,
    policy: input.policy,
    seed: input.seed,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    options: input.options,
    ...(input.shard ? { shard: input.shard } : {}),
    ...(input.interrupted ? { interrupted: true } : {}),
    exitCode,
    summary: summarize(requirements),
    requirements,
    checks,
    cleanup: input.cleanup,
    diagnostics: [
      ...input.diagnostics,
      ...stale.map((s) => `stale baseline entry: ${s} now passes — remove it from ${input.baseline?.file}`),
      ...unknown.map((u) => `unknown baseline entry: ${u} names no ${input.mode} check and no requirement (see \`ekso-conformance list\`)`),
    ],
    ...(input.baseline ? { baseline: { file: input.baseline.file, expected: baselineEntries, stale } } : {}),
  };
}
