/**
 * Runs an SDK run in-process (src/run/sdk.ts, as the CLI and the library API do) with the CLI's
 * defaults; returns its exit code, its report and what it printed — its console goes to a stream
 * of its own, so that a test running dozens of harness runs stays readable. A bad configuration is
 * exit 2 with its line, as in the CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandEnvironment, runAsCommand } from '../../src/cli/command.js';
import { executeSdkRun, type SdkOptions } from '../../src/run/sdk.js';
import { STRICT } from '../../src/model/policy.js';
import type { Report } from '../../src/report/schema.js';

export type SdkRunOptions = Partial<SdkOptions> & { keepOut?: boolean };

export interface SdkRun {
  code: number;
  report: Report;
  outDir: string;
  /** What the harness wrote on stderr during the run. */
  console: string;
  durationMs: number;
}

export async function runSdk(options: SdkRunOptions = {}): Promise<SdkRun> {
  const { keepOut, ...rest } = options;
  const outDir = rest.out ?? (await mkdtemp(join(tmpdir(), 'ekso-sdk-run-')));
  const captured: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      captured.push(String(chunk));
      done();
    },
  });
  const started = Date.now();
  const full: SdkOptions = { out: outDir, reporter: ['json'], policy: STRICT, strict: false, quiet: true, verbose: false, color: false, timeout: 30, ...rest };
  // As the CLI runs it (a bad configuration: exit 2 and its line), the console on `stream`.
  let report = undefined as Report | undefined;
  const code = await runAsCommand(full, async (options, env) => {
    const outcome = await executeSdkRun(options, env);
    report = outcome.report;
    return outcome;
  }, commandEnvironment(full, stream));
  const durationMs = Date.now() - started;
  if (!report) throw new Error(`the SDK run ended with exit ${code} before any report: ${captured.join('').trim()}`);
  if (!keepOut && rest.out === undefined) await rm(outDir, { recursive: true, force: true });
  return { code, report, outDir, console: captured.join(''), durationMs };
}

/** requirement id → status. */
export function requirementStatuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.requirements.map((r) => [r.id, r.status]));
}

export function failedRequirements(report: Report): string[] {
  return report.requirements.filter((r) => r.status === 'failed').map((r) => r.id).sort();
}

/** The SDK-side verdicts that are neither passed nor skipped, as "ID status: reason" lines (for messages). */
export function troubles(report: Report): string[] {
  return report.requirements
    .filter((r) => r.side === 'sdk' && r.status !== 'passed' && r.status !== 'skipped')
    .map((r) => `${r.id} ${r.status}: ${r.reason ?? ''}`);
}

/** A requirement the harness may also fail for a mutant, through one named check only (a known harness issue). */
export interface ToleratedExtra {
  requirement: string;
  check: string;
  why: string;
}

/**
 * What is wrong with a run against a mutant that must fail exactly `breaks`: each listed
 * requirement failed, no other requirement failed, any other inconclusive verdict is one that
 * merely could not be established because its check stopped on the mutant's violation, and the
 * exit code is 1 when a MUST requirement failed (0 otherwise: a SHOULD-only mutant passes the run).
 *
 * `scope: 'breaks'` (only the checks covering `breaks` ran, `--check`): the requirements those
 * checks also cover are "not established" when the break stopped them, with no other check to
 * establish them, so a SHOULD-only mutant's run ends with exit code 4 instead of 0.
 */
export function judgeMutantRun(run: SdkRun, breaks: readonly string[], tolerated: readonly ToleratedExtra[] = [], scope: 'full' | 'breaks' = 'full'): string[] {
  const problems: string[] = [];
  const verdicts = run.report.requirements.filter((r) => r.side === 'sdk');
  for (const id of breaks) {
    const v = verdicts.find((r) => r.id === id);
    if (v?.status !== 'failed') problems.push(`${id} should have failed but is ${v?.status ?? 'absent'}${v?.reason ? ` (${v.reason})` : ''}`);
  }
  for (const v of verdicts) {
    if (breaks.includes(v.id)) continue;
    if (v.status === 'failed') {
      const failingChecks = run.report.checks.filter((c) => c.status === 'failed' && (c.failedRequirements ?? []).includes(v.id)).map((c) => c.id);
      const excused = failingChecks.length > 0 && failingChecks.every((c) => tolerated.some((t) => t.requirement === v.id && t.check === c));
      if (!excused) problems.push(`${v.id} failed too: ${v.reason ?? ''}`);
    } else if (v.status === 'inconclusive' && !(v.reason ?? '').startsWith('not established')) {
      problems.push(`${v.id} is inconclusive: ${v.reason ?? ''}`);
    }
  }
  const must = verdicts.some((v) => v.status === 'failed' && v.level === 'MUST');
  const unestablished = scope === 'breaks' && verdicts.some((v) => v.status === 'inconclusive');
  const expectedCode = must ? 1 : unestablished ? 4 : 0;
  if (run.code !== expectedCode && problems.length === 0) problems.push(`exit code ${run.code}, expected ${expectedCode}`);
  return problems;
}
