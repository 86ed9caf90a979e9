/**
 * Reading a check result's findings. A failed check's first finding is spread over the result's
 * own fields (so that a report with one failure per check reads as it always did); the findings
 * made after it, while the check explored past the violations it knew, are in
 * `additionalFindings`.
 */
import type { CheckResult, Finding } from './schema.js';

/** The requirements a failed check found violated (all of its findings). */
export function violatedRequirements(check: CheckResult): string[] {
  if (check.failedRequirements?.length) return check.failedRequirements;
  return [...new Set(findingsOf(check).flatMap((f) => f.requirements))];
}

/** Every finding of a check: the first one (spread over its own fields) and the further ones. */
export function findingsOf(check: CheckResult): Finding[] {
  if (check.status !== 'failed') return [];
  // Findings name disjoint requirements (a later round only reports what it newly found), so the
  // first finding's are those no further finding names.
  const further = new Set((check.additionalFindings ?? []).flatMap((f) => f.requirements));
  const first: Finding = {
    requirements: check.failedRequirements?.length ? check.failedRequirements.filter((id) => !further.has(id)) : [...check.requirements],
    message: check.message ?? 'failed',
    ...(check.expected !== undefined ? { expected: check.expected } : {}),
    ...(check.actual !== undefined ? { actual: check.actual } : {}),
    ...(check.path ? { path: check.path } : {}),
    ...(check.replayPath ? { replayPath: check.replayPath } : {}),
    ...(check.numShrinks !== undefined ? { numShrinks: check.numShrinks } : {}),
    ...(check.firstFailureMs !== undefined ? { firstFailureMs: check.firstFailureMs } : {}),
    ...(check.steps ? { steps: check.steps } : {}),
    ...(check.transcript ? { transcript: check.transcript } : {}),
    ...(check.replay ? { replay: check.replay } : {}),
  };
  return [first, ...(check.additionalFindings ?? [])];
}

