/**
 * `ekso-conformance [backend]`: tests a backend (the harness is the client).
 *
 * Order of events: validate the configuration (exit 2), start or reach the target and discover it
 * (exit 3 when unusable), gather identities and token sources, run the selected checks, revoke
 * everything minted, write the reports — also when checks fail, crash or Ctrl-C arrives.
 */
import { CleanupLedger } from '../engine/ledger.js';
import { Redactor } from '../engine/redact.js';
import { randomSeed, runChecks } from '../engine/runner.js';
import { Inconclusive } from '../engine/outcomes.js';
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
  HookTokenSource,
  TokenSources,
} from '../targets/backend/token-sources.js';
import { ForeignHostError, HttpClient, TransportError } from '../targets/http.js';
import { MintResponse, parseWire } from '../spec/wire.js';
import { ConsoleOutput } from './console.js';
import { isLoopbackHost } from './options.js';
import {
  interruption,
  loadBaseline,
  selectChecks,
  shellQuote,
  TargetUnusableError,
  UsageError,
  writeAll,
  type CommonOptions,
} from './run-common.js';
import { startServerTarget, type StartedTarget } from './targets.js';

export interface BackendOptions extends CommonOptions {
  baseUrl?: string;
  tenant?: string;
  adminKey?: string;
  userKey?: string;
  tokenCommand?: string;
  deviceApproveCommand?: string;
  clientId: string;
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
  const output = new ConsoleOutput({ quiet: options.quiet, verbose: options.verbose, color: options.color, redactor });
  const startedAt = new Date();
  const seed = options.seed ?? randomSeed();

  // ---- configuration (exit 2) ----------------------------------------------------------------
  let profile: Profile = {};
  let baseline: string[] | undefined;
  let selection: ReturnType<typeof selectChecks<BackendSession>>;
  try {
    if (options.profile) profile = await loadProfile(options.profile);
    if (options.baseline) baseline = await loadBaseline(options.baseline);
    selection = selectChecks(BACKEND_CHECKS, options);
    validateTargetOptions(options);
  } catch (error) {
    if (error instanceof ProfileError || error instanceof UsageError) {
      output.line(`ekso-conformance: ${error.message}`);
      return 2;
    }
    throw error;
  }

