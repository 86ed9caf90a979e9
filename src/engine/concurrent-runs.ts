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
  /** Makes the execution that ended with `error` the counterexample and pins its requirement. */
  adoptFailure(error: unknown): void;
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
  fc.check(recorder, { seed, numRuns });
  return values;
}

/**
 * fc.check for a property whose runs may overlap: at most `concurrency` executions in flight.
 * Returns fast-check's run details (path, counterexample, shrinks) as fc.check would have.
 */
export async function checkConcurrently<T>(property: fc.IAsyncProperty<T>, params: ConcurrentCheckParams, adopter: FailureAdopter, slots: RunSlots): Promise<fc.RunDetails<T>> {
  const started = Date.now();
  const concurrency = slots.perCheck;
  const outOfTime = () => params.interruptAfterTimeLimit !== undefined && Date.now() - started > params.interruptAfterTimeLimit;
  const execute = async (value: fc.Value<T>): Promise<Outcome> => {
    const release = await slots.acquire();
    try {
      return await executeOne(value);
    } finally {
      release();
    }
  };
  const executeOne = async (value: fc.Value<T>): Promise<Outcome> => {
    const run = async (): Promise<Outcome> => {
      await property.runBeforeEach();
      const out = await property.run(value.value_);
      await property.runAfterEach();
      return out !== null && !fc.PreconditionFailure.isFailure(out) ? { failed: true, error: out.error } : { failed: false };
    };
    if (params.timeout === undefined) return run();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ failed: true, error: new Error(`Property timeout: exceeded limit of ${params.timeout} milliseconds`) }), params.timeout);
    });
    try {
      return await Promise.race([run(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  // First runs: all of them, `concurrency` at a time; none after a known failure starts.
  const values = generatedValues(property, params.seed, params.numRuns);
  const outcomes: Array<Outcome | undefined> = new Array(values.length);
  let lowestFailure = Infinity;
  let next = 0;
  adopter.pinning = false;
  const worker = async (): Promise<void> => {
    while (next < values.length && next < lowestFailure && !outOfTime()) {
      const index = next++;
      const outcome = await execute(values[index]!);
      outcomes[index] = outcome;
      if (outcome.failed) lowestFailure = Math.min(lowestFailure, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, values.length)) }, worker));
  const interruptedEarly = outOfTime() && outcomes.filter(Boolean).length < values.length && lowestFailure === Infinity;

  if (lowestFailure === Infinity) {
    adopter.pinning = true;
    const numRuns = outcomes.filter(Boolean).length;
    return details<T>({ failed: interruptedEarly && numRuns === 0, interrupted: interruptedEarly, numRuns, seed: params.seed });
  }

  // Shrinking, batch by batch, from the lowest failing run.
  let current = values[lowestFailure]!;
  let error = (outcomes[lowestFailure] as { error: unknown }).error;
  let path = String(lowestFailure);
  let numShrinks = 0;
  let interrupted = false;
  adopter.adoptFailure(error);
  shrinking: for (;;) {
    const candidates = property.shrink(current)[Symbol.iterator]();
    let offset = 0;
    for (;;) {
      if (outOfTime()) {
        interrupted = true;
        break shrinking;
      }
      const batch: fc.Value<T>[] = [];
      while (batch.length < concurrency) {
        const n = candidates.next();
        if (n.done) break;
        batch.push(n.value);
      }
      if (batch.length === 0) break shrinking;
      const results = await Promise.all(batch.map(execute));
      const failing = results.findIndex((r) => r.failed);
      if (failing >= 0) {
        current = batch[failing]!;
        error = (results[failing] as { error: unknown }).error;
        path += `:${offset + failing}`;
        numShrinks += 1;
        adopter.adoptFailure(error);
        continue shrinking;
      }
      offset += batch.length;
    }
  }
  return details<T>({ failed: true, interrupted, numRuns: lowestFailure + 1, seed: params.seed, counterexample: current.value_, path, error, numShrinks });
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
