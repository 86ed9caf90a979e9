/**
 * `--server-cmd CMD` (with `--base-url` / `--ready-url`, `--ready-timeout`): the harness starts the
 * backend under test as a process, waits until it answers, runs, and stops its whole process
 * group; the target's log tail (redacted) goes into the report when a check fails or it dies.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPatterns } from '../../src/cli/options.js';
import { runBackend } from '../support/harness.js';
import { CLI, FIXTURE, ROOT, alive, freePort, gone, listening, q, readPid, requireDist } from './helpers.js';
// @ts-expect-error an untyped .mjs fixture
import { startFixtureBackend } from './fixtures/fixture-backend.mjs';

let dir: string;

beforeAll(async () => {
  requireDist();
  dir = await mkdtemp(join(tmpdir(), 'ekso-server-cmd-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function only(selection: string) {
  return { check: checkPatterns(selection), checkText: selection };
}

describe('--server-cmd', () => {
  it('starts `serve --test-hooks`, runs the whole backend suite against it (exit 0) and stops it', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const { code, report } = await runBackend({ serverCmd: `node ${q(CLI)} serve --test-hooks --port ${port} --rate-limit 0`, baseUrl, seed: 11 });
    expect(report.requirements.filter((r) => r.status === 'failed')).toEqual([]);
    expect(code).toBe(0);
    for (const r of report.requirements.filter((v) => v.side === 'backend')) expect(r.status, r.id).toBe(r.id === 'ERR-04' ? 'skipped' : 'passed');
    expect(report.target).toMatchObject({ baseUrl, description: 'started by --server-cmd' });
    // Everything passed: no log tail in the report.
    expect(report.diagnostics ?? []).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('with --ready-url only, the base URL is its origin; `npx ekso-conformance serve --test-hooks` works as the command', async () => {
    const port = await freePort();
    const readyUrl = `http://127.0.0.1:${port}/.well-known/oauth-authorization-server`;
    // npx runs this project's own bin; in a fresh clone it first "installs" the project, whose
    // `prepare` rebuilds dist/ — under every other test file running dist/cli.js at that moment
    // (seen: a CLI in another worker loading a half-written dist). No scripts: the build is npm test's.
    const { code, report } = await runBackend({ serverCmd: `npm_config_ignore_scripts=true npx ekso-conformance serve --test-hooks --port ${port}`, readyUrl, readyTimeout: 60, seed: 12, ...only('ak.entropy,df.authorization') });
    expect(code).toBe(0);
    expect(report.target.baseUrl).toBe(`http://127.0.0.1:${port}`);
    expect(await listening(port)).toBe(false);
  });

  it('stops the whole process group, also what the command started in the background', async () => {
    const port = await freePort();
    const pidFile = join(dir, 'grandchild.pid');
    // sh → sh → node: the server is a grandchild of the command the harness started.
    const command = `sh -c ${q(`node ${q(FIXTURE)} --port ${port} & echo $! > ${q(pidFile)}; wait`)}`;
    const { code } = await runBackend({ serverCmd: command, baseUrl: `http://127.0.0.1:${port}`, seed: 13, ...only('ak.entropy') });
    expect(code).toBe(0);
    const pid = await readPid(pidFile);
    expect(await gone(pid)).toBe(true);
    expect(await listening(port)).toBe(false);
  });

  it('a command that exits 0 before answering is a launcher: the harness waits, runs, and stops what it started', async () => {
    const port = await freePort();
    const pidFile = join(dir, 'launched.pid');
    const log = join(dir, 'launched.log');
    const command = `node ${q(FIXTURE)} --port ${port} > ${q(log)} 2>&1 & echo $! > ${q(pidFile)}`;
    const { code } = await runBackend({ serverCmd: command, baseUrl: `http://127.0.0.1:${port}`, seed: 20, ...only('ak.entropy') });
    expect(code).toBe(0);
    expect(await gone(await readPid(pidFile))).toBe(true);
    expect(await listening(port)).toBe(false);
  });

  it('a command that exits before answering: exit 3, with its last words (redacted)', async () => {
    const port = await freePort();
    // The secrets are assembled at run time: they are not on the command line, only in the output.
    const script = "console.log('DB_PASSWORD=' + 'hunter2'.repeat(2) + ' key ek_live_' + 'abcdefghijklmnopqrstuvwxyz012345'); console.error('listen EADDRINUSE: address already in use'); process.exit(4)";
    const { code, report, outDir } = await runBackend({ serverCmd: `node -e ${q(script)}`, baseUrl: `http://127.0.0.1:${port}`, seed: 14, ...only('ak.entropy') });
    expect(code).toBe(3);
    const diagnostic = report.diagnostics?.[0] ?? '';
    expect(diagnostic).toContain('--server-cmd exited (code 4) before answering');
    expect(diagnostic).toContain('EADDRINUSE');
    expect(diagnostic.split('\n')).toHaveLength(1);
    const json = await readFile(join(outDir, 'ekso-conformance.json'), 'utf8');
    expect(json).not.toContain('hunter2hunter2');
    expect(json).not.toContain('ek_live_abcdefghijklmnopqrstuvwxyz012345');
    expect(report.checks.every((c) => c.status === 'inconclusive' && c.runs === 0)).toBe(true);
  });

  it('a command that never answers: exit 3 after --ready-timeout, and it is killed', async () => {
    const port = await freePort();
    const pidFile = join(dir, 'sleeper.pid');
    const { code, report } = await runBackend({ serverCmd: `echo $$ > ${q(pidFile)}; exec sleep 60`, baseUrl: `http://127.0.0.1:${port}`, readyTimeout: 1, seed: 15, ...only('ak.entropy') });
    expect(code).toBe(3);
    expect(report.diagnostics?.[0]).toMatch(/--server-cmd did not answer within 1 s at http:\/\/127\.0\.0\.1:\d+ \(--ready-timeout\)/);
    expect(await gone(await readPid(pidFile))).toBe(true);
  });

  it('refuses to test whatever already answers at the ready URL (an old server left running): exit 3', async () => {
    const old = (await startFixtureBackend()) as { baseUrl: string; close(): Promise<void> };
    try {
      const pidFile = join(dir, 'second.pid');
      const { code, report } = await runBackend({ serverCmd: `echo $$ > ${q(pidFile)}; exec sleep 60`, baseUrl: old.baseUrl, seed: 16, ...only('ak.entropy') });
      expect(code).toBe(3);
      expect(report.diagnostics?.[0]).toContain(`something already answers at ${old.baseUrl} before --server-cmd started the target`);
      // Refused before starting anything.
      await expect(readFile(pidFile, 'utf8')).rejects.toThrow();
    } finally {
      await old.close();
    }
  });

  it('puts the target log tail into the report when a check fails', async () => {
    const port = await freePort();
    const command = `node ${q(FIXTURE)} --port ${port} --break relative-verification-uri --say ${q('config: API_TOKEN=s3cr3t-value-123456 ready')}`;
    const { code, report } = await runBackend({ serverCmd: command, baseUrl: `http://127.0.0.1:${port}`, seed: 17, ...only('df.authorization') });
    expect(code).toBe(1);
    const notes = report.diagnostics ?? [];
    const head = notes.indexOf('target log (--server-cmd, last lines):');
    expect(head).toBeGreaterThanOrEqual(0);
    const tail = notes.slice(head + 1).join('\n');
    expect(tail).toContain(`fixture-backend listening on http://127.0.0.1:${port}`);
    expect(tail).toContain('API_TOKEN=s3c…(len=19, sha256:');
    // Also where the command line itself is recorded (options, replay commands).
    expect(JSON.stringify(report)).not.toContain('s3cr3t-value-123456');
    expect(report.options?.serverCmd).toContain('API_TOKEN=s3c…(len=19, sha256:');
  });

  it('says in the report when the target dies during the run, with its last lines', async () => {
    const port = await freePort();
    const command = `node ${q(FIXTURE)} --port ${port} --die-after 60`;
    const { code, report } = await runBackend({ serverCmd: command, baseUrl: `http://127.0.0.1:${port}`, seed: 18, ...only('ak.*') });
    expect(code).not.toBe(0);
    const notes = (report.diagnostics ?? []).join('\n');
    expect(notes).toContain('the target (--server-cmd) exited during the run (code 9); its last lines:');
    expect(notes).toContain('fixture-backend: dying after 60 requests');
  });

  it('the CLI in one command; Ctrl-C stops the run and the target with it', async () => {
    const port = await freePort();
    const out = join(dir, 'interrupted');
    const harness = spawn(process.execPath, [CLI, '--server-cmd', `node ${q(CLI)} serve --test-hooks --port ${port} --rate-limit 0`, '--base-url', `http://127.0.0.1:${port}`, '--out', out, '--reporter', 'json', '--seed', '19', '--no-color'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    harness.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => harness.on('exit', (c) => resolve(c)));
    // Interrupt once the first check has passed (the target is up and in use).
    const until = Date.now() + 60_000;
    while (!/PASS/.test(stderr) && Date.now() < until && alive(harness.pid!)) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain('PASS');
    expect(await listening(port)).toBe(true);
    harness.kill('SIGINT');
    const code = await exited;
    expect(code).not.toBe(0);
    expect(stderr).toContain('SIGINT: stopping');
    expect(await listening(port)).toBe(false);
    const text = await readFile(join(out, 'ekso-conformance.json'), 'utf8').catch((error: Error) => {
      throw new Error(`no report after Ctrl-C (exit ${code}): ${error.message}\n${stderr}`);
    });
    const report = JSON.parse(text) as { interrupted?: boolean; cleanup: { leaked: number } };
    expect(report.interrupted).toBe(true);
    expect(report.cleanup.leaked).toBe(0);
  });
});
