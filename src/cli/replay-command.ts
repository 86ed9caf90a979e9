/**
 * `replay <report.json> [--check ID] [target and token-source options]`: re-runs the failed checks
 * of a report with their seed, path and replayPath.
 *
 * A report is data from elsewhere — a CI artifact, a colleague's mail, a file anyone may have
 * edited — so replay takes from it only what is inert: the check ids, seeds, paths, the policy, the
 * number of runs, the client id, the transport settings and the name of an embedded mutant, all
 * validated (`RecordedOptions`). It never executes a command named in a report (`--server-cmd`,
 * `--image`, `--token-command`, `--device-approve-command`, `--adapter`) and never sends anything
 * to a target named in one: the target and the commands come from replay's own command line, as
 * for any run, and the plain-http rule (H-06) applies as for any run. Choice: without a target on
 * the command line, replay stops and prints the recorded one; `--accept-recorded-target` then uses
 * the recorded `--base-url` / `--tenant` (never a recorded command).
 * A report of the embedded reference or of a `--mutant` names no target: it replays as it is.
 */
import { dirname, join } from 'node:path';
import { Redactor } from '../engine/redact.js';
import { backendMutant, sdkMutant } from '../mutants/index.js';
import type { Policy } from '../model/policy.js';
import type { Report } from '../report/schema.js';
import { readReport, REPORTERS, type ReporterName } from '../report/write.js';
import { runBackendCommand, type BackendOptions } from './backend-command.js';
import { ConsoleOutput } from '../run/console.js';
import type { Io } from './main.js';
import * as parse from './options.js';
import { describeRecordedIssues, RecordedCounterexample, RecordedOptions } from '../run/recorded-options.js';
import { shellQuote } from '../run/common.js';
import type { SdkOptions } from './sdk-command.js';

/** Options of `replay` that only a backend report can use. */
const BACKEND_FLAGS = {
  baseUrl: '--base-url',
  tenant: '--tenant',
  serverCmd: '--server-cmd',
  readyUrl: '--ready-url',
  readyTimeout: '--ready-timeout',
  image: '--image',
  imagePort: '--image-port',
  imageEnv: '--image-env',
  insecure: '--insecure',
  adminKey: '--admin-key',
  userKey: '--user-key',
  tokenCommand: '--token-command',
  deviceApproveCommand: '--device-approve-command',
  clientId: '--client-id',
  otherClientId: '--other-client-id',
  profile: '--profile',
  rate: '--rate',
  concurrency: '--concurrency',
  checkRateLimit: '--check-rate-limit',
} as const;

/** Why the replay cannot go on (exit 2), or what it will do. */
type Plan<T> = { error: string } | { options: Omit<T, keyof ReplayCommon>; notes: string[] };

interface ReplayCommon {
  out: string;
  reporter: ReporterName[];
  seed: number;
  check: RegExp[];
  checkText: string;
  policy: Policy;
  strict: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  path?: string;
  replayPath?: string;
  numRuns?: number;
}

/**
 * @param raw commander's options of `replay`
 * @param fromCommandLine the options the user typed (not defaults, not the environment)
 */
