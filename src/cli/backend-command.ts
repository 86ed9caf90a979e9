/**
 * `ekso-conformance [backend]`: tests a backend (the harness is the client).
 *
 * Order of events: validate the configuration (exit 2), start or reach the target and discover it
 * (exit 3 when unusable), gather identities and token sources, run the selected checks, revoke
 * everything minted, write the reports — also when checks fail, crash or Ctrl-C arrives.
 */
import { CleanupLedger } from '../engine/ledger.js';
import { Redactor } from '../engine/redact.js';
import { randomSeed, runChecks, type ReplayCoordinates } from '../engine/runner.js';
import { Inconclusive, Skip, Violation } from '../engine/outcomes.js';
import { assembleReport, coverageOf } from '../engine/assemble.js';
import { policyName } from '../model/policy.js';
import type { CheckResult, Report } from '../report/schema.js';
import { BACKEND_CHECKS } from '../../scenarios/backend/index.js';
import { BackendDriver, bearer, type UserRole } from '../targets/backend/driver.js';
import { startEmbeddedBackend, type EmbeddedTarget } from '../targets/backend/embedded.js';
import { DEFAULT_PROFILE, loadProfile, ProfileError, type Profile } from '../targets/backend/profile.js';
import { BackendSession, type Identity } from '../targets/backend/session.js';
import {
  CommandDeviceApprover,
  CommandTokenSource,
  DeviceFlowTokenSource,
  HookDeviceApprover,
  describeSource,
  DeviceFlowDeviation,
  HookTokenSource,
  TokenSources,
  type TokenPair,
} from '../targets/backend/token-sources.js';
import { ForeignHostError, HttpClient, TransportError } from '../targets/http.js';
import { KeyListing, MintResponse, parseWire } from '../spec/wire.js';
import { ConsoleOutput } from './console.js';
import { isLoopbackHost, loopbackOnlyLookup, plainHttpRefusal } from './options.js';
import {
  interruption,
  loadBaseline,
  oneLine,
  prepareOutDir,
  selectChecks,
  shellQuote,
  TargetUnusableError,
  UsageError,
  writeAll,
  type CommonOptions,
} from './run-common.js';
import type { RecordedOptions } from './recorded-options.js';
import { isSecretEnv, registerCommandSecrets, registerUrlSecrets, startServerTarget, type StartedTarget } from './targets.js';

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

