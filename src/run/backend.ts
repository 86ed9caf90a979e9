/**
 * A backend run (the harness is the client): the one implementation behind the `backend` command
 * and `runBackendConformance` of the library API.
 *
 * Order of events: validate the configuration (a `UsageError` or `ProfileError`, thrown before
 * anything starts), start or reach the target and discover it (exit 3 when unusable), gather
 * identities and token sources, run the selected checks, revoke everything minted, assemble the
 * report — also when checks fail, crash or the run is stopped — and write it where asked.
 */
import { CleanupLedger } from '../engine/ledger.js';
import { randomSeed, runChecks, type ReplayCoordinates } from '../engine/runner.js';
import { Inconclusive, Skip, Violation, type StopReason } from '../engine/outcomes.js';
import { coverageOf } from '../engine/assemble.js';
import { policyName } from '../model/policy.js';
import type { CheckResult } from '../report/schema.js';
import { BACKEND_CHECKS } from '../../scenarios/backend/index.js';
import { BackendDriver } from '../targets/backend/driver.js';
import { startEmbeddedBackend, type EmbeddedTarget } from '../targets/backend/embedded.js';
import { loadProfile, type Profile } from '../targets/backend/profile.js';
import type { BackendSession, Identity } from '../targets/backend/session.js';
import { canRun, openSession, revokeMinted } from '../targets/backend/setup.js';
import { ForeignHostError, HttpClient, TransportError } from '../targets/http.js';
import { isSecretEnv, registerCommandSecrets, registerUrlSecrets, startServerTarget, type StartedTarget } from '../targets/launch.js';
import { isLoopbackHost, loopbackOnlyLookup, plainHttpRefusal } from '../cli/options.js';
import { finishRun, interruption, loadBaseline, oneLine, prepareOutDir, selectChecks, shellQuote, TargetUnusableError, unrunResult, UsageError, type CommonOptions, type RunEnvironment, type RunOutcome } from './common.js';
import type { RecordedOptions } from './recorded-options.js';

export interface BackendOptions extends CommonOptions {
  baseUrl?: string;
  tenant?: string;
  adminKey?: string;
  userKey?: string;
  tokenCommand?: string;
  deviceApproveCommand?: string;
  clientId: string;
  /** A second registered client id for RT-08 (`--other-client-id`); overrides the profile's. */
  otherClientId?: string;
  profile?: string;
  rate?: number;
  concurrency: number;
  timeout: number;
  checkRateLimit: boolean;
  insecure: boolean;
  serverCmd?: string;
  readyUrl?: string;
  readyTimeout: number;
  image?: string;
  imagePort?: number;
  imageEnv?: Record<string, string>;
  mutant?: string;
}

/**
 * Runs the backend checks as `options` say, with `env`'s output and stop signal. Throws
 * `UsageError` or `ProfileError` for a bad configuration, before anything is started or sent.
 */
