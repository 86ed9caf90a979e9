/**
 * Runs checks with fast-check and turns each into a CheckResult.
 *
 * Every check gets its own seed derived from the run's base seed, so a single check replays in
 * isolation (`--check ID --seed S --path P --replay-path R`). Each execution of a property (a run
 * or a shrinking attempt) records its steps and HTTP transcript; the last failing execution is
 * the shrunk counterexample, and that is what the report shows.
 *
 * Verdicts other than pass/fail: a `Skip` (missing capability discovered at run time) and an
 * `Inconclusive` (transport failure, timeout) stop the check at once — no shrinking, no more
 * runs — and become its status. Only a `Violation` is a failure.
 *
 * A failure does not end the exploration of the check's other requirements. The check runs in
 * rounds: each round is one fast-check run (with shrinking) in which the violations found in
 * earlier rounds are "known" — an execution goes on past a known `deviation()`, and one that can
 * only stop at a known violation is set aside without a verdict. A round that finds a new
 * violation records it as a finding and starts another; a round that completes establishes every
 * requirement not found violated. So a SHOULD deviation never leaves the MUSTs unexplored, and no
 * requirement is passed by a check that stopped before exercising it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import fc from 'fast-check';
import type { CheckResult, Finding } from '../report/schema.js';
import { requirement } from '../spec/requirements.js';
import type { CheckContext, CheckDefinition, CheckProperty, Execution } from './check.js';
import { checkConcurrently, type RunSlots } from './concurrent-runs.js';
import { Ambiguous, Inconclusive, Skip, Violation, withKnownViolations, type StopReason } from './outcomes.js';
import { materialize, type ExchangeSink, type LazyExchange, type RecordedExchange } from './transcript.js';
import { isRequirementId, type RequirementId } from '../spec/requirements.js';

export interface RunnerOptions {
  baseSeed: number;
  /** Overrides every check's default number of runs. */
  numRuns?: number;
  /** Wall-clock instant (epoch ms) after which no new run starts (`--max-time`). */
  deadline?: number;
  /** Ctrl-C. */
  signal?: AbortSignal;
  /** Replays one counterexample of one check (found past the `tolerate`d known violations). */
  replay?: { checkId: string; seed?: number; path?: string; replayPath?: string; tolerate?: readonly string[] };
  /** Points the transport's recorder at the current execution. */
  setSink: (sink: ExchangeSink) => void;
  /** Maps an exception the harness does not know to a diagnosis (e.g. adapter/transport errors). */
  classifyError?: (error: unknown) => StopReason | null;
  /** A command line replaying one check's counterexample. */
  replayCommand?: (check: ReplayCoordinates) => string;
  /** One line per finished check (stderr progress). */
  onCheckDone?: (result: CheckResult) => void;
  onCheckStart?: (check: { id: string; title: string }) => void;
  debug?: (message: string) => void;
  /** Ceiling on one property execution; beyond it the check is inconclusive. */
  executionTimeoutMs?: number;
  /**
   * Runs of a check go concurrently within these slots (real-time targets, whose runs mostly
   * wait): see `concurrent-runs.ts`. Unset: one at a time (fc.check). Checks with `sharedState`
   * and replays of one counterexample always go one at a time.
   */
  concurrentRuns?: RunSlots;
}

/** What a replay command line needs to reproduce one finding. */
export interface ReplayCoordinates {
  id: string;
  seed: number;
  path?: string;
  replayPath?: string;
  /** Requirements already known violated when the finding was made (`--tolerate`). */
  tolerate?: readonly string[];
}