  // ---- the target (exit 3 when unusable) ---------------------------------------------------
  const ledger = new CleanupLedger();
  const diagnostics: string[] = [];
  const interrupt = interruption(output);
  let embedded: EmbeddedTarget | undefined;
  let started: StartedTarget | undefined;
  let http: HttpClient | undefined;
  let session: BackendSession | undefined;
  let results: CheckResult[] = [];
  let targetDescription: string | undefined;
  let baseUrl = options.baseUrl ?? (options.tenant ? `https://${options.tenant}.ekso.app` : undefined);
  let exitOverride: number | undefined;
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
      http = new HttpClient({
        redactor,
        allowedOrigins: [baseUrl],
        ratePerSecond: options.rate ?? (loopback ? null : 40),
        concurrency: options.concurrency,
        timeoutMs: options.timeout * 1000,
      });
      const driver = new BackendDriver(baseUrl, profile, http, options.clientId);
      output.info(`ekso-conformance backend → ${baseUrl}${targetDescription ? ` (${targetDescription})` : ''}, policy ${policyName(options.policy)}, seed ${seed}`);
      try {
        await driver.discover();
      } catch (error) {
        if (error instanceof TransportError) throw new TargetUnusableError(`the target is unreachable: ${error.message}`);
        throw error;
      }
      session = await openSession(driver, options, redactor, ledger, interrupt.signal);
      if (!driver.endpoints.discovery) diagnostics.push(`discovery: ${driver.endpoints.discoveryProblem}`);
    } catch (error) {
      if (error instanceof TargetUnusableError) {
        output.line(`ekso-conformance: ${error.message}`);
        diagnostics.push(error.message);
        exitOverride = 3;
      } else throw error;
    }

    // ---- the checks ----------------------------------------------------------------------------
    if (session) {
      const s = session;
      results = await runChecks(selection.selected, s, {
        baseSeed: seed,
        ...(options.numRuns ? { numRuns: options.numRuns } : {}),
        ...(options.maxTime ? { deadline: startedAt.getTime() + options.maxTime * 1000 } : {}),
        signal: interrupt.signal,
        ...(options.path && selection.selected.length === 1
          ? { replay: { checkId: selection.selected[0]!.id, path: options.path, ...(options.replayPath ? { replayPath: options.replayPath } : {}) } }
          : {}),
        setSink: (sink) => {
          http!.sink = sink;
        },
        classifyError: classifyBackendError,
        replayCommand: (c) => replayCommand(options, baseUrl!, seed, c),
        onCheckStart: (c) => output.checkStarted(c),
        onCheckDone: (r) => output.checkDone(r),
        debug: (m) => output.debug(m),
      });
    } else {
      results = selection.selected.map((c) => unrunResult(c, seed, diagnostics[0] ?? 'the target could not be used'));
    }
  } finally {
    // ---- cleanup, reports ----------------------------------------------------------------------
    interrupt.dispose();
    if (session) {
      const admin = session.identities.admin;
      if (admin) {
        await ledger.revokeAll(async (id) => {
          const answer = await session!.revokeKey(id, { by: bearer(admin.key) }).catch(() => undefined);
          return answer !== undefined && answer.status >= 200 && answer.status < 300;
        });
      }
    }
    const cleanup = ledger.counts();
    if (cleanup.leaked) diagnostics.push(`cleanup: ${cleanup.leaked} minted key(s) could not be revoked`);
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
    const written = await writeAll(redactor.value(report), options, output);
    output.summary(report, written);
    lastReport = report;
    if (exitOverride === undefined) exitOverride = report.exitCode ?? 1;
  }
  return exitOverride;
}

/** The last report assembled (for tests and the replay command). */
export let lastReport: Report | undefined;

function validateTargetOptions(options: BackendOptions): void {
  if (options.baseUrl && options.tenant) throw new UsageError('give --base-url or --tenant, not both');
  const sources = [options.baseUrl || options.tenant ? 'url' : null, options.serverCmd ? 'server' : null, options.image ? 'image' : null].filter(Boolean);
  if (options.image && options.serverCmd) throw new UsageError('give --server-cmd or --image, not both');
  if (options.serverCmd && !options.readyUrl && !options.baseUrl) throw new UsageError('--server-cmd needs --base-url (where it listens) or --ready-url');
  if (options.mutant && sources.length) throw new UsageError('--mutant selects a broken embedded reference backend: it cannot be combined with a target');
  const url = options.baseUrl;
  if (url) {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname) && !options.insecure) {
      throw new UsageError(`refusing plain http:// to ${parsed.hostname} (not loopback): use https, or --insecure if you really mean it`);
    }
  }
}

