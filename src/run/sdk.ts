/**
 * An SDK run (the harness is the server): the one implementation behind the `sdk` command and
 * `runSdkConformance` of the library API. Default target: the reference TypeScript SDK
 * in-process; `adapter` a stdio command or a module path; `inProcess` an adapter object;
 * `mutant` a named broken variant of the reference SDK.
 */
import { coverageOf } from '../engine/assemble.js';
import { runChecksConcurrently } from '../engine/concurrent-checks.js';
import { RunSlots } from '../engine/concurrent-runs.js';
import { randomSeed, runChecks, type ReplayCoordinates } from '../engine/runner.js';
import { policyName } from '../model/policy.js';
import { sdkMutant } from '../mutants/index.js';
import { createAdapter } from '../reference/sdk/index.js';
import type { CheckResult } from '../report/schema.js';
import { AdapterRpcError, RPC_ERRORS } from '../spec/adapter-protocol.js';
import { AdapterCrashedError, AdapterLoadError, AdapterProtocolError, AdapterTimeoutError } from '../targets/adapters/errors.js';
import type { InProcessAdapterModule } from '../targets/adapters/in-process.js';
import { adapterSourceOf, SdkSession, type AdapterSource } from '../targets/sdk/session.js';
import { SDK_CHECKS } from '../../scenarios/sdk/index.js';
import { registerCommandSecrets } from '../targets/launch.js';
import { finishRun, interruption, loadBaseline, oneLine, prepareOutDir, selectChecks, shellQuote, unrunResult, UsageError, type CommonOptions, type RunEnvironment, type RunOutcome } from './common.js';
import { Violation, type StopReason } from '../engine/outcomes.js';
import type { RecordedOptions } from './recorded-options.js';

export interface SdkOptions extends CommonOptions {
  adapter?: string;
  mutant?: string;
  /** An adapter object in this process (the library API): validated as a module's would be. */
  inProcess?: { name: string; module: InProcessAdapterModule };
  /** Seconds per adapter request. */
  timeout: number;
}

/**
 * Runs the SDK checks as `options` say, with `env`'s output and stop signal. Throws `UsageError`
 * for a bad configuration (and `AdapterLoadError` for a module that cannot be loaded), before
 * any check runs.
 */