export async function executeBackendRun(options: BackendOptions, env: RunEnvironment): Promise<RunOutcome> {
  const { redactor, output } = env;
  redactor.add(options.adminKey);
  redactor.add(options.userKey);
  // Secrets inline in what the user typed: a URL's password, a command's NAME=secret (issue 11.7).
  for (const url of [options.baseUrl, options.readyUrl]) registerUrlSecrets(url, redactor);
  for (const command of [options.serverCmd, options.tokenCommand, options.deviceApproveCommand]) registerCommandSecrets(command, redactor);
  const startedAt = new Date();
  const seed = options.seed ?? randomSeed();

  // ---- configuration (exit 2) ----------------------------------------------------------------
  let profile: Profile = {};
  let baseline: string[] | undefined;
  validateTargetOptions(options);
  await refusePlainHttp(options);
  if (options.profile) profile = await loadProfile(options.profile);
  // A target that echoes the client secret must not put it in a report (issue 11 point 5).
  redactor.add(profile.clientSecret);
  if (options.baseline) baseline = await loadBaseline(options.baseline);
  const selection = selectChecks(BACKEND_CHECKS, options);
  // Before any request: a run whose reports cannot be written is a configuration error.
  if (env.writeReports) await prepareOutDir(options.out);

  // ---- the target (exit 3 when unusable) ---------------------------------------------------
  const ledger = new CleanupLedger();
  const diagnostics: string[] = [];
  const interrupt = interruption(output, env);
  // A check that sends several requests at once and stops at the first that fails leaves the
  // others' rejections unobserved; by Node's default that kills the process — without cleanup or
  // reports (H-02, H-05). They are expected outcomes of a misbehaving target, noted, never fatal.
  const onUnobserved = (reason: unknown): void => {
    const message = reason instanceof Error ? reason.message : String(reason);
    const expected = [TransportError, ForeignHostError, Inconclusive, Skip, Violation].some((kind) => reason instanceof kind);
    if (!expected) diagnostics.push(`an unobserved error in a check: ${message}`);
    output.debug(`unobserved rejection: ${message}`);
  };
  process.on('unhandledRejection', onUnobserved);
  // Ends the checks' requests in flight on Ctrl-C and at --max-time, so that a hanging target
  // cannot hold the run; cleanup uses its own client, which this does not stop.
  const stopRequests = new AbortController();
  const onInterrupt = () => stopRequests.abort();
  interrupt.signal.addEventListener('abort', onInterrupt, { once: true });
  const deadline = options.maxTime ? startedAt.getTime() + options.maxTime * 1000 : undefined;
  const deadlineTimer = deadline !== undefined ? setTimeout(() => stopRequests.abort(), Math.max(0, deadline - Date.now())) : undefined;
  let embedded: EmbeddedTarget | undefined;
  let started: StartedTarget | undefined;
  let http: HttpClient | undefined;
  let driver: BackendDriver | undefined;
  let session: BackendSession | undefined;
  /** Identities whose keys can revoke what was minted, even when setup stopped half-way. */
  const identities: { admin?: Identity; user?: Identity } = {};
  let results: CheckResult[] = [];
  let targetDescription: string | undefined;
  let baseUrl = options.baseUrl ?? (options.tenant ? `https://${options.tenant}.ekso.app` : undefined);
  let exitOverride: number | undefined;
  let notRun = 'the target could not be used';
  let outcome: RunOutcome | undefined;
  try {
    try {
      if (options.serverCmd || options.image) {
        started = await startServerTarget(options, redactor, output, interrupt.signal);
        baseUrl = started.baseUrl;
        targetDescription = started.description;
      } else if (!baseUrl) {
        embedded = await startEmbeddedBackend({ ...(options.mutant ? { mutant: options.mutant } : {}), policy: policyName(options.policy) });
        baseUrl = embedded.baseUrl;
        targetDescription = embedded.description;
      }
      const loopback = isLoopbackHost(new URL(baseUrl).hostname);
      const plainHttp = new URL(baseUrl).protocol === 'http:' && !options.insecure;
      http = new HttpClient({
        redactor,
        allowedOrigins: [baseUrl],
        // H-06 at connection time too: a loopback name that resolves elsewhere later is refused.
        ...(plainHttp ? { lookup: loopbackOnlyLookup } : {}),
        ratePerSecond: options.rate ?? (loopback ? null : 40),
        concurrency: options.concurrency,
        timeoutMs: options.timeout * 1000,
        signal: stopRequests.signal,
      });
      driver = new BackendDriver(baseUrl, profile, http, options.clientId);
      output.info(`ekso-conformance backend → ${baseUrl}${targetDescription ? ` (${targetDescription})` : ''}, policy ${policyName(options.policy)}, seed ${seed}`);
      try {
        await driver.discover();
      } catch (error) {
        if (error instanceof TransportError && error.failure !== 'aborted') throw new TargetUnusableError(`the target is unreachable: ${error.message}`);
        throw error;
      }
      if (!driver.endpoints.discovery) diagnostics.push(`discovery: ${driver.endpoints.discoveryProblem}`);
      for (const note of driver.endpoints.notes ?? []) {
        diagnostics.push(note);
        output.line(`ekso-conformance: ${note}`);
      }
      // The run's stop signal (Ctrl-C or --max-time): token commands and device polling end with it.
      const opened = await openSession(driver, options, redactor, ledger, identities, stopRequests.signal);
      for (const note of opened.notes) {
        diagnostics.push(note);
        output.line(`ekso-conformance: ${oneLine(note)}`);
      }
      // CONTRACT exit 3, "the token source rejected before any check ran" — only when that leaves
      // nothing to run: a source failing for one kind of family costs the checks that need that
      // kind (skipped or inconclusive, with the reason), never the API-key checks beside them.
      if (opened.sourceFailures.length && !selection.selected.some((c) => canRun(c, opened.session))) {
        throw new TargetUnusableError(`${opened.sourceFailures.join('; ')} — and no selected check can run without it`);
      }
      session = opened.session;
    } catch (error) {
      if (interrupt.signal.aborted || (error instanceof TransportError && error.failure === 'aborted')) {
        // Ctrl-C (or --max-time) during setup: not the target's fault.
        notRun = interrupt.signal.aborted ? 'interrupted' : '--max-time reached';
        diagnostics.push(`stopped before any check ran: ${notRun}`);
      } else if (error instanceof TargetUnusableError || error instanceof TransportError || error instanceof ForeignHostError) {
        // A target that answered discovery but fails while the harness gathers its identities
        // (a hook that hangs or resets) is as unusable as an unreachable one.
        const message = error instanceof TargetUnusableError ? error.message : `the target failed during setup: ${error.message}`;
        output.line(`ekso-conformance: ${oneLine(message)}`);
        diagnostics.push(message);
        notRun = message;
        exitOverride = 3;
      } else throw error;
    }

    // ---- the checks ----------------------------------------------------------------------------
    if (session) {
      const s = session;
      results = await runChecks(selection.selected, s, {
        baseSeed: seed,
        ...(options.numRuns ? { numRuns: options.numRuns } : {}),
        ...(deadline !== undefined ? { deadline } : {}),
        signal: interrupt.signal,
        ...(options.path && selection.selected.length === 1
          ? { replay: { checkId: selection.selected[0]!.id, path: options.path, ...(options.replayPath ? { replayPath: options.replayPath } : {}), ...(options.tolerate ? { tolerate: options.tolerate } : {}) } }
          : {}),
        setSink: (sink) => {
          http!.sink = sink;
        },
        classifyError: classifyBackendError,
        replayCommand: (c) => replayCommand(options, seed, c),
        onCheckStart: (c) => output.checkStarted(c),
        onCheckDone: (r) => output.checkDone(r),
        debug: (m) => output.debug(m),
      });
    }
  } catch (error) {
    // A bug of the harness: the report must not claim anything about checks that never ran.
    notRun = `internal error: ${(error as Error)?.message ?? String(error)}`;
    diagnostics.push(notRun);
    throw error;
  } finally {
    // ---- cleanup, reports ----------------------------------------------------------------------
    clearTimeout(deadlineTimer);
    // Every selected check has a result: the ones that never ran are inconclusive, never passed.
    const done = new Set(results.map((r) => r.id));
    results = [...results, ...selection.selected.filter((c) => !done.has(c.id)).map((c) => unrunResult(c, seed, notRun))];
    if (http && driver && identities.admin) {
      diagnostics.push(...(await revokeMinted(http, driver, identities.admin, ledger, options.timeout)));
    } else if (ledger.mintsUnanswered) {
      diagnostics.push(`cleanup: ${ledger.mintsUnanswered} mint(s) got no answer and no admin identity is left to look for their keys: look for keys named "… ${ledger.tag}" on the target`);
    }
    const cleanup = ledger.counts();
    if (cleanup.leaked) {
      const ids = ledger.outstanding().map((e) => (e.label ? `${e.id} (${e.label})` : e.id));
      diagnostics.push(`cleanup: ${cleanup.leaked} minted key(s) could not be revoked — revoke them by hand: ${ids.join(', ')}`);
    }
    if (started) diagnostics.push(...started.logTail(results.some((r) => r.status === 'failed' || r.status === 'inconclusive')));
    http?.close();
    await embedded?.close().catch(() => undefined);
    await started?.stop().catch(() => undefined);
    outcome = await finishRun(
      {
        mode: 'backend',
        target: {
          ...(baseUrl ? { baseUrl } : {}),
          ...(Object.keys(profile).length ? { profile: redactor.value(profile) as Record<string, unknown> } : {}),
          ...(options.mutant ? { mutant: options.mutant } : {}),
          ...(targetDescription ? { description: targetDescription } : {}),
        },
        seed,
        startedAt,
        options: recordedOptions(options),
        checks: results,
        coverage: coverageOf(BACKEND_CHECKS as never),
        selection,
        baseline,
        cleanup,
        diagnostics,
        interrupted: interrupt.signal.aborted,
        exitOverride,
      },
      options,
      env,
    );
    // Only now: a Ctrl-C during cleanup or while the reports are written must not kill the
    // process before they are done (a second one still forces the exit).
    interrupt.signal.removeEventListener('abort', onInterrupt);
    interrupt.dispose();
    process.off('unhandledRejection', onUnobserved);
  }
  return outcome!;
}