export async function runBackendCommand(options: BackendOptions): Promise<number> {
  const redactor = new Redactor();
  redactor.add(options.adminKey);
  redactor.add(options.userKey);
  // Secrets inline in what the user typed: a URL's password, a command's NAME=secret (issue 11.7).
  for (const url of [options.baseUrl, options.readyUrl]) registerUrlSecrets(url, redactor);
  for (const command of [options.serverCmd, options.tokenCommand, options.deviceApproveCommand]) registerCommandSecrets(command, redactor);
  const output = new ConsoleOutput({ quiet: options.quiet, verbose: options.verbose, color: options.color, redactor });
  const startedAt = new Date();
  const seed = options.seed ?? randomSeed();

  // ---- configuration (exit 2) ----------------------------------------------------------------
  let profile: Profile = {};
  let baseline: string[] | undefined;
  let selection: ReturnType<typeof selectChecks<BackendSession>>;
  try {
    validateTargetOptions(options);
    await refusePlainHttp(options);
    if (options.profile) profile = await loadProfile(options.profile);
    // A target that echoes the client secret must not put it in a report (issue 11 point 5).
    redactor.add(profile.clientSecret);
    if (options.baseline) baseline = await loadBaseline(options.baseline);
    selection = selectChecks(BACKEND_CHECKS, options);
    // Before any request: a run whose reports cannot be written is a configuration error.
    await prepareOutDir(options.out);
  } catch (error) {
    if (error instanceof ProfileError || error instanceof UsageError) {
      output.line(`ekso-conformance: ${oneLine(error.message)}`);
      return 2;
    }
    throw error;
  }

  // ---- the target (exit 3 when unusable) ---------------------------------------------------
  const ledger = new CleanupLedger();
  const diagnostics: string[] = [];
  const interrupt = interruption(output);
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
      const ids = ledger.outstanding().map((e) => `${e.id} (${e.label})`);
      diagnostics.push(`cleanup: ${cleanup.leaked} minted key(s) could not be revoked — revoke them by hand: ${ids.join(', ')}`);
    }
    if (started) diagnostics.push(...started.logTail(results.some((r) => r.status === 'failed' || r.status === 'inconclusive')));
    http?.close();
    await embedded?.close().catch(() => undefined);
    await started?.stop().catch(() => undefined);
    const report: Report = assembleReport({
      mode: 'backend',
      target: {
        ...(baseUrl ? { baseUrl } : {}),
        ...(Object.keys(profile).length ? { profile: redactor.value(profile) as Record<string, unknown> } : {}),
        ...(options.mutant ? { mutant: options.mutant } : {}),
        ...(targetDescription ? { description: targetDescription } : {}),
      },
      policy: policyName(options.policy),
      seed,
      startedAt,
      finishedAt: new Date(),
      options: recordedOptions(options),
      checks: results,
      coverage: coverageOf(BACKEND_CHECKS as never),
      ...(selection.unselectedReason ? { unselectedReason: selection.unselectedReason } : {}),
      strict: options.strict,
      cleanup,
      diagnostics: diagnostics.map((d) => redactor.text(d)),
      interrupted: interrupt.signal.aborted,
      ...(options.shard ? { shard: options.shard } : {}),
      ...(baseline ? { baseline: { file: options.baseline!, entries: baseline } } : {}),
    });
    // The report states the exit code the process ends with (3 decided before any check ran).
    if (exitOverride !== undefined) report.exitCode = exitOverride;
    const written = await writeAll(redactor.value(report), options, output);
    output.summary(report, written);
    lastReport = report;
    if (exitOverride === undefined) exitOverride = report.exitCode ?? 1;
    // Only now: a Ctrl-C during cleanup or while the reports are written must not kill the
    // process before they are done (a second one still forces the exit).
    interrupt.signal.removeEventListener('abort', onInterrupt);
    interrupt.dispose();
    process.off('unhandledRejection', onUnobserved);
  }
  return exitOverride;
}

/**
 * Revokes every key the ledger holds with the admin identity (H-02), through a client of its own:
 * the run's client may have been stopped by Ctrl-C or --max-time. A target that stops answering
 * is not waited for key by key: after a few transport failures in a row the rest are counted as
 * leaked, with the reason.
 *
 * Before the admin identity's own key goes (last), the target's key listing is reconciled with the
 * ledger: a key named with the run's tag that the ledger does not know — its mint got no answer,
 * or created a key although refused — is recorded and revoked as well.
 */
async function revokeMinted(http: HttpClient, driver: BackendDriver, admin: Identity, ledger: CleanupLedger, timeoutSeconds: number): Promise<string[]> {
  if (!ledger.outstanding().length && !ledger.mintsSent) return [];
  const client = http.sibling();
  const cleaner = new BackendDriver(driver.baseUrl, driver.profile, client, driver.clientId);
  cleaner.endpoints = driver.endpoints;
  let transportFailures = 0;
  let gaveUp = false;
  let lastFailure = '';
  const revoke = async (id: string): Promise<boolean> => {
    if (gaveUp) return false;
    try {
      const answer = await cleaner.revokeKey(bearer(admin.key), id);
      transportFailures = 0;
      return answer.status >= 200 && answer.status < 300;
    } catch (error) {
      if (error instanceof TransportError) {
        transportFailures += 1;
        lastFailure = error.message;
        // Choice: one timeout (a full --timeout already spent) or two other transport failures
        // in a row mean the target is gone; waiting that long for every key would hold the exit.
        gaveUp = error.failure === 'timeout' || transportFailures >= 2;
      }
      return false;
    }
  };
  const notes: string[] = [];
  try {
    await ledger.revokeAll(revoke, { holdLast: true });
    if (ledger.mintsSent && !gaveUp) notes.push(...(await reconcileWithListing(cleaner, admin, ledger, revoke)));
    await ledger.revokeAll(revoke);
  } finally {
    client.close();
  }
  if (gaveUp) notes.push(`cleanup: the target stopped answering (${lastFailure}); the remaining keys were not revoked (timeout ${timeoutSeconds} s per request)`);
  return notes;
}

