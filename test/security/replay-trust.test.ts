/**
 * Issue 11 point 1: `replay` trusts nothing but inert data from a report. The attack — a
 * real report edited so that `options.baseUrl` points to a logging server at
 * `http://[::ffff:127.0.0.1]:PORT` and `options.tokenCommand` is `touch PWNED; exit 3`, replayed
 * with the admin key in the environment — creates no file and sends no request: replay stops with
 * one line saying that the target and the commands come from its command line. Legitimate replays
 * keep working: the embedded reference, a --mutant, an SDK mutant, and a target given again.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFixture, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { hasStackTrace, lines, runCli, startServe, type CliResult, type Serve } from '../support/cli.js';

const MUTANT = 'replay-resurrects-current-token';
const ADMIN_KEY = 'ek_live_TheRealAdminKeyTheRealAdminKeyTheRealAdmin';

let dir: string;
let logger: Fixture;
let pwned: string;
let backendReport: Record<string, unknown>;
let sdkReport: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-replay-trust-'));
  pwned = join(dir, 'PWNED');
  // Logs every request; answers like a backend that knows nothing.
  logger = await startFixture((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const [backend, sdk] = await Promise.all([
    runCli(['--mutant', MUTANT, '--check', 'rt.replay.family', '--seed', '7', '--out', join(dir, 'real'), '--reporter', 'json', '--no-color']),
    runCli(['sdk', '--mutant', 'no-single-flight', '--check', 'SDK-06', '--seed', '7', '--out', join(dir, 'real-sdk'), '--reporter', 'json', '--no-color']),
  ]);
  expect(backend.code, backend.stderr).toBe(1);
  expect(sdk.code, sdk.stderr).toBe(1);
  backendReport = JSON.parse(await readFile(join(dir, 'real', 'ekso-conformance.json'), 'utf8')) as Record<string, unknown>;
  sdkReport = JSON.parse(await readFile(join(dir, 'real-sdk', 'ekso-conformance.json'), 'utf8')) as Record<string, unknown>;
}, 120_000);

afterAll(async () => {
  await logger.close();
  await rm(dir, { recursive: true, force: true });
});

/** The real report with its options changed (`undefined` removes a key). */
async function edited(name: string, from: Record<string, unknown>, options: Record<string, unknown>, change: (r: Record<string, unknown>) => void = () => {}): Promise<string> {
  const report = structuredClone(from);
  const merged = { ...(report.options as Record<string, unknown>), ...options };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  report.options = merged;
  change(report);
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(report));
  return file;
}

/** `replay` as the victim runs it, as a process: with the real admin key in the environment. */
const replayCli = (args: string[]) => runCli(['replay', ...args, '--no-color'], { cwd: dir, env: { EKSO_ADMIN_API_KEY: ADMIN_KEY } });

/**
 * The same in this process (`main`), which is much cheaper than a new process per case; the
 * environment holds the admin key unless `withoutKey` (the embedded reference and serve
 * --test-hooks need none, and would refuse a wrong one).
 */
