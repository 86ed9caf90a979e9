/**
 * Shared by the .NET example's tests (test/examples/dotnet-sdk.test.ts and the soak run in
 * test/soak/dotnet-sdk.soak.test.ts): whether Mono is here, building the example, and running
 * the harness over stdio the way a user does (`node dist/cli.js sdk --adapter "mono …"`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { readJsonReport, ROOT, runCli } from './cli.js';

export const DOTNET_DIR = join(ROOT, 'examples', 'dotnet-sdk');
export const ADAPTER_COMMAND = 'mono examples/dotnet-sdk/out/EksoAdapter.exe';

/** Why the .NET example cannot be built or run here, or null when mcs and mono both answer. */
export function monoMissing(): string | null {
  const missing = ['mcs', 'mono'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return null;
  return `${missing.join(' and ')} not found: install Debian's mono-mcs and libmono-system-net-http4.0-cil (.ci/run does) to run the .NET example`;
}

/** Builds out/Ekso.Sdk.dll and out/EksoAdapter.exe; throws with the compiler's output on failure. */
export function buildDotnetExample(): void {
  const run = spawnSync('bash', [join(DOTNET_DIR, 'build.sh')], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`examples/dotnet-sdk/build.sh failed (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
}

export interface DotnetRun {
  code: number | null;
  report: Report;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js sdk --adapter "mono …/EksoAdapter.exe" --seed N [extra]`, its exit code and JSON report. */
export async function runHarness(seed: number, extra: string[], timeoutMs: number): Promise<DotnetRun> {
  const out = await mkdtemp(join(tmpdir(), 'ekso-dotnet-run-'));
  try {
    const result = await runCli(['sdk', '--adapter', ADAPTER_COMMAND, '--seed', String(seed), '--out', out, '--reporter', 'json', '--no-color', ...extra], { timeoutMs });
    const report = await readJsonReport(out);
    return { code: result.code, report, stdout: result.stdout, stderr: result.stderr };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Every SDK/STORE verdict that is failed or inconclusive, as "ID status: reason" lines. */
export function problems(report: Report): string[] {
  return report.requirements
    .filter((r) => r.side === 'sdk' && (r.status === 'failed' || r.status === 'inconclusive'))
    .map((r) => `${r.id} ${r.status}: ${r.reason ?? ''}`);
}

export function statusOf(report: Report, id: string): string | undefined {
  return report.requirements.find((r) => r.id === id)?.status;
}
