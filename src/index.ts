/**
 * ekso-conformance as a library: the same runs as the CLI, for a test suite of your own.
 *
 *     import { runBackendConformance, runSdkConformance } from 'ekso-conformance';
 *     const report = await runSdkConformance({ adapter: { createAdapter } });
 *     expect(report.requirements.filter((r) => r.status === 'failed')).toEqual([]);
 *
 * Each call resolves to the report object — the shape of `ekso-conformance.json` — with every
 * requirement listed and its verdict; with `{}` each runs against the embedded reference, as
 * `npx ekso-conformance` and `npx ekso-conformance sdk` do. Nothing is printed and no file is
 * written unless asked (`progress`, `out`). A bad configuration rejects with
 * `ConformanceConfigError`, before anything is started or sent; everything else — failed checks,
 * an unusable target, a stop through `signal` — is in the report (`report.exitCode` is the exit
 * code the CLI would end with).
 */
import { Redactor } from './engine/redact.js';
import { parsePolicy, STRICT, type Policy } from './model/policy.js';
import type { ReporterName } from './report/write.js';
import { REPORTERS, renderReport } from './report/write.js';
import type { Report } from './report/schema.js';
import { executeBackendRun, type BackendOptions } from './run/backend.js';
import { isConfigurationError, type CommonOptions, type RunEnvironment } from './run/common.js';
import { ConsoleOutput } from './run/console.js';
import { executeSdkRun, type SdkOptions } from './run/sdk.js';
import type { InProcessAdapterModule } from './targets/adapters/in-process.js';
import type { InProcessAdapterOptions, SdkAdapter } from './spec/adapter-protocol.js';
import { checkPatterns } from './cli/options.js';

export type { Report, CheckResult, RequirementVerdict, Finding, Summary, CheckStatus, RequirementStatus, Mode } from './report/schema.js';
export { ReportSchema } from './report/schema.js';
export type { Requirement, RequirementId, Level, Side, Group } from './spec/requirements.js';
export { REQUIREMENTS, requirement, eksoRequirements } from './spec/requirements.js';
export type { SdkAdapter, InProcessAdapterOptions, Capabilities, InitializeResult, CreateClientParams, CallParams, CallOutcome, Tokens, TokensRefreshedParams, AuthConfig } from './spec/adapter-protocol.js';
export { AdapterRpcError, RPC_ERRORS, PROTOCOL_VERSION } from './spec/adapter-protocol.js';
export type { InProcessAdapterModule } from './targets/adapters/in-process.js';
export type { ReporterName } from './report/write.js';
export { REPORTERS, REPORT_FILES, writeReports, renderReport as formatReport } from './report/write.js';
/** The reference TypeScript SDK's adapter factory: a worked example of an in-process adapter. */
export { createAdapter as createReferenceSdkAdapter } from './reference/sdk/index.js';

/** A configuration the run cannot start with (the CLI's exit 2): a bad option, profile, baseline or adapter module. */
export class ConformanceConfigError extends Error {
  override readonly name = 'ConformanceConfigError';
}

/** What both kinds of run take. Every field is optional: `{}` runs the embedded default. */
export interface ConformanceOptions {
  /** Base seed (default random; always recorded in the report). */
  seed?: number;
  /** fast-check runs per property (default: chosen per check). */
  numRuns?: number;
  /** Only the matching check ids or requirement ids (globs: `rt.*`, `AK-0?`), as `--check`. */
  check?: string | readonly string[];
  /** Stop starting new runs after this many seconds (unfinished checks: inconclusive). */
  maxTime?: number;
  /** `'strict'` (Ekso's, the default) or `'grace=<seconds>'`, or a parsed policy. */
  policy?: string | Policy;
  /** SHOULD failures also fail the run (`report.exitCode`). */
  strict?: boolean;
  /** A baseline file of expected failures, as `--baseline`. */
  baseline?: string;
  /** Run the i-th of n deterministic slices of the checks. */
  shard?: { index: number; count: number };
  /** Write the reports into this folder (default: none written). */
  out?: string;
  /** Which reports to write into `out` (default all four). */
  reporters?: readonly ReporterName[];
  /** Print progress as the CLI does: `true` for stderr, or a stream of your own (default: nothing). */
  progress?: boolean | NodeJS.WritableStream;
  /** With `progress`: the steps of failures and debug detail. */
  verbose?: boolean;
  /** Stops the run as Ctrl-C does: what was minted is revoked and the report says `interrupted`. */
  signal?: AbortSignal;
}

/** A backend run (the harness is the client): the CLI's `backend` flags as typed fields. */
export interface BackendConformanceOptions extends ConformanceOptions {
  baseUrl?: string;
  tenant?: string;
  adminKey?: string;
  userKey?: string;
  tokenCommand?: string;
  deviceApproveCommand?: string;
  /** OAuth client id (default `ekso-cli`). */
  clientId?: string;
  otherClientId?: string;
  /** A profile file (CONTRACT §3). */
  profile?: string;
  rate?: number;
  /** Most requests in flight (default 8). */
  concurrency?: number;
  /** Seconds per request (default 30). */
  timeout?: number;
  checkRateLimit?: boolean;
  insecure?: boolean;
  serverCmd?: string;
  readyUrl?: string;
  /** Seconds to wait for a started target (default 60). */
  readyTimeout?: number;
  image?: string;
  imagePort?: number;
  imageEnv?: Record<string, string>;
  /** A named broken variant of the embedded reference backend. */
  mutant?: string;
}

