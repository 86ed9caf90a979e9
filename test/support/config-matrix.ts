/**
 * The configuration matrix on the reference backend (issue 9): token source × clock × policy.
 * Each lane is one `serve` process (its clock is shared by everything run against it, so runs of a
 * lane never overlap) and the harness run as a user would start it, with the real shell scripts of
 * `examples/scripts/`. A correct target must come out conformant in every lane — or skipped, with
 * the reason, where the configuration cannot provide something — and never inconclusive.
 *
 * How each lane is configured:
 * - source `hooks`: the target advertises its test hooks; the harness uses them for everything.
 * - source `command` / `device` / `both`: the user's scripts are the token source (with
 *   `--admin-key`/`--user-key`); the scripts call the hooks, as a deployment's scripts would log in
 *   a test user. Given a script, the harness makes no family with the hooks (src/targets/backend/
 *   token-sources.ts, "Choice"); the `command` script makes only Cli families (the issue's).
 * - clock `discovery`: the hooks are advertised (their clock with them); `profile`: the profile
 *   names `testClock` (with `serve --no-advertise-hooks` for the script sources); `none`: no clock
 *   hook reachable (`serve --no-clock-hook`, or hooks not advertised and no profile clock).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { readJsonReport, ROOT, runCli, spawnCli, type Serve } from './cli.js';

export type SourceKind = 'hooks' | 'command' | 'device' | 'both';
export type ClockKind = 'discovery' | 'profile' | 'none';
export type PolicyText = 'strict' | 'grace=30';

export interface Lane {
  source: SourceKind;
  clock: ClockKind;
  policy: PolicyText;
}

export const SOURCES: readonly SourceKind[] = ['hooks', 'command', 'device', 'both'];
export const CLOCKS: readonly ClockKind[] = ['discovery', 'profile', 'none'];
export const POLICIES: readonly PolicyText[] = ['strict', 'grace=30'];

export const LANES: readonly Lane[] = SOURCES.flatMap((source) => CLOCKS.flatMap((clock) => POLICIES.map((policy) => ({ source, clock, policy }))));

export function laneName(lane: Lane): string {
  return `${lane.source}/${lane.clock}/${lane.policy}`;
}

const SCRIPTS = join(ROOT, 'examples', 'scripts');
const TOKEN_COMMAND = join(SCRIPTS, 'token-command.sh');
const APPROVE = join(SCRIPTS, 'device-approve.sh');

/** The extra `serve --test-hooks --port 0 --rate-limit 0` options of a lane. */
export function serveArgs(lane: Lane): string[] {
  const args = ['--policy', lane.policy];
  if (lane.source === 'hooks') {
    if (lane.clock === 'none') args.push('--no-clock-hook');
  } else if (lane.clock !== 'discovery') {
    args.push('--no-advertise-hooks');
  }
  return args;
}

/** The harness's command line for one run of a lane (without --out/--seed). */
export async function harnessArgs(lane: Lane, serve: Serve, dir: string): Promise<string[]> {
  const args = ['--base-url', serve.baseUrl, '--policy', lane.policy];
  if (lane.clock === 'profile') {
    const profile = join(dir, 'clock-profile.json');
    await writeFile(profile, JSON.stringify({ testClock: '/__conformance/clock' }));
    args.push('--profile', profile);
  }
  if (lane.source !== 'hooks') args.push('--admin-key', serve.adminKey, '--user-key', serve.userKey);
  if (lane.source === 'command') args.push('--token-command', `EKSO_EXAMPLE_MARKERS=Cli ${TOKEN_COMMAND}`);
  if (lane.source === 'device' || lane.source === 'both') args.push('--device-approve-command', APPROVE);
  if (lane.source === 'both') args.push('--token-command', TOKEN_COMMAND);
  return args;
}

/** Skip reasons a lane may legitimately give (anything else skipped is a problem). */
function allowedSkip(lane: Lane, message: string): boolean {
  if (/^opt-in: --check-rate-limit/.test(message)) return true;
  if (lane.clock === 'none' && /clock hook/.test(message)) return true;
  if ((lane.source === 'command' || lane.source === 'device') && /no source of Web token families/.test(message)) return true;
  // A Cli-only token command and no advertised hooks: nobody approves device requests.
  if (lane.source === 'command' && lane.clock !== 'discovery' && /needs --device-approve-command .* to approve and deny/.test(message)) return true;
  return false;
}