/**
 * Lists the target's keys and settles every one named with the run's tag: unknown to the ledger →
 * recorded (minted) and revoked; acknowledged as revoked but listed active (`revokedAt: null`) →
 * revoked again. Returns the diagnostics to report.
 */
async function reconcileWithListing(cleaner: BackendDriver, admin: Identity, ledger: CleanupLedger, revoke: (id: string) => Promise<boolean>): Promise<string[]> {
  const unanswered = ledger.mintsUnanswered;
  const lookFor = `look for keys named "… ${ledger.tag}" on the target`;
  let listing: ReturnType<typeof parseWire<typeof KeyListing>> | undefined;
  let problem: string;
  try {
    const response = await cleaner.listKeys(bearer(admin.key));
    listing = response.status === 200 ? parseWire(KeyListing, response.json) : undefined;
    problem = listing && !listing.ok ? listing.error : `answered ${response.status}`;
  } catch (error) {
    problem = (error as Error).message;
  }
  if (!listing?.ok) {
    return unanswered ? [`cleanup: ${unanswered} mint(s) got no answer, and the key listing that would find their keys failed (${problem}): ${lookFor}`] : [];
  }
  const notes: string[] = [];
  let found = 0;
  for (const entry of listing.value) {
    const name = (entry as { name?: unknown }).name;
    if (!ledger.isNamedByThisRun(name)) continue;
    const revokedAt = (entry as { revokedAt?: unknown }).revokedAt;
    if (!ledger.has(entry.id)) {
      found += 1;
      ledger.recordMint(entry.id, `${String(name)}, found in the listing: its mint got no answer or was refused`);
      if (revokedAt !== null && revokedAt !== undefined) ledger.recordRevoked(entry.id);
      else if (await revoke(entry.id)) ledger.recordRevoked(entry.id);
    } else if (ledger.isRevoked(entry.id) && revokedAt === null) {
      ledger.recordStillActive(entry.id);
      notes.push(`cleanup: key ${entry.id} was still listed as active after its revocation was acknowledged; revoked again`);
      if (await revoke(entry.id)) ledger.recordRevoked(entry.id);
    }
  }
  if (found) notes.push(`cleanup: ${found} key(s) named by this run were not in the ledger (their mint got no answer, or created a key although refused); found in the listing and counted`);
  if (unanswered > found) notes.push(`cleanup: ${unanswered - found} mint(s) got no answer and no key of theirs is listed: a target that creates it later leaves it active — ${lookFor}`);
  return notes;
}

/** The last report assembled (for tests and the replay command). */
export let lastReport: Report | undefined;

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