function validateTargetOptions(options: BackendOptions): void {
  if (options.baseUrl && options.tenant) throw new UsageError('give --base-url or --tenant, not both');
  const sources = [options.baseUrl || options.tenant ? 'url' : null, options.serverCmd ? 'server' : null, options.image ? 'image' : null].filter(Boolean);
  if (options.image && options.serverCmd) throw new UsageError('give --server-cmd or --image, not both');
  if (options.serverCmd && !options.readyUrl && !options.baseUrl) throw new UsageError('--server-cmd needs --base-url (where it listens) or --ready-url');
  if (options.mutant && sources.length) throw new UsageError('--mutant selects a broken embedded reference backend: it cannot be combined with a target');
}

/**
 * H-06 for every URL given on the command line, before anything is started or sent: --base-url,
 * and --ready-url (without --base-url, the started target's base URL is its origin, and the admin
 * key goes there). `--tenant` is always https; `--image` without either is 127.0.0.1.
 */
async function refusePlainHttp(options: BackendOptions): Promise<void> {
  for (const [url, flag] of [
    [options.baseUrl, '--base-url'],
    [options.readyUrl, '--ready-url'],
  ] as const) {
    if (!url) continue;
    const refusal = await plainHttpRefusal(url, flag, options.insecure);
    if (refusal) throw new UsageError(refusal);
  }
}

