/**
 * Concurrent runs of one property, for targets whose runs mostly wait in real time (SDKs without
 * a clock hook): N runs that each wait for a token to near its expiry cost one wait, not N.
 * fast-check runs a property one run at a time, so this module drives fast-check's own values
 * and shrink trees itself, and keeps its verdicts:
 *
 * - **The same values.** fc.check generates them (through a recording property), so run i here
 *   is run i of a sequential check, and a reported path replays through fc.check (`--path`).
 * - **The same counterexample.** When several runs fail, the lowest one is kept — the first
 *   fc.check would have met; runs after it that have not started are not started.
 * - **The same shrinking.** fast-check keeps the first failing candidate of each shrink stream, in
 *   stream order; here the candidates are tried in batches, concurrently, and the lowest failing
 *   one of a batch is kept — the same choice, so the path "i:j:k…" and the shrunk value are the
 *   ones fc.check would report for the same outcomes.
 *
 * What it cannot give back is isolation: each run must keep to state of its own (the SDK session
 * gives every run its own model server, see `SdkSession.openRun`); checks whose runs share state
 * declare it (`sharedState`) and run sequentially.
 */
import fc from 'fast-check';

/** What the runner's per-check state must offer (implemented by `CheckRun`). */
export interface FailureAdopter {
  /** False while concurrent first runs are in flight: any failing run may become the counterexample. */
  pinning: boolean;
  /** Executions that really started (a run returning at once after a stop does not count). */
  readonly executions: number;
  /** Makes the execution that ended with `error` the counterexample and pins its requirement. */
  adoptFailure(error: unknown): void;
  /** Ends the executions still running (their sleeps wake, whatever they conclude is dropped). */
  abort(): void;
}

export interface ConcurrentCheckParams {
  seed: number;
  numRuns: number;
  /** ms from the start after which no run starts (as fc.check's `interruptAfterTimeLimit`). */
  interruptAfterTimeLimit?: number;
  /** Ceiling of one execution, in ms (as fc.check's `timeout`). */
  timeout?: number;
}

type Outcome = { failed: false } | { failed: true; error: unknown };

/**
 * Executions in flight across every check run side by side: a bound on the load the harness puts
 * on the target (and on this machine), so that a target's own queueing — an SDK persisting each
 * rotation, one process serving every client — never stretches a run's timings into a verdict.
 */
export class RunSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly total: number,
    /** Executions of one check in flight at most (its first runs, or one round of shrinking). */
    readonly perCheck: number,
    /**
     * How long one check may shrink (ms): in real time every candidate costs its waits again.
     * The counterexample reported is then the smallest found so far; it replays all the same.
     */
    readonly shrinkTimeLimitMs = Infinity,
  ) {
    this.free = total;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}

/** fast-check's first `numRuns` values for `seed`, as fc.check generates them (with their shrink context). */
export function generatedValues<T>(property: fc.IRawProperty<T>, seed: number, numRuns: number): fc.Value<T>[] {
  const values: fc.Value<T>[] = [];
  const recorder: fc.IRawProperty<T, false> = {
    isAsync: () => false,
    generate: (mrng, runId) => {
      const value = property.generate(mrng, runId);
      values.push(value);
      return value;
    },
    shrink: () => fc.Stream.nil(),
    run: () => null,
    runBeforeEach: () => undefined,
    runAfterEach: () => undefined,
  };
  // What decides generation (seed, random type, bias, examples) is read as fc.check reads it;
  // limits that apply to running (a global timeout) must not wrap the synchronous recorder.
  fc.check(recorder, { seed, numRuns, path: '', endOnFailure: false, timeout: undefined, interruptAfterTimeLimit: undefined, skipAllAfterTimeLimit: undefined });
  return values;
}

/**
 * fc.check for a property whose runs may overlap: at most `slots.perCheck` executions of it in
 * flight (and `slots.total` over every check). Returns fast-check's run details (path,
 * counterexample, shrinks) as fc.check would have for the same outcomes.
 */
