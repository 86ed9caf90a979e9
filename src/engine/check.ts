/**
 * What a conformance check is. A check names the requirements it verifies and, given the run's
 * environment (the target driver or SDK adapter, identities, clock, policy) and a context (seed,
 * budget, recording), returns the outcome of one fast-check property — model-based sequences,
 * targeted properties or concurrency bursts.
 */
import type fc from 'fast-check';
import type { RequirementId } from '../spec/requirements.js';
import type { ExchangeSink, LazyExchange, RecordedExchange } from './transcript.js';

/** Which side a run tests (one type for the concept: the report's). */
export type { Mode } from '../report/schema.js';
import type { Mode } from '../report/schema.js';

export interface CheckDefinition<Env> {
  /** Stable, dotted, lower-case: `rt.rotation.model`. */
  readonly id: string;
  readonly title: string;
  readonly requirements: readonly RequirementId[];
  /**
   * The subset of `requirements` this configuration really exercises (e.g. expiry needs a clock).
   * Reports credit the check only for these, so a vacuous pass never counts.
   */
  readonly requirementsFor?: (env: Env) => readonly RequirementId[];
  /** fast-check runs in a default run (`--num-runs` overrides). */
  readonly defaultRuns: number;
  /**
   * A model-based check whose generated sequences need not reach every requirement it covers (a
   * run without a replay says nothing about RT-05): it is credited only with the requirements its
   * executions reported with `ctx.exercised`. Targeted checks judge all of theirs in every run.
   */
  readonly creditsOnlyExercised?: boolean;
  /** Moves a shared clock: never run beside other checks. */
  readonly exclusive?: boolean;
  /**
   * State outside the target's per-run isolation that the check's runs share (e.g. the SDK's
   * token store): its runs go one at a time, never beside another check naming the same state.
   */
  readonly sharedState?: string;
  /** Why this configuration cannot run the check (naming the option that would enable it), or null. */
  readonly skipReason?: (env: Env) => string | null;
  /**
   * What this configuration leaves unexplored, per requirement: a violation that could only show
   * after time the run does not let pass (a declared grace window, an idle window, an expiry). A
   * pass of such a requirement is reported with the limit, never bare.
   */
  readonly limitsFor?: (env: Env) => Partial<Record<RequirementId, string>>;
  /** Builds the property to check. Called once per check run. */
  readonly property: (env: Env, ctx: CheckContext) => CheckProperty;
}

/**
 * A property plus how to reproduce it. `commands` marks a model-based property built with
 * `fc.commands`, whose counterexample carries a replayPath that must be passed back on replay.
 */
export interface CheckProperty {
  readonly property: fc.IAsyncPropertyWithHooks<any> | fc.IAsyncProperty<any>;
  readonly commands?: boolean;
}

/** One execution of the property (one run, or one shrinking attempt). */
export interface Execution {
  readonly steps: string[];
  readonly transcript: Array<RecordedExchange | LazyExchange>;
}

export interface CheckContext {
  readonly checkId: string;
  /** Seed of this check (derived from the run's base seed and the check id). */
  readonly seed: number;
  readonly numRuns: number;
  /** For model-based checks: pass to `fc.commands(…, { replayPath })` when replaying. */
  readonly replayPath: string | undefined;
  /** Aborted on Ctrl-C or when --max-time is over: checks stop waiting and wind down. */
  readonly signal: AbortSignal;
  /**
   * Requirements this check already found violated (in an earlier round): the property explores
   * what lies past them — generators may leave out what only exercises them, and `deviation()`
   * lets an execution go on past them.
   */
  readonly known: ReadonlySet<RequirementId>;
  /** Notes a limit of what this run explored for a requirement (shown with its verdict). */
  limit(requirement: RequirementId, text: string): void;
  /** Says that this execution judged `requirement` (a prediction about it met the target's answer). */
  exercised(requirement: RequirementId): void;
  /** Records a step of the current execution ("mint key 'deploy bot' by admin → 200"). */
  step(description: string): void;
  /**
   * The transcript of the execution running in the caller's async context, to hand to a
   * per-run recorder (e.g. a model server of one run) whose callbacks run outside that context.
   */
  executionSink(): ExchangeSink;
  /** Verbose-only progress detail. */
  debug(message: string): void;
  /**
   * Wraps a predicate so that each execution records its own steps and transcript, and so that
   * Skip / Inconclusive stop the check instead of failing it. Use via `src/engine/properties.ts`.
   */
  wrap<T>(predicate: (value: T) => Promise<void>): (value: T) => Promise<void>;
}
