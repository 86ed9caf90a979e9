/**
 * Runs the harness in-process the way the CLI does and returns its exit code and JSON report.
 * Used by the tests of backend mode (and, once it exists, SDK mode).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackendCommand, type BackendOptions } from '../../src/cli/backend-command.js';
import { STRICT } from '../../src/model/policy.js';
import type { Report } from '../../src/report/schema.js';

export type BackendRunOptions = Partial<BackendOptions>;

export async function runBackend(options: BackendRunOptions = {}): Promise<{ code: number; report: Report; outDir: string }> {
  const outDir = options.out ?? (await mkdtemp(join(tmpdir(), 'ekso-run-')));
  const code = await runBackendCommand({
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
  });
  const report = JSON.parse(await readFile(join(outDir, 'ekso-conformance.json'), 'utf8')) as Report;
  return { code, report, outDir };
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