export async function runReplay(file: string, raw: Record<string, unknown>, io: Io, fromCommandLine: ReadonlySet<string> = new Set()): Promise<number> {
  const color = ConsoleOutput.colorWanted(raw.color as boolean | undefined);
  const output = new ConsoleOutput({ quiet: false, verbose: false, color, redactor: new Redactor(), stream: io.stderr });
  const fail = (message: string) => {
    output.line(`ekso-conformance: ${message}`);
    return 2;
  };
  let report: Report;
  try {
    report = await readReport(file);
  } catch (error) {
    return fail((error as Error).message);
  }
  const recorded = RecordedOptions.safeParse(report.options ?? {});
  if (!recorded.success) return fail(`${file}: invalid recorded options: ${describeRecordedIssues(recorded.error)}`);
  let policy: Policy;
  try {
    policy = parse.policy(report.policy);
  } catch (error) {
    return fail(`${file}: invalid recorded policy ${JSON.stringify(report.policy)}: ${(error as Error).message}`);
  }
  const wanted = raw.check as string | undefined;
  const targets = report.checks.filter((c) => (wanted ? c.id === wanted : c.status === 'failed'));
  if (wanted && !targets.length) return fail(`${file} has no check ${wanted}`);
  if (!targets.length) {
    output.line(`${file}: no failed check to replay`);
    return 0;
  }
  for (const check of targets) {
    const coordinates = RecordedCounterexample.safeParse({ id: check.id, path: check.path, replayPath: check.replayPath, seed: report.seed });
    if (!coordinates.success) return fail(`${file}: invalid recorded check ${JSON.stringify(check.id).slice(0, 120)}: ${describeRecordedIssues(coordinates.error)}`);
  }

  const plan = report.mode === 'backend' ? backendPlan(file, recorded.data, raw, fromCommandLine) : sdkPlan(file, recorded.data, raw, fromCommandLine);
  if ('error' in plan) return fail(plan.error);
  for (const note of plan.notes) output.line(`ekso-conformance: ${note}`);

  const outRoot = (raw.out as string | undefined) ?? join(dirname(file), 'replay');
  let worst = 0;
  for (const check of targets) {
    const common: ReplayCommon = {
      out: join(outRoot, check.id),
      reporter: (raw.reporter as ReporterName[] | undefined) ?? [...REPORTERS],
      seed: report.seed,
      check: parse.checkPatterns(check.id),
      checkText: check.id,
      policy,
      strict: Boolean(recorded.data.strict),
      quiet: Boolean(raw.quiet),
      verbose: Boolean(raw.verbose),
      color,
      ...(check.path ? { path: check.path } : {}),
      ...(check.replayPath ? { replayPath: check.replayPath } : {}),
      ...(recorded.data.numRuns !== undefined ? { numRuns: recorded.data.numRuns } : {}),
    };
    output.line(`replaying ${check.id} (seed ${report.seed}${check.path ? `, path ${check.path}` : ''})`);
    let code: number;
    if (report.mode === 'backend') {
      code = await runBackendCommand({ ...common, ...(plan.options as Omit<BackendOptions, keyof ReplayCommon>) });
    } else {
      const { runSdkCommand } = await import('./sdk-command.js');
      code = await runSdkCommand({ ...common, ...(plan.options as Omit<SdkOptions, keyof ReplayCommon>) });
    }
    output.line(`${check.id}: ${code === 1 ? 'FAILED again' : code === 0 ? 'passed now (fixed, or not reproduced)' : code === 2 ? 'not replayed (configuration error)' : 'inconclusive'}`);
    worst = code === 1 || worst === 1 ? 1 : Math.max(worst, code);
    if (code === 2) break;
  }
  return worst;
}

/** The recorded target, as the options that gave it (for messages), or null (embedded, mutant). */
function recordedTarget(recorded: RecordedOptions): string | null {
  const parts: string[] = [];
  if (recorded.baseUrl) parts.push(`--base-url ${shellQuote(recorded.baseUrl)}`);
  if (recorded.tenant) parts.push(`--tenant ${shellQuote(recorded.tenant)}`);
  if (recorded.serverCmd) parts.push(`--server-cmd ${shellQuote(recorded.serverCmd)}`);
  if (recorded.readyUrl) parts.push(`--ready-url ${shellQuote(recorded.readyUrl)}`);
  if (recorded.image) parts.push(`--image ${shellQuote(recorded.image)}`);
  return parts.length ? parts.join(' ') : null;
}

/** The recorded options that replay never takes from a report, when the command line lacks them. */
function notTaken(recorded: RecordedOptions, raw: Record<string, unknown>, names: Array<[keyof RecordedOptions, string, string]>): string | null {
  const missing = names.filter(([key, , rawKey]) => recorded[key] !== undefined && recorded[key] !== false && !raw[rawKey]).map(([, flag]) => flag);
  return missing.length ? `the recorded run also had ${missing.join(', ')}: replay takes ${missing.length === 1 ? 'it' : 'them'} only from its own command line (give ${missing.length === 1 ? 'it' : 'them'} again if the check needs ${missing.length === 1 ? 'it' : 'them'})` : null;
}

