/**
 * Presentation facts shared by the writers: labels, grouping, durations. Nothing here decides a
 * verdict; the one derived value (the exit code of a report that did not record it) is asked of
 * `engine/verdicts.ts`, the only place verdicts are computed.
 */
import { exitCodeFor } from '../engine/verdicts.js';
import { GROUP_TITLES, REQUIREMENTS, type Group, type Requirement } from '../spec/requirements.js';
import type { CheckResult, CheckStatus, Report, RequirementStatus, RequirementVerdict } from './schema.js';

/** Emoji-free status markers, so that they read the same in a terminal, a diff and a browser. */
export const STATUS_LABEL: Readonly<Record<RequirementStatus, string>> = {
  passed: 'PASS',
  failed: 'FAIL',
  skipped: 'SKIP',
  inconclusive: 'INCONCLUSIVE',
  'not-covered': 'NOT COVERED',
};

/** CONTRACT §1 exit codes. */
export const EXIT_MEANING: Readonly<Record<number, { result: string; meaning: string }>> = {
  0: { result: 'PASSED', meaning: 'every MUST requirement that ran passed' },
  1: { result: 'FAILED', meaning: 'at least one requirement failed' },
  2: { result: 'USAGE ERROR', meaning: 'usage or configuration error' },
  3: { result: 'TARGET UNUSABLE', meaning: 'the target could not be used at all' },
  4: { result: 'INCONCLUSIVE', meaning: 'no failure, but at least one requirement is inconclusive' },
};

export interface Outcome {
  code: number;
  result: string;
  meaning: string;
  /** True when the report did not record its exit code and it was derived from the verdicts. */
  derived: boolean;
}

export function outcomeOf(report: Report): Outcome {
  const derived = report.exitCode === undefined;
  const code =
    report.exitCode ??
    exitCodeFor({
      verdicts: report.requirements,
      strict: report.options?.['strict'] === true,
      staleBaseline: report.baseline?.stale ?? [],
    });
  const known = EXIT_MEANING[code] ?? { result: `EXIT ${code}`, meaning: 'unknown exit code' };
  const meaning = code === 0 && report.options?.['strict'] === true ? 'every requirement that ran passed (--strict)' : known.meaning;
  return { code, result: known.result, meaning, derived };
}

/** What was tested, in one line: base URL, adapter, or the embedded reference. */
export function targetLabel(report: Report): string {
  const t = report.target;
  const main = t.baseUrl ?? t.adapter ?? t.description ?? (report.mode === 'sdk' ? 'reference TypeScript SDK' : 'embedded reference backend');
  return t.mutant ? `${main} (mutant ${t.mutant})` : main;
}

const CATALOG = new Map<string, Requirement>(REQUIREMENTS.map((r) => [r.id, r]));
const GROUP_ORDER = Object.keys(GROUP_TITLES);

export function catalogEntry(id: string): Requirement | undefined {
  return CATALOG.get(id);
}

/** The catalog group of a requirement; for an ID unknown to the catalog, its prefix ("XY-01" → "XY"). */
export function groupOfRequirement(id: string): string {
  return CATALOG.get(id)?.group ?? (id.includes('-') ? id.slice(0, id.lastIndexOf('-')) : 'other');
}

/** A check belongs to the catalog group of its first requirement, else to the group it declares. */
export function groupOfCheck(check: CheckResult): string {
  const first = check.requirements[0];
  return (first !== undefined && CATALOG.get(first)?.group) || check.group || 'other';
}

export function groupTitle(group: string): string {
  return GROUP_TITLES[group as Group] ?? group;
}

/** Buckets items by group, catalog groups first in catalog order, then unknown groups by name. */
export function byGroup<T>(items: readonly T[], groupOf: (item: T) => string): [group: string, items: T[]][] {
  const buckets = new Map<string, T[]>();
  for (const item of items) {
    const g = groupOf(item);
    const bucket = buckets.get(g);
    if (bucket) bucket.push(item);
    else buckets.set(g, [item]);
  }
  const rank = (g: string) => {
    const i = GROUP_ORDER.indexOf(g);
    return i === -1 ? GROUP_ORDER.length : i;
  };
  return [...buckets.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function requirementsByGroup(report: Report): [string, RequirementVerdict[]][] {
  return byGroup(report.requirements, (v) => groupOfRequirement(v.id));
}

export function checksByGroup(report: Report): [string, CheckResult[]][] {
  return byGroup(report.checks, groupOfCheck);
}

/** The requirements a failed check violated (all its requirements when it did not say). */
export function violatedBy(check: CheckResult): string[] {
  return check.failedRequirements?.length ? check.failedRequirements : check.requirements;
}

/**
 * A failed check is baselined when every requirement it violated carries a baselined verdict
 * (the verdicts, computed in the engine, already say so).
 */
export function isBaselined(check: CheckResult, report: Report): boolean {
  if (check.status !== 'failed') return false;
  const verdicts = new Map(report.requirements.map((v) => [v.id, v]));
  const violated = violatedBy(check);
  return violated.length > 0 && violated.every((id) => verdicts.get(id)?.baselined === true);
}

export function checkCounts(report: Report): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { passed: 0, failed: 0, skipped: 0, inconclusive: 0 };
  for (const c of report.checks) counts[c.status] += 1;
  return counts;
}

/** Wall time of the run from its timestamps, else the sum of the checks' durations. */
export function runDurationMs(report: Report): number {
  const span = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  if (Number.isFinite(span) && span >= 0) return span;
  return report.checks.reduce((sum, c) => sum + c.durationMs, 0);
}

export { formatDuration } from '../engine/text.js';

/** Seed and path as one reproducible coordinate ("seed 123, path 56:2"). */
export function seedAndPath(check: CheckResult): string {
  return check.path ? `seed ${check.seed}, path ${check.path}` : `seed ${check.seed}`;
}