export async function checkConcurrently<T>(property: fc.IAsyncProperty<T>, params: ConcurrentCheckParams, adopter: FailureAdopter, slots: RunSlots): Promise<fc.RunDetails<T>> {
  const started = Date.now();
  const outOfTime = () => params.interruptAfterTimeLimit !== undefined && Date.now() - started > params.interruptAfterTimeLimit;
  const executeOne = async (value: fc.Value<T>): Promise<Outcome> => {
    await property.runBeforeEach();
    const out = await property.run(value.value_);
    await property.runAfterEach();
    return out !== null && !fc.PreconditionFailure.isFailure(out) ? { failed: true, error: out.error } : { failed: false };
  };
  const execute = async (value: fc.Value<T>): Promise<Outcome> => {
    const release = await slots.acquire();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (params.timeout === undefined) return await executeOne(value);
      const timedOut = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ failed: true, error: new Error(`Property timeout: exceeded limit of ${params.timeout} milliseconds`) }), params.timeout);
      });
      return await Promise.race([executeOne(value), timedOut]);
    } finally {
      clearTimeout(timer);
      release();
    }
  };
  // Executions in flight; once a round is decided, those left of it no longer matter.
  const running = new Set<Promise<void>>();

  /**
   * Tries `values` in order, `slots.perCheck` at a time, and settles on the lowest failing one as
   * soon as every value before it has passed (null: none failed, or time ran out first — the
   * check's, or `until`).
   */
  const firstFailing = (values: Iterator<fc.Value<T>>, until = Infinity): Promise<{ index: number; value: fc.Value<T>; error: unknown } | null> =>
    new Promise((resolve) => {
      const tried: fc.Value<T>[] = [];
      const outcomes: Array<Outcome | undefined> = [];
      let inFlight = 0;
      let exhausted = false;
      let decided = false;
      const timer = Number.isFinite(until)
        ? setTimeout(() => {
            if (decided) return;
            decided = true;
            resolve(null);
          }, Math.max(0, until - Date.now()))
        : undefined;
      const decide = (): void => {
        if (decided) return;
        for (let k = 0; k < tried.length; k++) {
          const outcome = outcomes[k];
          if (outcome === undefined) return;
          if (outcome.failed) {
            decided = true;
            clearTimeout(timer);
            resolve({ index: k, value: tried[k]!, error: outcome.error });
            return;
          }
        }
        if (exhausted && inFlight === 0) {
          decided = true;
          clearTimeout(timer);
          resolve(null);
        }
      };
      const launch = (): void => {
        while (!decided && !exhausted && inFlight < slots.perCheck) {
          const next = outOfTime() ? undefined : values.next();
          if (!next || next.done) {
            exhausted = true;
            break;
          }
          const k = tried.length;
          tried.push(next.value);
          inFlight += 1;
          const settled = execute(next.value).then((outcome) => {
            outcomes[k] = outcome;
            inFlight -= 1;
            decide();
            launch();
          });
          running.add(settled);
          void settled.finally(() => running.delete(settled));
        }
        decide();
      };
      launch();
    });

  // First runs: fast-check's values for the seed; no requirement pinned until one is chosen.
  const values = generatedValues(property, params.seed, params.numRuns);
  adopter.pinning = false;
  const first = await firstFailing(values[Symbol.iterator]());
  if (!first) {
    adopter.pinning = true;
    const interrupted = outOfTime();
    return details<T>({ failed: false, interrupted, numRuns: interrupted ? adopter.executions : values.length, seed: params.seed });
  }

  // Shrinking: from the lowest failing run, the first failing candidate of each shrink stream.
  let current = first.value;
  let error = first.error;
  let path = String(first.index);
  let numShrinks = 0;
  adopter.adoptFailure(error);
  const shrinkingUntil = Date.now() + slots.shrinkTimeLimitMs;
  while (Date.now() < shrinkingUntil) {
    const shrunk = await firstFailing(property.shrink(current)[Symbol.iterator](), shrinkingUntil);
    if (!shrunk) break;
    current = shrunk.value;
    error = shrunk.error;
    path += `:${shrunk.index}`;
    numShrinks += 1;
    adopter.adoptFailure(error);
  }
  const interrupted = outOfTime();
  // Executions still running no longer matter: they are ended, and whatever they recorded, the
  // counterexample is the chosen one.
  if (running.size) adopter.abort();
  adopter.adoptFailure(error);
  return details<T>({ failed: true, interrupted, numRuns: first.index + 1, seed: params.seed, counterexample: current.value_, path, error, numShrinks });
}

function details<T>(d: { failed: boolean; interrupted: boolean; numRuns: number; seed: number; counterexample?: T; path?: string; error?: unknown; numShrinks?: number }): fc.RunDetails<T> {
  return {
    failed: d.failed,
    interrupted: d.interrupted,
    numRuns: d.numRuns,
    numSkips: 0,
    numShrinks: d.numShrinks ?? 0,
    seed: d.seed,
    counterexample: d.counterexample ?? null,
    counterexamplePath: d.path ?? null,
    errorInstance: d.error ?? null,
    failures: d.counterexample !== undefined ? [d.counterexample] : [],
    executionSummary: [],
    verbose: fc.VerbosityLevel.None,
    runConfiguration: { seed: d.seed },
  } as unknown as fc.RunDetails<T>;
}