function classifyBackendError(error: unknown): StopReason | null {
  if (error instanceof TransportError) return { kind: 'inconclusive', message: `transport: ${error.message}` };
  if (error instanceof ForeignHostError) return { kind: 'inconclusive', message: error.message };
  if (error instanceof Inconclusive) return { kind: 'inconclusive', message: error.diagnosis };
  return null;
}


/**
 * A command line that replays one check the way it ran: the same target, token sources, profile,
 * policy, transport settings and seed. Secrets only by the name of an environment variable
 * (`"$EKSO_ADMIN_API_KEY"`, `--image-env "DB_PASSWORD=$DB_PASSWORD"`), never their values.
 * Defaults are left out.
 */
export function replayCommand(options: BackendOptions, seed: number, check: ReplayCoordinates): string {
  const args: string[] = ['npx', 'ekso-conformance'];
  const flag = (name: string, value?: string | number | false) => {
    if (value === undefined || value === false) return;
    args.push(shellQuote(name));
    if (value !== '') args.push(shellQuote(String(value)));
  };
  // The target.
  flag('--base-url', options.baseUrl);
  if (!options.baseUrl) flag('--tenant', options.tenant);
  flag('--server-cmd', options.serverCmd);
  flag('--image', options.image);
  flag('--image-port', options.imagePort);
  for (const [name, value] of Object.entries(options.imageEnv ?? {})) {
    if (isSecretEnv(name, value)) args.push('--image-env', `"${name}=$${name}"`);
    else flag('--image-env', `${name}=${value}`);
  }
  if (options.serverCmd || options.image) {
    flag('--ready-url', options.readyUrl);
    if (options.readyTimeout !== 60) flag('--ready-timeout', options.readyTimeout);
  }
  flag('--mutant', options.mutant);
  flag('--insecure', options.insecure && '');
  // Credentials and token sources.
  if (options.adminKey) args.push('--admin-key', '"$EKSO_ADMIN_API_KEY"');
  if (options.userKey) args.push('--user-key', '"$EKSO_USER_API_KEY"');
  flag('--token-command', options.tokenCommand);
  flag('--device-approve-command', options.deviceApproveCommand);
  if (options.clientId !== 'ekso-cli') flag('--client-id', options.clientId);
  flag('--other-client-id', options.otherClientId);
  flag('--profile', options.profile);
  // How it ran.
  const policy = policyName(options.policy);
  if (policy !== 'strict') flag('--policy', policy);
  flag('--strict', options.strict && '');
  flag('--check-rate-limit', options.checkRateLimit && '');
  flag('--rate', options.rate);
  if (options.concurrency !== 8) flag('--concurrency', options.concurrency);
  if (options.timeout !== 30) flag('--timeout', options.timeout);
  flag('--num-runs', options.numRuns);
  // The counterexample.
  flag('--check', check.id);
  flag('--seed', seed);
  flag('--path', check.path);
  flag('--replay-path', check.replayPath);
  if (check.tolerate?.length) flag('--tolerate', check.tolerate.join(','));
  return args.join(' ');
}

/**
 * The options as recorded in the report (no secrets: keys are only said to be present). `replay`
 * reads them back through the same schema and takes only the inert ones.
 */
function recordedOptions(options: BackendOptions): RecordedOptions {
  return {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.mutant ? { mutant: options.mutant } : {}),
    ...(options.serverCmd ? { serverCmd: options.serverCmd, readyUrl: options.readyUrl } : {}),
    ...(options.image ? { image: options.image, imagePort: options.imagePort } : {}),
    ...(options.tokenCommand ? { tokenCommand: options.tokenCommand } : {}),
    ...(options.deviceApproveCommand ? { deviceApproveCommand: options.deviceApproveCommand } : {}),
    clientId: options.clientId,
    ...(options.otherClientId ? { otherClientId: options.otherClientId } : {}),
    adminKey: options.adminKey ? 'given' : 'none',
    userKey: options.userKey ? 'given' : 'none',
    policy: policyName(options.policy),
    strict: options.strict,
    checkRateLimit: options.checkRateLimit,
    ...(options.insecure ? { insecure: true } : {}),
    ...(options.numRuns ? { numRuns: options.numRuns } : {}),
    ...(options.checkText ? { check: options.checkText } : {}),
    ...(options.maxTime ? { maxTime: options.maxTime } : {}),
    concurrency: options.concurrency,
    timeout: options.timeout,
    ...(options.rate ? { rate: options.rate } : {}),
  };
}
