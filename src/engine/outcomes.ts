/**
 * What a check can conclude, as thrown values. A check's code reads like its requirement:
 * the model predicts, the target answers, and a difference is thrown as a `Violation` naming the
 * requirement with expected vs actual.
 *
 * One observation can break several requirements at once (an API-key client that calls the token
 * endpoint after a 401 breaks SDK-14 *and* SDK-01): the violation then names every one of them,
 * and each is failed — whichever check saw it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequirementId } from '../spec/requirements.js';

/** The target departs from a requirement (and possibly from others with the same observation). */
export class Violation extends Error {
  override readonly name = 'Violation';
  /** Further requirements the same observation breaks (besides `requirement`). */
  readonly also: readonly RequirementId[];
  constructor(
    readonly requirement: RequirementId,
    readonly expected: string,
    readonly actual: string,
    readonly summary: string,
    options: { also?: readonly RequirementId[] } = {},
  ) {
    super(`${requirement}: ${summary} — expected ${expected}; actual ${actual}`);
    this.also = (options.also ?? []).filter((id) => id !== requirement);
  }

  /** Every requirement this observation breaks, the primary one first. */
  get requirements(): RequirementId[] {
    return [this.requirement, ...this.also];
  }
}

/** The check could not reach a verdict (timeouts, transport errors, a target that cannot be driven). */
export class Inconclusive extends Error {
  override readonly name = 'Inconclusive';
  constructor(readonly diagnosis: string) {
    super(diagnosis);
  }
}

/**
 * An observation the harness cannot attribute to one requirement (over real HTTP it cannot always
 * tell which of two requirements a behaviour breaks): the execution is set aside — no verdict
 * either way — and the property goes on with the next. Each requirement involved must have a
 * check of its own that decides it unambiguously.
 */
export class Ambiguous extends Error {
  override readonly name = 'Ambiguous';
  constructor(readonly why: string) {
    super(why);
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

// ---------------------------------------------------------------------------------------------
// Going on past a known violation

/**
 * What the execution in progress may go past. When a check finds a violation, the runner records
 * it and explores again with that requirement "known": so that every other requirement of the
 * check still reaches its own verdict instead of being masked by the first failure (a SHOULD
 * deviation must not leave the MUSTs unexplored; a reactive-only SDK that fails SDK-04 must still
 * be judged on single flight).
 */
interface ExecutionScope {
  readonly known: ReadonlySet<RequirementId>;
}

const scope = new AsyncLocalStorage<ExecutionScope>();

/** Runs one execution of a property with the requirements whose violation is already established. */
export function withKnownViolations<T>(known: ReadonlySet<RequirementId>, body: () => Promise<T>): Promise<T> {
  return scope.run({ known }, body);
}

/** True when every requirement `violation` breaks was already found violated by this check. */
export function isKnown(violation: Violation): boolean {
  const known = scope.getStore()?.known;
  return Boolean(known && violation.requirements.every((id) => known.has(id)));
}

/**
 * A violation the check can go on after. Thrown like any other the first time (so that it is
 * shrunk and reported); once the check knows it, the execution continues past it, so that what
 * comes after (other requirements) is still explored. Use it only where going on is meaningful:
 * where the check's later judgements do not rest on the violated behaviour. A plain `throw` of a
 * known violation ends the execution without a verdict instead (it cannot inform other
 * requirements).
 */
export function deviation(violation: Violation): void {
  if (isKnown(violation)) return;
  throw violation;
}

/** `expectThat`, but a known violation lets the execution go on (see `deviation`). */
export function expectOrGoOn(ok: boolean, requirement: RequirementId, summary: string, expected: string, actual: string): void {
  if (!ok) deviation(new Violation(requirement, expected, actual, summary));
}

/** Runs an assertion that throws a Violation; once that violation is known, goes on past it. */
export function goOn(assertion: () => unknown): void {
  try {
    assertion();
  } catch (error) {
    if (error instanceof Violation) deviation(error);
    else throw error;
  }
}

/**
 * Why an execution stopped without a verdict on the target: a check that cannot run here
 * (`skip`, with what would enable it) or one that could not decide (`inconclusive`, with what went
 * wrong). What the runner makes of Skip and Inconclusive, and of the errors each kind of target
 * throws (transport failures, adapter errors).
 */
export interface StopReason {
  kind: 'skip' | 'inconclusive';
  message: string;
}
