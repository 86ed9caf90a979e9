/**
 * Issue 11 point 11: the replay command a failure prints reproduces the run — target, token
 * sources, profile, policy, transport settings (--insecure, --rate, --timeout, --concurrency,
 * --check-rate-limit, --num-runs, --image-port, --image-env…) — with secrets only by the name of
 * an environment variable. Running the printed command gives the same verdict.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCommand, type BackendOptions } from '../../src/cli/backend-command.js';
import { replayCommand as sdkReplayCommand } from '../../src/cli/sdk-command.js';
import { STRICT } from '../../src/model/policy.js';
import { CLI, readJsonReport, runCli, startServe, type Serve } from '../support/cli.js';

const ADMIN = 'ek_live_AdminSecretAdminSecretAdminSecret0001';
const USER = 'ek_live_UserSecretUserSecretUserSecret000002';
const DB_PASSWORD = 'hunter2-but-longer-than-eight';

function options(extra: Partial<BackendOptions> = {}): BackendOptions {
  return {
    out: 'reports', reporter: ['json'], policy: STRICT, strict: false, quiet: false, verbose: false, color: false,
    clientId: 'ekso-cli', concurrency: 8, timeout: 30, checkRateLimit: false, insecure: false, readyTimeout: 60,
    ...extra,
  };
}

describe('the printed replay command', () => {
  it('carries every option that shapes the run, and secrets only by variable name', () => {
    const line = replayCommand(
      options({
        baseUrl: 'http://10.0.0.5:8080', serverCmd: 'npm start', readyUrl: 'http://10.0.0.5:8080/health', readyTimeout: 90,
        insecure: true, checkRateLimit: true, rate: 12.5, timeout: 7, concurrency: 3, numRuns: 44, strict: true,
        policy: { kind: 'grace', seconds: 5 }, profile: './ekso profile.json', clientId: 'my-cli',
        adminKey: ADMIN, userKey: USER, tokenCommand: './tok.sh --user admin', deviceApproveCommand: './approve.sh',
      }),
      7,
      { id: 'rt.replay.family', path: '0:1', replayPath: 'AAE' },
    );
    for (const part of [
      '--base-url http://10.0.0.5:8080', "--server-cmd 'npm start'", '--ready-url http://10.0.0.5:8080/health', '--ready-timeout 90',
      '--insecure', '--check-rate-limit', '--rate 12.5', '--timeout 7', '--concurrency 3', '--num-runs 44', '--strict',
      '--policy grace=5', "--profile './ekso profile.json'", '--client-id my-cli', "--token-command './tok.sh --user admin'",
      '--device-approve-command ./approve.sh', '--admin-key "$EKSO_ADMIN_API_KEY"', '--user-key "$EKSO_USER_API_KEY"',
      '--check rt.replay.family', '--seed 7', '--path 0:1', '--replay-path AAE',
    ]) expect(line).toContain(part);
    expect(line).not.toContain(ADMIN);
    expect(line).not.toContain(USER);
  });

  it('a container target: image, port and environment, secret values by name', () => {
    const line = replayCommand(options({ image: 'ghcr.io/acme/ekso:1', imagePort: 8081, imageEnv: { LOG_LEVEL: 'debug', DB_PASSWORD } }), 1, { id: 'ak.lifecycle' });
    expect(line).toContain('--image ghcr.io/acme/ekso:1 --image-port 8081 --image-env LOG_LEVEL=debug --image-env "DB_PASSWORD=$DB_PASSWORD"');
    expect(line).not.toContain(DB_PASSWORD);
  });

  it('defaults are left out', () => {
    expect(replayCommand(options(), 3, { id: 'err.unauthenticated' })).toBe('npx ekso-conformance --check err.unauthenticated --seed 3');
  });

  it('sdk: adapter, policy, strict, timeout and runs', () => {
    const line = sdkReplayCommand({ ...options(), adapter: 'python3 adapter.py', timeout: 9, numRuns: 5, strict: true, policy: { kind: 'grace', seconds: 2 } }, 4, { id: 'sdk.refresh.single-flight' });
    expect(line).toBe("npx ekso-conformance sdk --adapter 'python3 adapter.py' --policy grace=2 --strict --timeout 9 --num-runs 5 --check sdk.refresh.single-flight --seed 4");
  });
});

describe('running the printed command', () => {
  let serve: Serve;
  let dir: string;
  beforeAll(async () => {
    serve = await startServe(['--mutant', 'replay-resurrects-current-token']);
    dir = await mkdtemp(join(tmpdir(), 'ekso-replay-line-'));
  });
  afterAll(async () => {
    await serve.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same verdict (a plain-http target reached with --insecure, a profile, transport settings)', { timeout: 120_000 }, async () => {
    // 0.0.0.0 is not loopback: without --insecure in the printed line, the replay would be refused.
    const baseUrl = `http://0.0.0.0:${new URL(serve.baseUrl).port}`;
    const profile = join(dir, 'profile.json');
    await writeFile(profile, JSON.stringify({ refreshIdleWindowSeconds: 1209600 }));
    const first = join(dir, 'first');
    const run = await runCli(['--base-url', baseUrl, '--insecure', '--profile', profile, '--rate', '1000', '--timeout', '20', '--concurrency', '4', '--num-runs', '3', '--check', 'rt.replay.family', '--seed', '7', '--out', first, '--reporter', 'json', '--no-color']);
    expect(run.code, run.stderr).toBe(1);
    const failed = (await readJsonReport(first)).checks.find((c) => c.status === 'failed')!;
    expect(failed.replay).toMatch(/--insecure/);
    const again = join(dir, 'again');
    const command = `${failed.replay!.replace(/^npx ekso-conformance/, `${process.execPath} ${CLI}`)} --out ${again} --reporter json --no-color`;
    const result = await shell(command);
    expect(result.code, result.stderr).toBe(1);
    const report = await readJsonReport(again);
    const refailed = report.checks.find((c) => c.id === failed.id)!;
    expect(refailed.status).toBe('failed');
    expect(refailed.failedRequirements).toEqual(failed.failedRequirements);
    expect(report.requirements.filter((r) => r.status === 'failed').map((r) => r.id)).toEqual(['RT-04']);
  });
});

/** Runs a command line through sh, as a user pasting it would (no EKSO_* variables set). */
function shell(command: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