async function openSession(driver: BackendDriver, options: BackendOptions, redactor: Redactor, ledger: CleanupLedger, signal: AbortSignal): Promise<BackendSession> {
  const identities: { admin?: Identity; user?: Identity } = {};
  for (const role of ['admin', 'user'] as const) {
    const given = role === 'admin' ? options.adminKey : options.userKey;
    if (given) identities[role] = { key: given };
    else if (driver.hasTestHooks) identities[role] = await hookIdentity(driver, role, redactor, ledger);
  }
  if (options.adminKey) {
    const probe = await driver.probe(bearer(options.adminKey));
    if (probe.status === 401) throw new TargetUnusableError('the admin key (--admin-key / EKSO_ADMIN_API_KEY) was rejected with 401');
  }
  const hooks = driver.hasTestHooks ? new HookTokenSource(driver) : undefined;
  const command = options.tokenCommand ? new CommandTokenSource(options.tokenCommand, driver, redactor) : undefined;
  const approver = options.deviceApproveCommand
    ? new CommandDeviceApprover(options.deviceApproveCommand, driver, redactor)
    : driver.hasTestHooks
      ? new HookDeviceApprover(driver)
      : undefined;
  const device = options.deviceApproveCommand && approver ? new DeviceFlowTokenSource(driver, approver, signal) : undefined;
  const session = new BackendSession(
    driver,
    redactor,
    ledger,
    new TokenSources({ ...(device ? { device } : {}), ...(command ? { command } : {}), ...(hooks ? { hooks } : {}) }),
    identities,
    {
      policy: options.policy,
      checkRateLimit: options.checkRateLimit,
      idleWindowSeconds: driver.profile.refreshIdleWindowSeconds ?? DEFAULT_PROFILE.refreshIdleWindowSeconds,
      concurrency: options.concurrency,
      otherClientId: driver.profile.otherClientId ?? DEFAULT_PROFILE.otherClientId,
    },
  );
  session.approver = approver;
  return session;
}

/** An identity minted through the test hooks; revoked at the end (the admin one last). */
async function hookIdentity(driver: BackendDriver, role: UserRole, redactor: Redactor, ledger: CleanupLedger): Promise<Identity> {
  const response = await driver.hookApiKey(role, `ekso-conformance ${role} ${new Date().toISOString()}`);
  const parsed = parseWire(MintResponse, response.json);
  if (response.status !== 200 || !parsed.ok) throw new TargetUnusableError(`the test hook /api-key answered ${response.status}: cannot obtain the ${role} identity`);
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

/** A command line that replays one check: same target, same seed; secrets only by env var. */
function replayCommand(options: BackendOptions, baseUrl: string, seed: number, check: { id: string; path?: string; replayPath?: string }): string {
  const args = ['npx', 'ekso-conformance'];
  if (options.baseUrl) args.push('--base-url', options.baseUrl);
  else if (options.tenant) args.push('--tenant', options.tenant);
  else if (options.serverCmd) args.push('--server-cmd', options.serverCmd, ...(options.readyUrl ? ['--ready-url', options.readyUrl] : []));
  else if (options.image) args.push('--image', options.image);
  if (options.mutant) args.push('--mutant', options.mutant);
  if (options.profile) args.push('--profile', options.profile);
  if (options.clientId !== 'ekso-cli') args.push('--client-id', options.clientId);
  if (options.tokenCommand) args.push('--token-command', options.tokenCommand);
  if (options.deviceApproveCommand) args.push('--device-approve-command', options.deviceApproveCommand);
  const policy = policyName(options.policy);
  if (policy !== 'strict') args.push('--policy', policy);
  args.push('--check', check.id, '--seed', String(seed));
  if (check.path) args.push('--path', check.path);
  if (check.replayPath) args.push('--replay-path', check.replayPath);
  const env = [options.adminKey ? 'EKSO_ADMIN_API_KEY=…' : '', options.userKey ? 'EKSO_USER_API_KEY=…' : ''].filter(Boolean);
  void baseUrl;
  return [...env, ...args.map(shellQuote)].join(' ');
}

/** The options as recorded in the report (no secrets: keys are only said to be present). */
function recordedOptions(options: BackendOptions): Record<string, unknown> {
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
    adminKey: options.adminKey ? 'given' : 'none',
    userKey: options.userKey ? 'given' : 'none',
    policy: policyName(options.policy),
    strict: options.strict,
    checkRateLimit: options.checkRateLimit,
    ...(options.numRuns ? { numRuns: options.numRuns } : {}),
    ...(options.checkText ? { check: options.checkText } : {}),
    ...(options.maxTime ? { maxTime: options.maxTime } : {}),
    concurrency: options.concurrency,
    timeout: options.timeout,
    ...(options.rate ? { rate: options.rate } : {}),
  };
}
