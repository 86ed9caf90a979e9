/**
 * What a check can conclude, as thrown values. A check's code reads like its requirement:
 * the model predicts, the target answers, and a difference is thrown as a `Violation` naming the
 * requirement with expected vs actual.
 */
import type { RequirementId } from '../spec/requirements.js';

/** The target departs from a requirement. */
export class Violation extends Error {
  override readonly name = 'Violation';
  constructor(
    readonly requirement: RequirementId,
    readonly expected: string,
    readonly actual: string,
    readonly summary: string,
  ) {
    super(`${requirement}: ${summary} — expected ${expected}; actual ${actual}`);
  }
}

/** The check could not reach a verdict (timeouts, transport errors, a target that cannot be driven). */
export class Inconclusive extends Error {
  override readonly name = 'Inconclusive';
  constructor(readonly diagnosis: string) {
    super(diagnosis);
  }
}

/** The configuration does not allow this check; the reason names the option that would enable it. */
export class Skip extends Error {
  override readonly name = 'Skip';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Throws a Violation unless `ok`. */
export function expectThat(ok: boolean, requirement: RequirementId, summary: string, expected: string, actual: string): asserts ok {
  if (!ok) throw new Violation(requirement, expected, actual, summary);
}