async function openSession(
  driver: BackendDriver,
  options: BackendOptions,
  redactor: Redactor,
  ledger: CleanupLedger,
  identities: { admin?: Identity; user?: Identity },
  signal: AbortSignal,
): Promise<{ session: BackendSession; notes: string[]; sourceFailures: string[] }> {
  // Given keys are checked before anything is minted: a rejected key ends the run (exit 3) with
  // nothing left behind on the target. A key a check would use with a 401 yields only bogus
  // verdicts (e.g. AK-11 expects 403 from the user key).
  for (const [role, key, option] of [
    ['admin', options.adminKey, '--admin-key / EKSO_ADMIN_API_KEY'],
    ['user', options.userKey, '--user-key / EKSO_USER_API_KEY'],
  ] as const) {
    if (!key) continue;
    const probe = await driver.probe(bearer(key));
    if (probe.status === 401) throw new TargetUnusableError(`the ${role} key (${option}) was rejected with 401`);
  }
  if (options.adminKey) identities.admin = { key: options.adminKey };
  if (options.userKey) identities.user = { key: options.userKey };
  // The admin identity first: it is what revokes everything else at the end.
  for (const role of ['admin', 'user'] as const) {
    if (!identities[role] && driver.hasTestHooks) identities[role] = await hookIdentity(driver, role, redactor, ledger);
  }
  const hooks = driver.hasTestHooks ? new HookTokenSource(driver) : undefined;
  const command = options.tokenCommand ? new CommandTokenSource(options.tokenCommand, driver, redactor, undefined, signal) : undefined;
  const approver = options.deviceApproveCommand
    ? new CommandDeviceApprover(options.deviceApproveCommand, driver, redactor, undefined, signal)
    : driver.hasTestHooks
      ? new HookDeviceApprover(driver)
      : undefined;
  const device = options.deviceApproveCommand && approver ? new DeviceFlowTokenSource(driver, approver, signal) : undefined;
  const idleWindowSeconds = driver.profile.refreshIdleWindowSeconds ?? DEFAULT_PROFILE.refreshIdleWindowSeconds;
  const session = new BackendSession(
    driver,
    redactor,
    ledger,
    // Choice: a spare family is handed out only while younger than 10 s and than a tenth of the
    // idle window (a check treats a family as just issued only within its issue time's margin).
    new TokenSources({ ...(device ? { device } : {}), ...(command ? { command } : {}), ...(hooks ? { hooks } : {}) }, Math.min(10_000, idleWindowSeconds * 100)),
    identities,
    {
      policy: options.policy,
      checkRateLimit: options.checkRateLimit,
      idleWindowSeconds,
      concurrency: options.concurrency,
      otherClientId: options.otherClientId ?? driver.profile.otherClientId ?? DEFAULT_PROFILE.otherClientId,
      otherClientIdFrom: options.otherClientId ? 'flag' : driver.profile.otherClientId ? 'profile' : 'default',
    },
  );
  session.approver = approver;
  const notes: string[] = [];
  const clockNote = await session.readClock();
  if (clockNote) notes.push(clockNote);
  let sourceFailures: string[] = [];
  if (hooks || command || device) {
    // Whether the token endpoint takes the harness's client, and the second client of RT-08.
    for (const clientId of new Set([driver.clientId, session.options.otherClientId])) {
      const standing = await session.probeClient(clientId);
      if (standing.refused && clientId === driver.clientId) notes.push(`${session.clientRefusal()}; the checks that refresh tokens are skipped`);
    }
    const otherProblem = session.otherClientProblem();
    if (otherProblem) notes.push(otherProblem);
  }
  if (command || device) sourceFailures = await preflightTokenSources(session, driver, signal);
  return { session, notes: [...notes, ...sourceFailures.map((f) => `${f}; the checks that need those families are not run`)], sourceFailures };
}

/** Whether a selected check has something to run in this session (its skip reason is null). */
function canRun(check: { skipReason?: (s: BackendSession) => string | null }, session: BackendSession): boolean {
  try {
    return !check.skipReason?.(session);
  } catch {
    return false;
  }
}

/**
 * The token sources the user gave are tried before the checks, for each kind of family (Cli,
 * Web) in turn: one admin family from the source that would serve it, its access token presented
 * to the authenticated probe. So the run knows which kinds it can have before any property is
 * built (generators draw only from those), and a source that fails is found once, up front,
 * with one clear line — not as a page of inconclusive checks. A source that fails for a kind
 * hands over to the next configured source for it; if none is left, the checks needing that kind
 * are skipped (a device flow answering outside RFC 8628 is the DF checks' failure) or
 * inconclusive (a command that crashed, a token the target refused: the run cannot say which
 * side is wrong). A command that exits 3 ("cannot") is not a failure. The families obtained are
 * kept for the first checks that want them, while they stay fresh. Returns the failures.
 */
