/**
 * What backend and SDK runs share (the CLI's commands and the library API alike): check selection (`--check`, `--shard`), baselines,
 * Ctrl-C handling, the replay command line, and writing the reports whatever happened.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { assembleReport, type AssembleInput } from '../engine/assemble.js';
import type { CheckDefinition } from '../engine/check.js';
import { policyName } from '../model/policy.js';
import type { Policy } from '../model/policy.js';
import type { CheckResult, Report } from '../report/schema.js';
import { writeReports, type ReporterName } from '../report/write.js';
import type { Redactor } from '../engine/redact.js';
import { AdapterLoadError } from '../targets/adapters/errors.js';
import { ProfileError } from '../targets/backend/profile.js';
import type { ConsoleOutput } from './console.js';

/** Bad usage or configuration: exit 2 with one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The target cannot be used at all: exit 3 with one line. */
export class TargetUnusableError extends Error {
  override readonly name = 'TargetUnusableError';
}

export interface CommonOptions {
  out: string;
  reporter: ReporterName[];
  seed?: number;
  numRuns?: number;
  check?: RegExp[];
  checkText?: string;
  maxTime?: number;
  policy: Policy;
  strict: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  baseline?: string;
  shard?: { index: number; count: number };
  path?: string;
  replayPath?: string;
  /** Requirements whose known violations a replayed finding was found past. */
  tolerate?: string[];
}

export function selectChecks<Env>(
  all: readonly CheckDefinition<Env>[],
  options: Pick<CommonOptions, 'check' | 'checkText' | 'shard'>,
): { selected: CheckDefinition<Env>[]; unselectedReason?: string } {
  let selected = [...all];
  const reasons: string[] = [];
  if (options.check?.length) {
    selected = selected.filter((c) => options.check!.some((re) => re.test(c.id) || c.requirements.some((r) => re.test(r))));
    reasons.push(`not selected by --check ${options.checkText ?? ''}`.trim());
    if (!selected.length) throw new UsageError(`--check ${options.checkText ?? ''} matches no check or requirement (see \`ekso-conformance list\`)`);
  }
  if (options.shard && options.shard.count > 1) {
    // Deterministic: the i-th of every n checks in id order, whatever the selection.
    const ordered = [...selected].sort((a, b) => a.id.localeCompare(b.id));
    const mine = new Set(ordered.filter((_, k) => k % options.shard!.count === options.shard!.index - 1).map((c) => c.id));
    selected = selected.filter((c) => mine.has(c.id));
    reasons.push(`run in another shard than ${options.shard.index}/${options.shard.count}`);
  }
  return { selected, ...(reasons.length ? { unselectedReason: reasons.join('; ') } : {}) };
}

/**
 * Baseline file: one check or requirement id per line (`#` comments), or a JSON array of ids, or
 * `{"expectedFailures": [...]}`.
 */
export async function loadBaseline(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`baseline ${file} is not valid JSON: ${(error as Error).message}`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { expectedFailures?: unknown }).expectedFailures;
    if (!Array.isArray(list) || !list.every((e) => typeof e === 'string')) {
      throw new UsageError(`baseline ${file}: expected an array of ids or {"expectedFailures": [ids]}`);
    }
    return list as string[];
  }
  return trimmed
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/**
 * Where a run's progress goes, whether it writes its report files, and what stops it. The CLI
 * prints to stderr, writes the reports and stops on Ctrl-C; the library API prints nothing and
 * writes nothing unless asked, and stops on the caller's AbortSignal.
 */
export interface RunEnvironment {
  /** The run's redactor: the run registers every secret it meets; the output and the report go through it. */
  redactor: Redactor;
  /** The console output of the run (made with `redactor`). */
  output: ConsoleOutput;
  /** Write the reports named by `options.reporter` into `options.out`. */
  writeReports: boolean;
  /** Stops the run as Ctrl-C does: what was minted is revoked, the report is still assembled. */
  signal?: AbortSignal;
  /** SIGINT / SIGTERM stop the run (a second one ends the process): the CLI's behaviour. */
  handleSignals: boolean;
}

/**
 * A configuration the run cannot start with (the CLI's exit 2, the library's
 * `ConformanceConfigError`): bad options, a bad profile or baseline, an adapter module that
 * cannot be loaded. Thrown before anything is started or sent.
 */