export async function executeSdkRun(options: SdkOptions, env: RunEnvironment): Promise<RunOutcome> {
  const { redactor, output } = env;
  // An adapter command may carry a secret inline (`SDK_CLIENT_SECRET=… dotnet run`): never printed.
  registerCommandSecrets(options.adapter, redactor);
  const startedAt = new Date();
  const seed = options.seed ?? randomSeed();

  const targets = [options.adapter, options.mutant, options.inProcess].filter((t) => t !== undefined).length;
  if (targets > 1) throw new UsageError('--mutant selects a broken reference SDK: it cannot be combined with --adapter (or an in-process adapter)');
  const baseline = options.baseline ? await loadBaseline(options.baseline) : undefined;
  const selection = selectChecks(SDK_CHECKS, options);
  const source = sourceOf(options);
  // Before the adapter starts: a run whose reports cannot be written is a configuration error.
  if (env.writeReports) await prepareOutDir(options.out);

  const diagnostics: string[] = [];
  const interrupt = interruption(output, env);
  // Concurrent calls of a check that stops at the first failure leave the others' rejections
  // unobserved: noted, never fatal (the run must still clean up and write its reports).
  const onUnobserved = (reason: unknown): void => {
    const message = reason instanceof Error ? reason.message : String(reason);
    if (classifyAdapterError(reason) === null && !(reason instanceof Violation)) diagnostics.push(`an unobserved error in a check: ${redactor.text(message)}`);
  };
  process.on('unhandledRejection', onUnobserved);
  let session: SdkSession | undefined;
  let results: CheckResult[] = [];
  let exitOverride: number | undefined;
  let outcome: RunOutcome | undefined;
  try {
    session = await SdkSession.open(source, redactor, { timeoutMs: options.timeout });
    output.info(`ekso-conformance sdk → ${session.description} (${session.info.name} ${session.info.version}, ${session.transport === 'scheduled' ? 'in-process, scheduled interleavings' : 'real concurrency over HTTP'}), seed ${seed}`);
  } catch (error) {
    if (error instanceof AdapterLoadError && (source.kind === 'module' || source.kind === 'object')) {
      // A bad adapter module is a configuration error (exit 2): one line, no reports.
      interrupt.dispose();
      process.off('unhandledRejection', onUnobserved);
      throw error;
    }
    const message = `the adapter could not be used: ${redactor.text((error as Error).message)}`;
    output.line(`ekso-conformance: ${message}`);
    diagnostics.push(message);
    // An adapter that died while starting: its whole stderr tail, as for a crash mid-run.
    if (error instanceof AdapterCrashedError && error.stderrTail.length) diagnostics.push('adapter stderr (last lines):', ...error.stderrTail.map((l) => redactor.text(l)));
    exitOverride = 3;
  }
  try {
    if (session) {
      const s = session;
      // Real time (no clock hook): the waits are the cost, so checks and their runs go side by
      // side, every run with its own model server (SdkSession.openRun).
      const realTime = s.concurrentRuns;
      results = await (realTime ? runChecksConcurrently : runChecks)(selection.selected, s, {
        ...(realTime ? { concurrentRuns: new RunSlots(REAL_TIME_RUNS_IN_FLIGHT, REAL_TIME_RUNS_PER_CHECK, REAL_TIME_SHRINK_MS) } : {}),
        baseSeed: seed,
        ...(options.numRuns ? { numRuns: options.numRuns } : {}),
        ...(options.maxTime ? { deadline: startedAt.getTime() + options.maxTime * 1000 } : {}),
        signal: interrupt.signal,
        ...(options.path && selection.selected.length === 1
          ? { replay: { checkId: selection.selected[0]!.id, path: options.path, ...(options.replayPath ? { replayPath: options.replayPath } : {}), ...(options.tolerate ? { tolerate: options.tolerate } : {}) } }
          : {}),
        setSink: (sink) => {
          s.server.sink = sink;
        },
        classifyError: classifyAdapterError,
        replayCommand: (c) => replayCommand(options, seed, c),
        onCheckStart: (c) => output.checkStarted(c),
        onCheckDone: (r) => output.checkDone(r),
        debug: (m) => output.debug(m),
      });
    } else {
      results = selection.selected.map((c) => unrunResult(c, seed, diagnostics[0] ?? 'the adapter could not be used'));
    }
  } finally {
    interrupt.dispose();
    if (session) {
      const troubled = results.some((r) => r.status === 'failed' || r.status === 'inconclusive');
      const tail = session.stderrTail();
      if (troubled && tail.length) diagnostics.push('adapter stderr (last lines):', ...tail.map((l) => redactor.text(l)));
      await session.close().catch(() => undefined);
    }
    outcome = await finishRun(
      {
        mode: 'sdk',
        target: {
          adapter: session?.description ?? options.adapter ?? (options.inProcess ? `in-process adapter ${options.inProcess.name}` : options.mutant ? `reference SDK mutant ${options.mutant}` : 'reference TypeScript SDK (in-process)'),
          ...(options.mutant ? { mutant: options.mutant } : {}),
          ...(session ? { description: `${session.info.name} ${session.info.version}; capabilities ${JSON.stringify(session.capabilities)}` } : {}),
        },
        seed,
        startedAt,
        // The same schema replay reads back (src/run/recorded-options.ts).
        options: {
          ...(options.adapter ? { adapter: options.adapter } : options.inProcess ? { adapter: `in-process: ${options.inProcess.name}` } : {}),
          ...(options.mutant ? { mutant: options.mutant } : {}),
          timeout: options.timeout,
          strict: options.strict,
          ...(options.numRuns ? { numRuns: options.numRuns } : {}),
          ...(options.checkText ? { check: options.checkText } : {}),
        } satisfies RecordedOptions,
        checks: results,
        coverage: coverageOf(SDK_CHECKS as never),
        selection,
        baseline,
        cleanup: { minted: 0, revoked: 0, leaked: 0 },
        diagnostics,
        interrupted: interrupt.signal.aborted,
        exitOverride,
      },
      options,
      env,
    );
    // Only now: a Ctrl-C while the reports are written must not kill the process first.
    interrupt.dispose();
    process.off('unhandledRejection', onUnobserved);
  }
  return outcome!;
}