async function preflightTokenSources(session: BackendSession, driver: BackendDriver, signal: AbortSignal): Promise<string[]> {
  const sources = session.tokenSources;
  const failures: string[] = [];
  for (const marker of ['Cli', 'Web'] as const) {
    for (let name = sources.pickName(marker, 'admin'); name; name = sources.pickName(marker, 'admin')) {
      const source = describeSource(name);
      let pair: TokenPair;
      try {
        pair = await sources.fromSource(name, marker, 'admin');
      } catch (error) {
        // Stopped by Ctrl-C or --max-time: not the source's fault (the caller reports the stop).
        if (signal.aborted) throw new TransportError('aborted', driver.baseUrl, 'stopped while the token source ran');
        if (error instanceof Skip) {
          // "Cannot" (exit 3), or the target refused the harness's client: the source says so from now on.
          if (sources.pickName(marker, 'admin') === name) sources.fail(name, marker, 'admin', { reason: error.reason, verdict: 'skip' });
          continue;
        }
        if (!(error instanceof Inconclusive)) throw error;
        const deviation = error instanceof DeviceFlowDeviation;
        const reason = deviation ? `${error.diagnosis}; df.* reports it` : error.diagnosis;
        sources.fail(name, marker, 'admin', { reason, verdict: deviation ? 'skip' : 'inconclusive' });
        failures.push(`the token source (${source}) failed for ${marker} families before any check ran: ${reason}`);
        continue;
      }
      const probe = await driver.probe(bearer(pair.accessToken));
      if (probe.status === 401) {
        const reason = `the access token from ${source} was rejected with 401 by the authenticated probe`;
        sources.fail(name, marker, 'admin', { reason, verdict: 'inconclusive' });
        failures.push(`${reason} (${marker} family)`);
        continue;
      }
      sources.keep(pair);
      break;
    }
  }
  return failures;
}

/** An identity minted through the test hooks; revoked at the end (the admin one last). */
async function hookIdentity(driver: BackendDriver, role: UserRole, redactor: Redactor, ledger: CleanupLedger): Promise<Identity> {
  const answered = ledger.mintSent();
  const response = await driver.hookApiKey(role, ledger.keyName(`ekso-conformance ${role} ${new Date().toISOString()}`));
  answered();
  const parsed = parseWire(MintResponse, response.json);
  if (response.status !== 200 || !parsed.ok) {
    const why = response.status !== 200 ? `answered ${response.status}` : `answered ${response.status} without {id, rawKey} (${parsed.ok ? '' : parsed.error})`;
    throw new TargetUnusableError(`the test hook /api-key ${why}: cannot obtain the ${role} identity`);
  }
  redactor.add(parsed.value.rawKey);
  ledger.recordMint(parsed.value.id, `${role} identity`, role === 'admin' ? { last: true } : {});
  return { key: parsed.value.rawKey, id: parsed.value.id };
}

function classifyBackendError(error: unknown): { kind: 'inconclusive' | 'skip'; message: string } | null {
  if (error instanceof TransportError) return { kind: 'inconclusive', message: `transport: ${error.message}` };
  if (error instanceof ForeignHostError) return { kind: 'inconclusive', message: error.message };
  if (error instanceof Inconclusive) return { kind: 'inconclusive', message: error.diagnosis };
  return null;
}

function unrunResult(check: { id: string; title: string; requirements: readonly string[] }, seed: number, why: string): CheckResult {
  return { id: check.id, title: check.title, group: check.requirements[0]?.split('-')[0] ?? 'misc', requirements: [...check.requirements], status: 'inconclusive', runs: 0, durationMs: 0, message: `not run: ${why}`, seed };
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
