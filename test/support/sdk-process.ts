/**
 * Runs `sdk` as a child process (`node dist/cli.js sdk …`) and returns the same shape as
 * `runSdk`, for runs that go side by side: each harness then has an event loop (and a core) of
 * its own, as in real use, instead of sharing the test worker's — which matters for real-time
 * runs, whose verdicts rest on timings.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { runCli } from './cli.js';
import type { SdkRun } from './sdk-harness.js';

export async function runSdkProcess(options: { seed: number; adapter: string; check?: string }): Promise<SdkRun> {
  const outDir = await mkdtemp(join(tmpdir(), 'ekso-sdk-process-'));
  const started = Date.now();
  try {
    const args = ['sdk', '--adapter', options.adapter, '--seed', String(options.seed), '--out', outDir, '--reporter', 'json', '--quiet', ...(options.check ? ['--check', options.check] : [])];
    const result = await runCli(args, { timeoutMs: 600_000 });
    const report = JSON.parse(await readFile(join(outDir, 'ekso-conformance.json'), 'utf8')) as Report;
    return { code: result.code ?? -1, report, outDir, console: result.stderr, durationMs: Date.now() - started };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The failed and inconclusive checks of a report with what they saw, for failure messages. */
export function checkTroubles(report: Report): string[] {
  return report.checks.filter((c) => c.status === 'failed' || c.status === 'inconclusive').map((c) => `${c.id} ${c.status}: ${c.message ?? ''}${c.actual ? ` (actual: ${c.actual})` : ''}${c.path ? ` [--path ${c.path}]` : ''}`);
}