/** Requirements every run of the lane must pass (the ones its configuration can decide). */
export function mustPass(lane: Lane): string[] {
  const ids = ['AK-01', 'AK-02', 'AK-03', 'AK-05', 'AK-11', 'RT-01', 'RT-03', 'RT-04', 'RT-05', 'RT-06', 'RT-07', 'RT-08', 'RT-10', 'RT-11', 'DF-01', 'CM-01', 'CM-02', 'CM-04', 'CM-05', 'ERR-01', 'ERR-03'];
  if (lane.clock !== 'none') ids.push('RT-02', 'RT-09', 'AK-06', 'AK-07');
  if (lane.source === 'hooks' || lane.source === 'both') ids.push('CM-03');
  return ids;
}

/** What is wrong with one run of a lane on the (correct) reference: empty when nothing. */
export function judgeRun(lane: Lane, code: number | null, report: Report): string[] {
  const problems: string[] = [];
  if (code !== 0) problems.push(`exit ${code} (expected 0)`);
  for (const check of report.checks) {
    if (check.status === 'failed' || check.status === 'inconclusive') problems.push(`${check.id} ${check.status}: ${check.message ?? ''}`);
    if (check.status === 'skipped' && !allowedSkip(lane, check.message ?? '')) problems.push(`${check.id} skipped: ${check.message ?? '(no reason)'}`);
  }
  const status = Object.fromEntries(report.requirements.map((r) => [r.id, r.status]));
  for (const id of mustPass(lane)) if (status[id] !== 'passed') problems.push(`${id} ${status[id] ?? 'absent'} (expected passed)`);
  // Issue 14, point 2: a Cli-only token command still serves the replay and isolation checks.
  if (lane.source === 'command') {
    for (const id of ['rt.replay.family', 'rt.isolation']) {
      const check = report.checks.find((c) => c.id === id);
      if (check?.status !== 'passed') problems.push(`${id} ${check?.status ?? 'absent'} with a Cli-only token command (expected passed)`);
    }
  }
  return problems;
}

/**
 * `serve --test-hooks --port 0 --rate-limit 0` plus the lane's options, living as long as the lane
 * (a lane of six full runs takes far longer than the 10 min of `startServe` on a busy machine).
 */
async function startLaneServe(extra: string[]): Promise<Serve> {
  const run = spawnCli(['serve', '--test-hooks', '--port', '0', '--rate-limit', '0', ...extra], { timeoutMs: 24 * 3_600_000 });
  await run.waitFor(/EKSO_USER_API_KEY=\S+\n/);
  const printed = run.stdout();
  const get = (name: string) => {
    const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(printed)?.[1];
    if (!value) throw new Error(`serve did not print ${name}:\n${printed}`);
    return value;
  };
  return {
    baseUrl: get('EKSO_BASE_URL'),
    adminKey: get('EKSO_ADMIN_API_KEY'),
    userKey: get('EKSO_USER_API_KEY'),
    run,
    async stop() {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
      await run.done;
    },
  };
}

/**
 * Runs `seeds` against one `serve` of the lane, one after another (they share its clock).
 * Returns the problems of every run, keyed `lane seed N`.
 */
export async function runLane(lane: Lane, seeds: readonly number[], dir: string, extra: string[] = []): Promise<string[]> {
  const laneDir = join(dir, laneName(lane).replace(/[^a-z0-9]+/gi, '-'));
  await mkdir(laneDir, { recursive: true });
  const serve = await startLaneServe(serveArgs(lane));
  const problems: string[] = [];
  try {
    const base = await harnessArgs(lane, serve, laneDir);
    for (const seed of seeds) {
      const out = join(laneDir, `seed-${seed}`);
      const result = await runCli([...base, '--seed', String(seed), '--out', out, '--reporter', 'json', '--quiet', '--no-color', ...extra], { timeoutMs: 900_000 });
      let report: Report;
      try {
        report = await readJsonReport(out);
      } catch (error) {
        problems.push(`${laneName(lane)} seed ${seed}: no report (exit ${result.code}): ${(error as Error).message}\n${result.stderr.slice(-2000)}`);
        continue;
      }
      for (const problem of judgeRun(lane, result.code, report)) problems.push(`${laneName(lane)} seed ${seed}: ${problem}`);
      // A target that died takes every later seed with it: say so once, plainly.
      if (serve.run.child.exitCode !== null || serve.run.child.signalCode !== null) {
        problems.push(`${laneName(lane)}: serve ended during seed ${seed}: ${serve.run.stderr().slice(-500)}`);
        break;
      }
    }
  } finally {
    await serve.stop();
  }
  return problems;
}
