/**
 * Checks side by side, for targets whose runs mostly wait in real time and whose checks each keep
 * to state of their own (an SDK without a clock hook: every run has its own model server). With
 * `RunnerOptions.concurrentRuns` the runs of each check overlap too (see concurrent-runs.ts), so
 * a whole run lasts about as long as its longest property run, not the sum of all of them.
 */
import { setMaxListeners } from 'node:events';
import type { CheckResult } from '../report/schema.js';
import type { CheckDefinition } from './check.js';
import { runCheck, type RunnerOptions } from './runner.js';

/**
 * Runs checks side by side (each with its runs concurrent, see `RunnerOptions.concurrentRuns`):
 * the real-time counterpart of `runChecks`, for targets whose checks each keep to state of their
 * own. Checks naming the same `sharedState` go one after another; `exclusive` ones (a shared
 * clock) run alone, after the rest. Results come back in the checks' order.
 */
export async function runChecksConcurrently<Env>(checks: readonly CheckDefinition<Env>[], env: Env, options: RunnerOptions): Promise<CheckResult[]> {
  const one = async (check: CheckDefinition<Env>): Promise<CheckResult> => {
    options.onCheckStart?.(check);
    const result = await runCheck(check, env, options);
    options.onCheckDone?.(result);
    return result;
  };
  // Every check side by side listens to the run's Ctrl-C signal: not a listener leak.
  if (options.signal) setMaxListeners(0, options.signal);
  const lanes = new Map<string, Promise<unknown>>();
  const results = new Map<CheckDefinition<Env>, CheckResult>();
  await Promise.all(
    checks
      .filter((c) => !c.exclusive)
      .map((check) => {
        const lane = check.sharedState;
        const started = lane ? (lanes.get(lane) ?? Promise.resolve()).then(() => one(check)) : one(check);
        if (lane) lanes.set(lane, started.catch(() => undefined));
        return started.then((r) => void results.set(check, r));
      }),
  );
  for (const check of checks.filter((c) => c.exclusive)) results.set(check, await one(check));
  return checks.map((c) => results.get(c)!);
}
