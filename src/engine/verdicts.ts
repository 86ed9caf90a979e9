/**
 * From check results to requirement verdicts, summary and exit code. This is the only place where
 * verdicts are computed; reporters render what it returns, and `merge` calls it again on the
 * union of sharded results so that a merged report equals a single run.
 */
import { REQUIREMENTS, type Requirement } from '../spec/requirements.js';
import { findingsOf, violatedRequirements } from '../report/findings.js';
import type { CheckResult, Mode, RequirementVerdict, Summary } from '../report/schema.js';

export interface VerdictInput {
  mode: Mode;
  checks: readonly CheckResult[];
  /** Every requirement covered by some check of this mode's catalogue (selected or not). */
  coverage: ReadonlyMap<string, readonly string[]>;
  /** Why checks that were not run this time were left out (e.g. "not selected by --check RT-*"). */
  unselectedReason?: string;
  /** Baseline entries (check ids or requirement ids) whose failure is expected. */
  baseline?: readonly string[];
}

const OTHER_SIDE_REASON: Record<Mode, string> = {
  backend: 'an SDK requirement: checked by `npx ekso-conformance sdk`',
  sdk: 'a backend requirement: checked by `npx ekso-conformance --base-url URL`',
};

function sideOf(mode: Mode): Mode {
  return mode;
}

export function computeRequirementVerdicts(input: VerdictInput): RequirementVerdict[] {
  const baseline = new Set(input.baseline ?? []);
  return REQUIREMENTS.filter((r) => r.side !== 'harness').map((req) => verdictFor(req, input, baseline));
}

function verdictFor(req: Requirement, input: VerdictInput, baseline: ReadonlySet<string>): RequirementVerdict {
  const level = req.level ?? 'MUST';
  const side = req.side === 'sdk' ? 'sdk' : 'backend';
  const base = { id: req.id, level, side } as const;
  if (req.side !== sideOf(input.mode)) {
    return { ...base, status: 'skipped', checks: [], reason: OTHER_SIDE_REASON[input.mode] };
  }
  const ran = input.checks.filter((c) => c.requirements.includes(req.id));
  const checkIds = ran.map((c) => c.id);
  if (ran.length === 0) {
    const covering = input.coverage.get(req.id) ?? [];
    if (covering.length === 0) return { ...base, status: 'not-covered', checks: [], reason: 'no check covers it yet' };
    return {
      ...base,
      status: 'skipped',
      checks: [...covering],
      reason: input.unselectedReason ?? 'its checks were not run',
    };
  }
  const failing = ran.filter((c) => c.status === 'failed' && violatedRequirements(c).includes(req.id));
  if (failing.length) {
    const baselined = baseline.has(req.id) || failing.every((c) => baseline.has(c.id));
    const deciding = failing.flatMap((c) => findingsOf(c).filter((f) => f.requirements.includes(req.id)).map((f) => ({ check: c, finding: f })));
    return {
      ...base,
      status: 'failed',
      checks: checkIds,
      reason: deciding.map(({ check, finding }) => `${check.id}: ${finding.message}`).join(' | '),
      decidedBy: deciding.map(({ check, finding }) => `${check.id} (seed ${check.seed}${finding.path ? `, path ${finding.path}` : ''}): ${finding.message}`),
      ...(baselined ? { baselined: true } : {}),
    };
  }
  const inconclusive = ran.filter((c) => c.status === 'inconclusive');
  if (inconclusive.length) {
    return {
      ...base,
      status: 'inconclusive',
      checks: checkIds,
      reason: inconclusive.map((c) => `${c.id}: ${c.message ?? 'inconclusive'}`).join(' | '),
      decidedBy: inconclusive.map((c) => `${c.id}: ${c.message ?? 'inconclusive'}`),
    };
  }
  // Passed only by a check that established it: every run of it (past any violation of another
  // requirement it had already found) saw this one hold.
  const establishing = ran.filter((c) => establishedBy(c).includes(req.id));
  if (establishing.length) {
    // Say so when part of the coverage could not run in this configuration.
    const skipped = ran.filter((c) => c.status === 'skipped');
    const limits = [...new Set(establishing.map((c) => c.limits?.[req.id]).filter((l): l is string => Boolean(l)))];
    const notes = [
      ...limits.map((l) => `limited: ${l}`),
      ...(skipped.length ? [`partly: ${skipped.map((c) => `${c.id} skipped (${c.message ?? 'skipped'})`).join('; ')}`] : []),
    ];
    return {
      ...base,
      status: 'passed',
      checks: checkIds,
      ...(notes.length ? { reason: notes.join('; ') } : {}),
      decidedBy: establishing.map((c) =>
        c.status === 'passed'
          ? `${c.id}: held in ${c.runs} run${c.runs === 1 ? '' : 's'}`
          : `${c.id}: held in every run exploring past its violation of ${violatedRequirements(c).join(', ')}`,
      ),
      ...(limits.length ? { limits } : {}),
    };
  }
  // Its checks stopped on another requirement's violation before establishing this one: passing
  // it would be a guess, so it is inconclusive (the run fails anyway).
  const stoppedEarly = ran.filter((c) => c.status === 'failed');
  // Every check that could reach it had to stop exploring for want of something this configuration
  // lacks (a clock hook, say): the harness could not look — skipped, with the reason.
  if (stoppedEarly.length && stoppedEarly.every((c) => c.exploreSkipped)) {
    const why = stoppedEarly.map((c) => `${c.id} found ${violatedRequirements(c).join(', ')} violated, then could not look further (${c.notEstablished ?? 'skipped'})`);
    return {
      ...base,
      status: 'skipped',
      checks: checkIds,
      reason: `not judged in this configuration: ${why.join('; ')}`,
      decidedBy: why,
    };
  }
  if (stoppedEarly.length) {
    const why = stoppedEarly.map((c) => `${c.id} stopped on ${violatedRequirements(c).join(', ')}${c.notEstablished ? ` (${c.notEstablished})` : ''}`);
    return {
      ...base,
      status: 'inconclusive',
      checks: checkIds,
      reason: `not established: ${why.join('; ')}`,
      decidedBy: why,
    };
  }
  // Its only checks passed without reaching it (generated sequences that never exercised it):
  // the harness did not look — skipped, saying how to make it look; never passed.
  const unreached = ran.filter((c) => c.status === 'passed');
  if (unreached.length) {
    const why = unreached.map((c) => `${c.id}: ${c.notEstablished ?? 'did not establish it'}`);
    return {
      ...base,
      status: 'skipped',
      checks: checkIds,
      reason: `not exercised: ${why.join('; ')} (raise --num-runs, or select the check targeting it)`,
      decidedBy: why,
    };
  }
  const reasons = [...new Set(ran.map((c) => c.message).filter((m): m is string => Boolean(m)))];
  return { ...base, status: 'skipped', checks: checkIds, reason: reasons.join('; ') || 'skipped' };
}