/** An adapter factory in this process: `createAdapter` of an in-process adapter module (CONTRACT §5.4). */
export type AdapterFactory = (options: InProcessAdapterOptions) => SdkAdapter | Promise<SdkAdapter>;

/** An SDK run (the harness is the server). */
export interface SdkConformanceOptions extends ConformanceOptions {
  /**
   * The SDK under test: a stdio command or a module path (as `--adapter`), an object exporting
   * `createAdapter` (and optionally `acceptsInjection`) as such a module would, or the factory
   * itself. Default: the reference TypeScript SDK.
   */
  adapter?: string | InProcessAdapterModule | AdapterFactory;
  /** How an in-process adapter is named in the report (default `in-process adapter`). */
  adapterName?: string;
  /** A named broken variant of the reference SDK. */
  mutant?: string;
  /** Seconds per adapter request (default 30). */
  timeout?: number;
}

/** Runs the backend checks; resolves to the report. With `{}`, against the embedded reference backend. */
export async function runBackendConformance(options: BackendConformanceOptions = {}): Promise<Report> {
  const common = commonOptions(options);
  const backend: BackendOptions = {
    ...common,
    ...defined({
      baseUrl: options.baseUrl,
      tenant: options.tenant,
      adminKey: options.adminKey,
      userKey: options.userKey,
      tokenCommand: options.tokenCommand,
      deviceApproveCommand: options.deviceApproveCommand,
      otherClientId: options.otherClientId,
      profile: options.profile,
      rate: options.rate,
      serverCmd: options.serverCmd,
      readyUrl: options.readyUrl,
      image: options.image,
      imagePort: options.imagePort,
      mutant: options.mutant,
    }),
    clientId: options.clientId ?? 'ekso-cli',
    concurrency: options.concurrency ?? 8,
    timeout: options.timeout ?? 30,
    checkRateLimit: options.checkRateLimit ?? false,
    insecure: options.insecure ?? false,
    readyTimeout: options.readyTimeout ?? 60,
    imageEnv: options.imageEnv ?? {},
  };
  return run(() => executeBackendRun(backend, environment(options)));
}

/** Runs the SDK checks; resolves to the report. With `{}`, against the reference TypeScript SDK in-process. */
export async function runSdkConformance(options: SdkConformanceOptions = {}): Promise<Report> {
  const common = commonOptions(options);
  const adapter = options.adapter;
  const inProcess =
    adapter === undefined || typeof adapter === 'string'
      ? undefined
      : { name: options.adapterName ?? 'createAdapter()', module: typeof adapter === 'function' ? { createAdapter: adapter as InProcessAdapterModule['createAdapter'], acceptsInjection: true } : adapter };
  const sdk: SdkOptions = {
    ...common,
    ...defined({ adapter: typeof adapter === 'string' ? adapter : undefined, mutant: options.mutant }),
    ...(inProcess ? { inProcess } : {}),
    timeout: options.timeout ?? 30,
  };
  return run(() => executeSdkRun(sdk, environment(options)));
}

async function run(execute: () => Promise<{ report: Report }>): Promise<Report> {
  try {
    return (await execute()).report;
  } catch (error) {
    if (isConfigurationError(error)) throw new ConformanceConfigError(error.message);
    throw error;
  }
}

function environment(options: ConformanceOptions): RunEnvironment {
  const stream = options.progress === true ? process.stderr : options.progress || undefined;
  const redactor = new Redactor();
  return {
    redactor,
    output: new ConsoleOutput({ quiet: !stream, verbose: Boolean(stream && options.verbose), color: stream ? ConsoleOutput.colorWanted(undefined, stream) : false, redactor, stream: stream ?? SILENT }),
    writeReports: options.out !== undefined,
    ...(options.signal ? { signal: options.signal } : {}),
    handleSignals: false,
  };
}

function commonOptions(options: ConformanceOptions): CommonOptions {
  const checks = options.check === undefined ? undefined : typeof options.check === 'string' ? [options.check] : [...options.check];
  const policy = typeof options.policy === 'string' ? parsePolicy(options.policy) : (options.policy ?? STRICT);
  if (!policy) throw new ConformanceConfigError(`policy ${JSON.stringify(options.policy)}: expected "strict" or "grace=<seconds>"`);
  let check: RegExp[] | undefined;
  try {
    check = checks?.length ? checkPatterns(checks.join(',')) : undefined;
  } catch (error) {
    throw new ConformanceConfigError(`check ${JSON.stringify(options.check)}: ${(error as Error).message}`);
  }
  const reporters = options.reporters ?? REPORTERS;
  const unknown = reporters.filter((r) => !REPORTERS.includes(r));
  if (unknown.length) throw new ConformanceConfigError(`unknown reporter(s) ${unknown.join(', ')} (known: ${REPORTERS.join(', ')})`);
  return {
    out: options.out ?? './reports',
    reporter: [...reporters],
    policy,
    strict: options.strict ?? false,
    quiet: true,
    verbose: false,
    color: false,
    ...defined({ seed: options.seed, numRuns: options.numRuns, maxTime: options.maxTime, baseline: options.baseline, shard: options.shard }),
    ...(check ? { check, checkText: checks!.join(',') } : {}),
  };
}

/** The fields of `values` that are set (the run options are exact: an absent field is not `undefined`). */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Where a run prints when nobody asked for progress. */
const SILENT = { write: () => true } as unknown as NodeJS.WritableStream;