function backendPlan(file: string, recorded: RecordedOptions, raw: Record<string, unknown>, typed: ReadonlySet<string>): Plan<BackendOptions> {
  if (typed.has('adapter')) return { error: `--adapter applies to SDK reports; ${file} is a backend report` };
  const notes: string[] = [];
  const given = Boolean(raw.baseUrl || raw.tenant || raw.serverCmd || raw.image);
  const recordedText = recordedTarget(recorded);
  let target: Partial<BackendOptions> = {};
  if (given) {
    target = {
      ...(raw.baseUrl ? { baseUrl: raw.baseUrl as string } : {}),
      ...(raw.tenant ? { tenant: raw.tenant as string } : {}),
      ...(raw.serverCmd ? { serverCmd: raw.serverCmd as string } : {}),
      ...(raw.readyUrl ? { readyUrl: raw.readyUrl as string } : {}),
      ...(raw.image ? { image: raw.image as string } : {}),
      ...(raw.imagePort !== undefined ? { imagePort: raw.imagePort as number } : {}),
      imageEnv: (raw.imageEnv as Record<string, string> | undefined) ?? {},
    };
    if (recorded.mutant) notes.push(`the recorded mutant ${recorded.mutant} is not used: a target was given`);
  } else if (recordedText) {
    if (!raw.acceptRecordedTarget) {
      return {
        error:
          `${file} was recorded against ${recordedText}: replay takes the target and every command from its own command line, never from a report. ` +
          `Give the target again (--base-url URL, --tenant NAME, --server-cmd CMD or --image IMAGE)` +
          (recorded.baseUrl || recorded.tenant ? `, or --accept-recorded-target to use the recorded ${recorded.baseUrl ? '--base-url' : '--tenant'} (recorded commands are never run)` : ''),
      };
    }
    if (recorded.serverCmd || recorded.image) {
      return {
        error: `${file} records a target started by ${recorded.serverCmd ? '--server-cmd' : '--image'} (${recordedText}): replay never runs a command from a report, and --accept-recorded-target accepts only a recorded --base-url or --tenant; give --server-cmd or --image on the command line`,
      };
    }
    try {
      target = recorded.baseUrl ? { baseUrl: parse.url(recorded.baseUrl) } : { tenant: parse.tenant(recorded.tenant!) };
    } catch (error) {
      return { error: `${file}: invalid recorded target ${recordedText}: ${(error as Error).message}` };
    }
    notes.push(`using the recorded target ${recordedText} (--accept-recorded-target)`);
  }
  const embedded = !given && !recordedText;
  if (embedded && recorded.mutant && !backendMutant(recorded.mutant)) return { error: `${file}: unknown backend mutant ${recorded.mutant} (see list --mutants)` };
  const skipped = notTaken(recorded, raw, [
    ['tokenCommand', '--token-command', 'tokenCommand'],
    ['deviceApproveCommand', '--device-approve-command', 'deviceApproveCommand'],
    ['profile', '--profile', 'profile'],
    ['checkRateLimit', '--check-rate-limit', 'checkRateLimit'],
    ['insecure', '--insecure', 'insecure'],
  ]);
  if (skipped) notes.push(skipped);
  return {
    notes,
    options: {
      ...target,
      ...(embedded && recorded.mutant ? { mutant: recorded.mutant } : {}),
      ...(raw.adminKey ? { adminKey: raw.adminKey as string } : {}),
      ...(raw.userKey ? { userKey: raw.userKey as string } : {}),
      ...(raw.tokenCommand ? { tokenCommand: raw.tokenCommand as string } : {}),
      ...(raw.deviceApproveCommand ? { deviceApproveCommand: raw.deviceApproveCommand as string } : {}),
      ...(raw.profile ? { profile: raw.profile as string } : {}),
      clientId: (raw.clientId as string | undefined) ?? recorded.clientId ?? 'ekso-cli',
      ...((raw.otherClientId ?? recorded.otherClientId) !== undefined ? { otherClientId: (raw.otherClientId as string | undefined) ?? recorded.otherClientId! } : {}),
      concurrency: (raw.concurrency as number | undefined) ?? recorded.concurrency ?? 8,
      timeout: (raw.timeout as number | undefined) ?? recorded.timeout ?? 30,
      ...((raw.rate ?? recorded.rate) !== undefined ? { rate: (raw.rate as number | undefined) ?? recorded.rate! } : {}),
      checkRateLimit: Boolean(raw.checkRateLimit),
      insecure: Boolean(raw.insecure),
      readyTimeout: (raw.readyTimeout as number | undefined) ?? 60,
    },
  };
}

function sdkPlan(file: string, recorded: RecordedOptions, raw: Record<string, unknown>, typed: ReadonlySet<string>): Plan<SdkOptions> {
  const misplaced = Object.entries(BACKEND_FLAGS).filter(([key]) => typed.has(key)).map(([, flag]) => flag);
  if (misplaced.length) return { error: `${misplaced.join(', ')} ${misplaced.length === 1 ? 'applies' : 'apply'} to backend reports; ${file} is an SDK report` };
  const notes: string[] = [];
  const adapter = raw.adapter as string | undefined;
  if (!adapter && recorded.adapter) {
    return {
      error:
        `${file} was recorded with --adapter ${shellQuote(recorded.adapter)}: replay never runs a command or loads a module named in a report` +
        `${raw.acceptRecordedTarget ? ' (--accept-recorded-target accepts only a recorded URL)' : ''}; give --adapter again`,
    };
  }
  if (adapter && recorded.mutant) notes.push(`the recorded mutant ${recorded.mutant} is not used: an adapter was given`);
  if (!adapter && recorded.mutant && !sdkMutant(recorded.mutant)) return { error: `${file}: unknown SDK mutant ${recorded.mutant} (see list --mutants)` };
  return {
    notes,
    options: {
      ...(adapter ? { adapter } : recorded.mutant ? { mutant: recorded.mutant } : {}),
      timeout: (raw.timeout as number | undefined) ?? recorded.timeout ?? 30,
    },
  };
}