export function summarize(verdicts: readonly RequirementVerdict[]): Summary {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, inconclusive: 0, notCovered: 0 };
  for (const v of verdicts) {
    if (v.status === 'not-covered') summary.notCovered += 1;
    else summary[v.status] += 1;
  }
  return summary;
}

export interface ExitInput {
  verdicts: readonly RequirementVerdict[];
  strict: boolean;
  /** Baseline entries that now pass (stale): they fail the run so that baselines shrink. */
  staleBaseline?: readonly string[];
}

/** The requirements a check established: every one of a passed check's, unless it says fewer. */
function establishedBy(check: CheckResult): readonly string[] {
  if (check.status === 'passed') return check.established ?? check.requirements;
  if (check.status === 'failed') return check.established ?? [];
  return [];
}

/** CONTRACT §1 exit codes 0, 1 and 4 (2 and 3 are decided before any check runs). */
export function exitCodeFor({ verdicts, strict, staleBaseline = [] }: ExitInput): 0 | 1 | 4 {
  const counts = (v: RequirementVerdict) => v.level === 'MUST' || strict;
  if (verdicts.some((v) => v.status === 'failed' && !v.baselined && counts(v))) return 1;
  if (staleBaseline.length) return 1;
  if (verdicts.some((v) => v.status === 'inconclusive')) return 4;
  return 0;
}

/**
 * Baseline entries that did not fail this run ("stale"). An entry naming a check or requirement
 * that was skipped or not run is tolerated, not stale: only a demonstrated pass makes it stale.
 * A requirement entry is stale only when every check covering it ran (`coverage`): a shard or a
 * `--check` selection that ran one of its checks has not shown that the requirement now passes —
 * another shard may still fail it, and `merge` judges the union.
 */
export function staleBaselineEntries(
  baseline: readonly string[],
  checks: readonly CheckResult[],
  verdicts: readonly RequirementVerdict[],
  coverage?: ReadonlyMap<string, readonly string[]>,
): string[] {
  const ran = new Set(checks.map((c) => c.id));
  return [...new Set(baseline)].filter((entry) => {
    const check = checks.find((c) => c.id === entry);
    if (check) return check.status === 'passed';
    const verdict = verdicts.find((v) => v.id === entry);
    if (!verdict || verdict.status !== 'passed') return false;
    const covering = coverage?.get(entry) ?? [];
    return covering.every((id) => ran.has(id));
  });
}

/** Baseline entries that name neither a check of this mode's catalogue nor any requirement (typos). */
export function unknownBaselineEntries(baseline: readonly string[], coverage: ReadonlyMap<string, readonly string[]>): string[] {
  const known = new Set<string>(REQUIREMENTS.map((r) => r.id));
  for (const checks of coverage.values()) for (const id of checks) known.add(id);
  return [...new Set(baseline)].filter((entry) => !known.has(entry));
}