/**
 * Real time: property runs in flight at once, over all checks and per check. Choice: 24 in all —
 * enough that the waits overlap, few enough that an SDK's own queueing (one adapter process, a
 * token store persisting each rotation) stays well inside the timeline tolerance; up to 16 of one
 * check (its first runs, or one round of shrinking candidates).
 */
const REAL_TIME_RUNS_IN_FLIGHT = 24;
const REAL_TIME_RUNS_PER_CHECK = 16;
/**
 * Real time: how long one check may shrink a failure. Choice: 20 s — every shrinking candidate
 * waits in earnest again, and a failure found must not turn a one-minute run into several; the
 * smallest counterexample found by then is reported, and its path replays it.
 */
const REAL_TIME_SHRINK_MS = 20_000;

function sourceOf(options: SdkOptions): AdapterSource {
  if (options.mutant) {
    const mutant = sdkMutant(options.mutant);
    if (!mutant) throw new UsageError(`unknown SDK mutant ${options.mutant} (see list --mutants)`);
    return { kind: 'factory', name: `reference SDK mutant ${mutant.name} (in-process)`, create: (o) => mutant.createAdapter(o) };
  }
  if (options.inProcess) return { kind: 'object', name: options.inProcess.name, module: options.inProcess.module };
  if (options.adapter) return adapterSourceOf(options.adapter);
  return { kind: 'factory', name: 'reference TypeScript SDK (in-process)', create: (o) => createAdapter(o) };
}

function classifyAdapterError(error: unknown): StopReason | null {
  if (error instanceof AdapterRpcError) {
    if (error.code === RPC_ERRORS.methodNotFound) return { kind: 'skip', message: `the adapter does not implement what this check needs: ${error.message}` };
    return { kind: 'inconclusive', message: `adapter error ${error.code}: ${error.message}` };
  }
  if (error instanceof AdapterTimeoutError) return { kind: 'inconclusive', message: `the adapter did not answer: ${error.message}` };
  if (error instanceof AdapterCrashedError) return { kind: 'inconclusive', message: `the adapter crashed: ${error.message}` };
  if (error instanceof AdapterProtocolError) return { kind: 'inconclusive', message: `the adapter broke the protocol: ${error.message}` };
  return null;
}

/** A command line that replays one check the way it ran (defaults left out). */
export function replayCommand(options: SdkOptions, seed: number, check: ReplayCoordinates): string {
  const args = ['npx', 'ekso-conformance', 'sdk'];
  if (options.adapter) args.push('--adapter', options.adapter);
  if (options.mutant) args.push('--mutant', options.mutant);
  const policy = policyName(options.policy);
  if (policy !== 'strict') args.push('--policy', policy);
  if (options.strict) args.push('--strict');
  if (options.timeout !== 30) args.push('--timeout', String(options.timeout));
  if (options.numRuns) args.push('--num-runs', String(options.numRuns));
  args.push('--check', check.id, '--seed', String(seed));
  if (check.path) args.push('--path', check.path);
  if (check.replayPath) args.push('--replay-path', check.replayPath);
  if (check.tolerate?.length) args.push('--tolerate', check.tolerate.join(','));
  return args.map(shellQuote).join(' ');
}
