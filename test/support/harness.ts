/**
 * Runs a backend run in-process (src/run/backend.ts, as the CLI and the library API do) with the
 * CLI's defaults; returns its exit code, its report and the folder its JSON report was written to.
 * Progress is not printed (quiet).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandEnvironment } from '../../src/cli/command.js';
import { executeBackendRun, type BackendOptions } from '../../src/run/backend.js';
import { STRICT } from '../../src/model/policy.js';
import type { Report } from '../../src/report/schema.js';

export type BackendRunOptions = Partial<BackendOptions>;

export async function runBackend(options: BackendRunOptions = {}): Promise<{ code: number; report: Report; outDir: string }> {
  const outDir = options.out ?? (await mkdtemp(join(tmpdir(), 'ekso-run-')));
  const full: BackendOptions = {
    out: outDir,
    reporter: ['json'],
    policy: STRICT,
    strict: false,
    quiet: true,
    verbose: false,
    color: false,
    clientId: 'ekso-cli',
    concurrency: 8,
    timeout: 30,
    checkRateLimit: false,
    insecure: false,
    readyTimeout: 30,
    ...options,
  };
  const { report, exitCode } = await executeBackendRun(full, commandEnvironment(full));
  return { code: exitCode, report, outDir };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** requirement id → status, for compact assertions. */
export function statuses(report: Report): Record<string, string> {
  return Object.fromEntries(report.requirements.map((r) => [r.id, r.status]));
}

export function failedRequirements(report: Report): string[] {
  return report.requirements.filter((r) => r.status === 'failed').map((r) => r.id).sort();
}