/** 32-bit FNV-1a of `${base}:${id}`, as a signed int (fast-check seeds are 32-bit). */
export function deriveSeed(baseSeed: number, checkId: string): number {
  let hash = 0x811c9dc5;
  for (const ch of `${baseSeed}:${checkId}`) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * The execution of the caller's async context: concurrent runs each record their own. One store
 * for the whole process, keyed by its round: every enabled AsyncLocalStorage costs each promise
 * created afterwards a little (Node 20 propagates every store to every new async resource), so one
 * per round made a long process slower with every round it ran.
 */
const executionContext = new AsyncLocalStorage<{ round: object; execution: Execution }>();

export function randomSeed(): number {
  return (Math.random() * 0x7fffffff) | 0;
}


/** One round of a check: a fast-check run with the violations of earlier rounds known. */
export class CheckRun<Env> implements CheckContext {
  readonly checkId: string;
  readonly numRuns: number;
  readonly replayPath: string | undefined;
  readonly signal: AbortSignal;
  private current: Execution = { steps: [], transcript: [] };
  /** Failed executions by the error they ended with (concurrent runs end in any order). */
  private readonly failedExecutions = new WeakMap<object, Execution>();
  /** Off while concurrent first runs are in flight: the failure reported is chosen afterwards (`adoptFailure`). */
  pinning = true;
  lastFailure: Execution | undefined;
  /** The requirements of the first violation found; shrinking only accepts violations of them. */
  private pinned: string | undefined;
  /** When the first failing execution ended (epoch ms): detection time, before shrinking. */
  firstFailureAt: number | undefined;
  /** Executions of the predicate that really started (fast-check also counts the ones skipped). */
  executions = 0;
  /** Executions that could only stop at a known violation: set aside, no verdict either way. */
  setAside = 0;
  /** Set when a run ends in Skip or Inconclusive: later runs return at once. */
  stopped: StopReason | undefined;
  private readonly controller = new AbortController();

  constructor(
    readonly check: CheckDefinition<Env>,
    private readonly options: RunnerOptions,
    readonly seed: number,
    readonly known: ReadonlySet<RequirementId>,
    private readonly limits: Map<string, string>,
  ) {
    this.checkId = check.id;
    const replay = options.replay?.checkId === check.id ? options.replay : undefined;
    this.numRuns = options.numRuns ?? check.defaultRuns;
    this.replayPath = replay?.replayPath;
    const signals = [this.controller.signal, ...(options.signal ? [options.signal] : [])];
    this.signal = AbortSignal.any(signals);
    // Concurrent runs each wait on it (see concurrent-runs.ts): not a listener leak.
    setMaxListeners(0, this.signal);
  }

  /** The execution of the calling async context, if it is one of this round's. */
  private ownExecution(): Execution {
    const store = executionContext.getStore();
    return store && store.round === this ? store.execution : this.current;
  }

  step(description: string): void {
    this.ownExecution().steps.push(description);
  }

  executionSink(): ExchangeSink {
    const execution = this.ownExecution();
    return { record: (exchange: RecordedExchange | LazyExchange) => void execution.transcript.push(exchange) };
  }

  /**
   * Makes the failed execution that ended with `error` the check's counterexample and pins its
   * requirement for shrinking (concurrent runs end in any order: the runner of concurrent runs
   * chooses the failure fast-check would have met first, see concurrent-runs.ts).
   */
  adoptFailure(error: unknown): void {
    const execution = typeof error === 'object' && error !== null ? this.failedExecutions.get(error) : undefined;
    if (execution) this.lastFailure = execution;
    if (error instanceof Violation) this.pinned ??= newlyViolated(error, this.known).join(',');
    this.pinning = true;
  }

  debug(message: string): void {
    this.options.debug?.(`[${this.checkId}] ${message}`);
  }

  limit(requirement: RequirementId, text: string): void {
    if (!this.limits.has(requirement)) this.limits.set(requirement, text);
  }

  /** Requirements some execution of this round judged (for checks credited only with those). */
  readonly exercisedIds = new Set<RequirementId>();

  exercised(requirement: RequirementId): void {
    this.exercisedIds.add(requirement);
  }

  /** The sink of the current execution's transcript. */
  readonly sink: ExchangeSink = { record: (exchange: RecordedExchange | LazyExchange) => void this.current.transcript.push(exchange) };

  private outOfTime(): boolean {
    return this.signal.aborted || (this.options.deadline !== undefined && Date.now() > this.options.deadline);
  }

  /**
   * Wraps a predicate: one execution = fresh steps/transcript; Skip/Inconclusive stop the check
   * without counting as a failure (so fast-check neither shrinks nor keeps going).
   */
  wrap<T>(predicate: (value: T) => Promise<void>): (value: T) => Promise<void> {
    return async (value: T) => {
      if (this.stopped || this.outOfTime()) return;
      const execution: Execution = { steps: [], transcript: [] };
      this.current = execution;
      this.executions += 1;
      try {
        await withKnownViolations(this.known, () => executionContext.run({ round: this, execution }, () => predicate(value)));
      } catch (error) {
        // Cut short by Ctrl-C or --max-time: its sleeps ended early and its requests were aborted,
        // so whatever it concluded (even a "violation") means nothing. Never a verdict (H-04).
        if (this.signal.aborted) return;
        const stop = this.classify(error);
        if (stop) {
          // A failure already found wins over a later inconclusive shrink attempt.
          if (!this.lastFailure) this.stopped ??= stop;
          return;
        }
        // An observation no requirement can be charged with: no verdict either way.
        if (error instanceof Ambiguous) {
          this.setAside += 1;
          return;
        }
        if (error instanceof Violation) {
          // Stopped at a violation already found: this execution says nothing about the others.
          if (error.requirements.every((id) => this.known.has(id))) {
            this.setAside += 1;
            return;
          }
          // Shrinking keeps to the violation first found: a smaller sequence that fails for
          // another reason would report a different failure than the one detected.
          if (this.pinning) {
            const key = newlyViolated(error, this.known).join(',');
            if (this.pinned === undefined) this.pinned = key;
            else if (key !== this.pinned) return;
          }
        }
        this.lastFailure = execution;
        if (typeof error === 'object' && error !== null) this.failedExecutions.set(error, execution);
        this.firstFailureAt ??= Date.now();
        throw error;
      }
    };
  }

  private classify(error: unknown): StopReason | null {
    if (error instanceof Violation) return null;
    if (error instanceof Skip) return { kind: 'skip', message: error.reason };
    if (error instanceof Inconclusive) return { kind: 'inconclusive', message: error.diagnosis };
    const mapped = this.options.classifyError?.(error);
    if (mapped) return mapped;
    return null;
  }

  /** Stops the remaining runs (used internally on deadline). */
  abort(): void {
    this.controller.abort();
  }
}

/** The requirements a violation breaks that were not known before it (all of them if none). */
function newlyViolated(violation: Violation, known: ReadonlySet<RequirementId>): RequirementId[] {
  const fresh = violation.requirements.filter((id) => !known.has(id));
  return fresh.length ? fresh : violation.requirements;
}

/** How one round ended. */
type Round =
  | { kind: 'passed'; runs: number; executions: number; setAside: number; exercised: ReadonlySet<RequirementId> }
  | { kind: 'failed'; runs: number; finding: Finding }
  | { kind: 'stopped'; status: 'skipped' | 'inconclusive'; runs: number; message: string; steps?: string[]; transcript?: RecordedExchange[]; path?: string };

async function runRound<Env>(check: CheckDefinition<Env>, env: Env, options: RunnerOptions, seed: number, known: ReadonlySet<RequirementId>, limits: Map<string, string>): Promise<Round> {
  const run = new CheckRun(check, options, seed, known, limits);
  const started = Date.now();
  let built: CheckProperty;
  try {
    built = check.property(env, run);
  } catch (error) {
    if (error instanceof Skip) return { kind: 'stopped', status: 'skipped', runs: 0, message: error.reason };
    return { kind: 'stopped', status: 'inconclusive', runs: 0, message: `check could not start: ${(error as Error)?.message ?? String(error)}` };
  }

  options.setSink(run.sink);
  const replay = options.replay?.checkId === check.id ? options.replay : undefined;
  const remaining = options.deadline !== undefined ? Math.max(1, options.deadline - Date.now()) : undefined;
  // At the deadline the execution in progress is ended too (its sleeps wake up), not only the
  // runs not yet started: fast-check stops waiting for it, and it must not linger.
  const deadlineTimer = remaining !== undefined ? setTimeout(() => run.abort(), remaining) : undefined;
  let details: fc.RunDetails<unknown>;
  const params = {
    seed: run.seed,
    numRuns: run.numRuns,
    ...(replay?.path ? { path: replay.path, endOnFailure: true } : {}),
    ...(remaining !== undefined ? { interruptAfterTimeLimit: remaining, markInterruptAsFailure: false } : {}),
    timeout: options.executionTimeoutMs ?? 180_000,
  };
  const slots = replay?.path || check.sharedState ? undefined : options.concurrentRuns;
  try {
    details = slots
      ? await checkConcurrently(built.property as fc.IAsyncProperty<unknown>, params, run, slots)
      : await fc.check(built.property as fc.IAsyncProperty<unknown>, params);
  } catch (error) {
    return { kind: 'stopped', status: 'inconclusive', runs: 0, message: `harness error: ${(error as Error)?.message ?? String(error)}` };
  } finally {
    clearTimeout(deadlineTimer);
    options.setSink({ record() {} });
  }

  if (details.failed && run.lastFailure) {
    const error = details.errorInstance;
    const path = details.counterexamplePath ?? undefined;
    const failure = run.lastFailure;
    if (!(error instanceof Violation)) {
      // A crash of the check itself (not a verdict on the target): report it, never as a failure.
      return {
        kind: 'stopped',
        status: 'inconclusive',
        runs: details.numRuns,
        message: `check error: ${(error as Error)?.message ?? String(error)}`,
        steps: failure.steps,
        transcript: failure.transcript.map(materialize),
        ...(path ? { path } : {}),
      };
    }
    const replayPath = extractReplayPath(details.counterexample);
    const tolerate = [...known].sort();
    const coordinates: ReplayCoordinates = { id: check.id, seed, ...(path ? { path } : {}), ...(replayPath ? { replayPath } : {}), ...(tolerate.length ? { tolerate } : {}) };
    return {
      kind: 'failed',
      runs: details.numRuns,
      finding: {
        // Only what this round newly found: findings of one check name disjoint requirements.
        requirements: newlyViolated(error, known),
        message: `${error.requirements.join(' + ')}: ${error.summary}`,
        expected: error.expected,
        actual: error.actual,
        ...(path ? { path } : {}),
        ...(replayPath ? { replayPath } : {}),
        numShrinks: details.numShrinks,
        ...(run.firstFailureAt ? { firstFailureMs: run.firstFailureAt - started } : {}),
        steps: failure.steps,
        transcript: failure.transcript.map(materialize),
        ...(options.replayCommand ? { replay: options.replayCommand(coordinates) } : {}),
      },
    };
  }
  const stoppedEarly = details.interrupted || run.signal.aborted;
  const unfinished = (): Round => ({
    kind: 'stopped',
    status: 'inconclusive',
    runs: run.executions,
    message: options.signal?.aborted ? `interrupted after ${run.executions} runs` : `--max-time reached after ${run.executions} of ${run.numRuns} runs`,
  });
  // fast-check calls an interruption before the first run completed a failure (with no error).
  if (details.failed && stoppedEarly && !details.errorInstance) return unfinished();
  if (details.failed) {
    // fast-check failed outside our wrapper (e.g. a property timeout).
    return { kind: 'stopped', status: 'inconclusive', runs: details.numRuns, message: `property error: ${String((details.errorInstance as Error)?.message ?? details.errorInstance)}` };
  }
  if (run.stopped) return { kind: 'stopped', status: run.stopped.kind === 'skip' ? 'skipped' : 'inconclusive', runs: run.executions, message: run.stopped.message };
  // Also when the deadline passed between two runs and the wrapper skipped the rest.
  if (stoppedEarly || (options.deadline !== undefined && Date.now() > options.deadline && run.executions < run.numRuns)) return unfinished();
  return { kind: 'passed', runs: details.numRuns, executions: run.executions, setAside: run.setAside, exercised: run.exercisedIds };
}

export async function runCheck<Env>(check: CheckDefinition<Env>, env: Env, options: RunnerOptions): Promise<CheckResult> {
  const started = Date.now();
  const replay = options.replay?.checkId === check.id ? options.replay : undefined;
  const seed = replay?.seed ?? deriveSeed(options.baseSeed, check.id);
  // A check's own hooks may throw (a bug, or a target answer nobody foresaw): that ends this
  // check as inconclusive, never the whole run (H-05).
  let setupError: string | undefined;
  let active: readonly RequirementId[] = check.requirements;
  let skipReason: string | null = null;
  const limits = new Map<string, string>();
  try {
    active = check.requirementsFor?.(env) ?? check.requirements;
    skipReason = check.skipReason?.(env) ?? null;
    for (const [id, text] of Object.entries(check.limitsFor?.(env) ?? {})) if (text) limits.set(id, text);
  } catch (error) {
    setupError = `check could not start: ${(error as Error)?.message ?? String(error)}`;
  }
  const base = {
    id: check.id,
    title: check.title,
    group: groupOf(check.requirements[0]),
    requirements: [...active] as string[],
    seed,
  };
  const finish = (result: Omit<CheckResult, keyof typeof base | 'durationMs'>): CheckResult => ({
    ...base,
    ...result,
    durationMs: Date.now() - started,
  });
  const outOfTime = () => Boolean(options.signal?.aborted) || (options.deadline !== undefined && Date.now() > options.deadline);

  if (setupError) return finish({ status: 'inconclusive', runs: 0, message: setupError });
  if (skipReason) return finish({ status: 'skipped', runs: 0, message: skipReason });
  if (outOfTime()) {
    return finish({ status: 'inconclusive', runs: 0, message: options.signal?.aborted ? 'not run: interrupted' : 'not run: --max-time reached' });
  }

  const known = new Set<RequirementId>((replay?.tolerate ?? []).filter(isRequirementId));
  const findings: Finding[] = [];
  let runs = 0;
  let established: RequirementId[] = [];
  let notEstablished: string | undefined;
  /** Exploring past the violations found was skipped: this configuration cannot look further. */
  let exploreSkipped = false;
  // A replay reproduces one finding: one round. Otherwise at most one round per requirement
  // (each failed round adds at least one), plus room for violations outside the check's list.
  const maxRounds = replay?.path ? 1 : active.length + 3;
  for (let round = 1; ; round++) {
    const outcome = await runRound(check, env, options, seed, known, limits);
    runs += outcome.runs;
    if (outcome.kind === 'passed') {
      const open = active.filter((id) => !known.has(id));
      if (outcome.executions > outcome.setAside) {
        established = check.creditsOnlyExercised ? open.filter((id) => outcome.exercised.has(id)) : open;
        const unexercised = open.filter((id) => !established.includes(id));
        if (unexercised.length) notEstablished = `its ${outcome.runs} generated runs never exercised ${unexercised.join(', ')}`;
      } else if (open.length) notEstablished = `every run stopped at the known violation of ${[...known].join(', ')} before reaching ${open.join(', ')}`;
      break;
    }
    if (outcome.kind === 'stopped') {
      if (!findings.length) {
        return finish({
          status: outcome.status,
          runs,
          message: outcome.message,
          ...(outcome.steps ? { steps: outcome.steps } : {}),
          ...(outcome.transcript ? { transcript: outcome.transcript } : {}),
          ...(outcome.path ? { path: outcome.path } : {}),
        });
      }
      notEstablished = `exploring past ${[...known].join(', ')}: ${outcome.message}`;
      exploreSkipped = outcome.status === 'skipped';
      break;
    }
    findings.push(outcome.finding);
    for (const id of outcome.finding.requirements) if (isRequirementId(id)) known.add(id);
    const open = active.filter((id) => !known.has(id));
    if (!open.length) break;
    if (round >= maxRounds) {
      notEstablished = `not explored past ${findings.length} violations (round limit)`;
      break;
    }
    if (outOfTime()) {
      notEstablished = options.signal?.aborted ? 'interrupted before exploring past the violation' : '--max-time reached before exploring past the violation';
      break;
    }
  }

  const limitsField = limits.size ? { limits: Object.fromEntries(limits) } : {};
  if (!findings.length) {
    // A pass credits only what the check established (all of it, unless its runs left some out).
    const partial = established.length < active.filter((id) => !known.has(id)).length;
    return finish({
      status: 'passed',
      runs,
      ...(partial ? { established, ...(notEstablished ? { notEstablished } : {}) } : {}),
      ...limitsField,
      ...(known.size ? { tolerated: [...known].sort() } : {}),
    });
  }
  const [first, ...more] = findings;
  const failedRequirements = [...new Set(findings.flatMap((f) => f.requirements))];
  // A violation of a requirement outside the check's active list still belongs in the report.
  for (const id of failedRequirements) if (!base.requirements.includes(id)) base.requirements.push(id);
  return finish({
    status: 'failed',
    runs,
    message: first!.message,
    failedRequirements,
    ...(first!.expected !== undefined ? { expected: first!.expected } : {}),
    ...(first!.actual !== undefined ? { actual: first!.actual } : {}),
    ...(first!.path ? { path: first!.path } : {}),
    ...(first!.replayPath ? { replayPath: first!.replayPath } : {}),
    ...(first!.numShrinks !== undefined ? { numShrinks: first!.numShrinks } : {}),
    ...(first!.firstFailureMs !== undefined ? { firstFailureMs: first!.firstFailureMs } : {}),
    ...(first!.steps ? { steps: first!.steps } : {}),
    ...(first!.transcript ? { transcript: first!.transcript } : {}),
    ...(first!.replay ? { replay: first!.replay } : {}),
    ...(replay?.tolerate?.length ? { tolerated: [...replay.tolerate] } : {}),
    ...(more.length ? { additionalFindings: more } : {}),
    established: established.filter((id) => !failedRequirements.includes(id)),
    ...(notEstablished ? { notEstablished } : {}),
    ...(exploreSkipped ? { exploreSkipped } : {}),
    ...limitsField,
  });
}

export async function runChecks<Env>(checks: readonly CheckDefinition<Env>[], env: Env, options: RunnerOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  // Sequential on purpose: checks share the target (and sometimes its clock), and a sequential
  // run against the same in-process target replays exactly. Concurrency lives inside checks.
  for (const check of checks) {
    options.onCheckStart?.(check);
    const result = await runCheck(check, env, options);
    results.push(result);
    options.onCheckDone?.(result);
  }
  return results;
}

function extractReplayPath(counterexample: unknown): string | undefined {
  if (!counterexample) return undefined;
  const text = Array.isArray(counterexample) ? counterexample.map((v) => safeString(v)).join(' ') : safeString(counterexample);
  return /replayPath="([^"]+)"/.exec(text)?.[1];
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '';
  }
}

function groupOf(id: string | undefined): string {
  if (!id) return 'misc';
  try {
    return requirement(id).group;
  } catch {
    return 'misc';
  }
}