export function isConfigurationError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof ProfileError || error instanceof AdapterLoadError;
}

/** What a run ends with: its report (secrets redacted), the exit code it means, the files written. */
export interface RunOutcome {
  report: Report;
  exitCode: number;
  written: string[];
}

/**
 * The run's stop signal: the caller's signal and, for the CLI, Ctrl-C / SIGTERM — the first stops
 * the run (cleanup and reports still happen), a second ends the process.
 */
export function interruption(output: ConsoleOutput, env: Pick<RunEnvironment, 'signal' | 'handleSignals'> = { handleSignals: true }): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort();
  if (env.signal?.aborted) controller.abort();
  else env.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (!env.handleSignals) {
    return { signal: controller.signal, dispose: () => env.signal?.removeEventListener('abort', onCallerAbort) };
  }
  let count = 0;
  const onSignal = (name: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      output.line(`\n${name}: stopping — revoking what was minted and writing the reports (again to force quit)`);
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      env.signal?.removeEventListener('abort', onCallerAbort);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Shell-quotes one argument for the replay command line. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Writes the selected reports; a failure to write is reported, never thrown. */
export async function writeAll(report: Report, options: Pick<CommonOptions, 'out' | 'reporter'>, output: ConsoleOutput): Promise<string[]> {
  try {
    return await writeReports(report, { outDir: options.out, reporters: options.reporter });
  } catch (error) {
    output.line(`ekso-conformance: ${(error as Error).message}`);
    const written = (error as { written?: string[] }).written;
    return written ?? [];
  }
}

/**
 * Creates the report folder before the run starts: a run whose reports cannot be written is a
 * configuration error (exit 2), found before any request rather than after the whole run.
 */
export async function prepareOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write reports to ${dir} (--out): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export { oneLine } from '../engine/text.js';

/** The result of a selected check that never ran (setup failed, stopped first): inconclusive, never passed. */
export function unrunResult(check: { id: string; title: string; requirements: readonly string[] }, seed: number, why: string): CheckResult {
  return { id: check.id, title: check.title, group: check.requirements[0]?.split('-')[0] ?? 'misc', requirements: [...check.requirements], status: 'inconclusive', runs: 0, durationMs: 0, message: `not run: ${why}`, seed };
}

/** What a run of either mode knows at its end, beside its options. */
export interface RunEnd extends Pick<AssembleInput, 'mode' | 'target' | 'seed' | 'startedAt' | 'options' | 'checks' | 'coverage' | 'cleanup'> {
  selection: { unselectedReason?: string };
  baseline: string[] | undefined;
  diagnostics: readonly string[];
  interrupted: boolean;
  /** An exit code decided before any check ran (3: the target or adapter could not be used). */
  exitOverride: number | undefined;
}

/**
 * The end of every run, whatever happened before: the report assembled (verdicts computed from
 * the checks' results), redacted, written where the environment says, summarised on the console.
 * The report states the exit code the process ends with.
 */
export async function finishRun(end: RunEnd, options: CommonOptions, env: RunEnvironment): Promise<RunOutcome> {
  const { redactor, output } = env;
  const report = assembleReport({
    mode: end.mode,
    target: end.target,
    policy: policyName(options.policy),
    seed: end.seed,
    startedAt: end.startedAt,
    finishedAt: new Date(),
    options: end.options,
    checks: end.checks,
    coverage: end.coverage,
    ...(end.selection.unselectedReason ? { unselectedReason: end.selection.unselectedReason } : {}),
    strict: options.strict,
    cleanup: end.cleanup,
    diagnostics: end.diagnostics.map((d) => redactor.text(d)),
    interrupted: end.interrupted,
    ...(options.shard ? { shard: options.shard } : {}),
    ...(end.baseline ? { baseline: { file: options.baseline!, entries: end.baseline } } : {}),
  });
  if (end.exitOverride !== undefined) report.exitCode = end.exitOverride;
  const redacted = redactor.value(report);
  const written = env.writeReports ? await writeAll(redacted, options, output) : [];
  output.summary(report, written);
  return { report: redacted, exitCode: end.exitOverride ?? report.exitCode ?? 1, written };
}