async function replay(args: string[], withoutKey = false): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: new Writable({ write: (chunk, _enc, done) => ((stdout += String(chunk)), done()) }),
    stderr: new Writable({ write: (chunk, _enc, done) => ((stderr += String(chunk)), done()) }),
  };
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (key.startsWith('EKSO_')) delete process.env[key];
  if (!withoutKey) process.env.EKSO_ADMIN_API_KEY = ADMIN_KEY;
  // The replayed run's own console goes to process.stderr: kept out of the test output.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await main(['replay', ...args, '--no-color'], io);
    return { code, signal: null, stdout, stderr };
  } finally {
    process.stderr.write = write;
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
const replayWithoutKey = (args: string[]) => replay(args, true);

function expectRefused(result: CliResult, message: RegExp): void {
  const context = `exit ${result.code}\nstderr:\n${result.stderr}`;
  expect(result.code, context).toBe(2);
  expect(lines(result.stderr), context).toHaveLength(1);
  expect(hasStackTrace(result.stderr), context).toBe(false);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toContain(ADMIN_KEY);
}

describe('replay never takes a target or a command from the report', () => {
  it("the issue's attack: a recorded logging server and token command — no file, no request, one clear line", { timeout: 60_000 }, async () => {
    const port = new URL(logger.baseUrl).port;
    const evil = await edited('evil', backendReport, { mutant: undefined, baseUrl: `http://[::ffff:127.0.0.1]:${port}`, tokenCommand: `touch ${pwned}; exit 3` });
    const result = await replayCli([evil]);
    expectRefused(result, /was recorded against --base-url 'http:\/\/\[::ffff:127\.0\.0\.1\]:\d+': replay takes the target and every command from its own command line, never from a report\. Give the target again \(--base-url URL.*or --accept-recorded-target to use the recorded --base-url \(recorded commands are never run\)/);
    expect(existsSync(pwned)).toBe(false);
    expect(logger.requests).toHaveLength(0);
  });

  it('--accept-recorded-target takes the recorded URL, never the recorded commands', { timeout: 60_000 }, async () => {
    const port = new URL(logger.baseUrl).port;
    const evil = await edited('evil-accepted', backendReport, { mutant: undefined, baseUrl: `http://127.0.0.1:${port}`, tokenCommand: `touch ${pwned}; exit 3`, deviceApproveCommand: `touch ${pwned}` });
    const result = await replay([evil, '--accept-recorded-target', '--out', join(dir, 'accepted')]);
    expect(result.stderr).toMatch(/using the recorded target --base-url http:\/\/127\.0\.0\.1:\d+ \(--accept-recorded-target\)/);
    expect(result.stderr).toMatch(/the recorded run also had --token-command, --device-approve-command: replay takes them only from its own command line/);
    expect(existsSync(pwned)).toBe(false);
    expect(logger.requests.length).toBeGreaterThan(0);
  });

  it('the plain-http rule applies to a recorded target as to any run (no --insecure from a report)', { timeout: 60_000 }, async () => {
    const before = logger.requests.length;
    const port = new URL(logger.baseUrl).port;
    const evil = await edited('evil-plain', backendReport, { mutant: undefined, baseUrl: `http://0.0.0.0:${port}`, insecure: true });
    const result = await replay([evil, '--accept-recorded-target', '--out', join(dir, 'plain')]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/refusing plain http:\/\/ to 0\.0\.0\.0 \(--base-url\)/);
    expect(logger.requests.length).toBe(before);
  });

  it('a recorded --server-cmd or --image is never run, even with --accept-recorded-target', async () => {
    const evil = await edited('evil-server', backendReport, { mutant: undefined, serverCmd: `touch ${pwned}`, readyUrl: 'http://127.0.0.1:9/' });
    expectRefused(await replay([evil]), /was recorded against --server-cmd .*never from a report/);
    expectRefused(await replay([evil, '--accept-recorded-target']), /replay never runs a command from a report, and --accept-recorded-target accepts only a recorded --base-url or --tenant/);
    const image = await edited('evil-image', backendReport, { mutant: undefined, image: 'evil/image:latest' });
    expectRefused(await replay([image, '--accept-recorded-target']), /started by --image/);
    expect(existsSync(pwned)).toBe(false);
  });

  it('an SDK report: a recorded --adapter is never run', async () => {
    const evil = await edited('evil-sdk', sdkReport, { mutant: undefined, adapter: `touch ${pwned}; cat` });
    expectRefused(await replay([evil]), /was recorded with --adapter .*replay never runs a command or loads a module named in a report; give --adapter again/);
    expectRefused(await replay([evil, '--accept-recorded-target']), /accepts only a recorded URL/);
    expectRefused(await replay([evil, '--base-url', 'http://127.0.0.1:9']), /--base-url applies to backend reports/);
    expect(existsSync(pwned)).toBe(false);
  });

  it('recorded values are validated: bad options, policy, paths and mutants are refused naming the key', async () => {
    const bad = await edited('bad-options', backendReport, { numRuns: 'many', timeout: 3_000_000, clientId: 'ekso cli\u001b[2J' });
    const badResult = await replay([bad]);
    expectRefused(badResult, /invalid recorded options: /);
    expect(badResult.stderr).toMatch(/numRuns: [^;]*expected number/);
    expect(badResult.stderr).toMatch(/timeout: [^;]*at most 3600/);
    expect(badResult.stderr).toMatch(/clientId: [^;]*printable/);
    const path = await edited('bad-path', backendReport, {}, (r) => {
      for (const c of r.checks as Array<Record<string, unknown>>) if (c.status === 'failed') c.path = '0:0; touch PWNED';
    });
    expectRefused(await replay([path]), /invalid recorded check .*path: expected a fast-check path/);
    const policy = await edited('bad-policy', backendReport, {}, (r) => (r.policy = 'grace=99999999'));
    expectRefused(await replay([policy]), /invalid recorded policy/);
    const mutant = await edited('bad-mutant', backendReport, { mutant: 'no-such-mutant' });
    expectRefused(await replay([mutant]), /unknown backend mutant no-such-mutant/);
  });
});

describe('legitimate replays keep working', () => {
  let serve: Serve;
  beforeAll(async () => {
    serve = await startServe(['--mutant', MUTANT]);
  });
  afterAll(async () => {
    await serve.stop();
  });

  it('a --mutant report replays as it is: FAILED again', { timeout: 60_000 }, async () => {
    const result = await replayWithoutKey([join(dir, 'real', 'ekso-conformance.json'), '--out', join(dir, 'again'), '--reporter', 'json']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/rt\.replay\.family: FAILED again/);
  });

  it('an SDK mutant report replays as it is: FAILED again', { timeout: 60_000 }, async () => {
    const result = await replayWithoutKey([join(dir, 'real-sdk', 'ekso-conformance.json'), '--out', join(dir, 'again-sdk'), '--reporter', 'json']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/FAILED again/);
  });

  it('the embedded reference (no target recorded): replays a check by id', { timeout: 60_000 }, async () => {
    const plain = await edited('embedded', backendReport, { mutant: undefined });
    const result = await replayWithoutKey([plain, '--check', 'rt.replay.family', '--out', join(dir, 'embedded-again'), '--reporter', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/rt\.replay\.family: passed now/);
  });

  it('a report of a live target replays against the target given again; its recorded token command is not run', { timeout: 60_000 }, async () => {
    const recorded = await edited('live', backendReport, { mutant: undefined, baseUrl: serve.baseUrl, tokenCommand: `touch ${pwned}; exit 3` });
    const result = await replayWithoutKey([recorded, '--base-url', serve.baseUrl, '--out', join(dir, 'live-again'), '--reporter', 'json']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/rt\.replay\.family: FAILED again/);
    expect(result.stderr).toMatch(/the recorded run also had --token-command/);
    expect(existsSync(pwned)).toBe(false);
  });
});
