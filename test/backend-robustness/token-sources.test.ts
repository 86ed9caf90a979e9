/**
 * User-supplied token sources that misbehave (CONTRACT §2): a --token-command that prints
 * garbage, fails, gives tokens the target refuses, says it cannot (exit 3) or hangs; a
 * --device-approve-command that fails. The source is tried once before any check, for each kind of
 * family: one that fails or whose token is refused makes the checks needing that kind
 * inconclusive (never failed), with one line naming the option; the run ends with exit 3
 * (CONTRACT §1: "the token source rejected before any check ran") only when no selected check can
 * run without it. One that says it cannot is skipped; a hanging command does not outlive
 * --max-time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import { readJsonReport, runCli } from '../support/cli.js';

let backend: ReferenceBackend;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  // No test hooks: tokens can only come from the commands under test.
  backend = createReferenceBackend({ testHooks: false, deviceIntervalSeconds: 0 });
  baseUrl = (await backend.listen(0, '127.0.0.1')).baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'ekso-token-sources-'));
});

afterAll(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(name: string, args: string[]) {
  const out = join(dir, name);
  const result = await runCli(['--base-url', baseUrl, '--admin-key', backend.bootstrap.adminKey, '--out', out, '--reporter', 'json', '--no-color', ...args], { timeoutMs: 90_000 });
  const report = await readJsonReport(out);
  return { result, report, rotation: report.checks.find((c) => c.id === 'rt.rotation.shape') };
}

describe.concurrent('a --token-command that misbehaves', () => {
  it.each([
    ['prints something that is not JSON', 'echo not-json', /did not print one JSON object/],
    ['prints JSON that is not a token pair', `echo '{"access_token": 1}'`, /did not give a token pair: field `access_token`/],
    ['fails', 'echo "no session" >&2; exit 7', /--token-command exited 7: no session/],
    [
      'gives tokens the target refuses',
      `echo '{"access_token": "not-a-token-of-this-backend", "refresh_token": "nor-this-one-either", "expires_in": 300, "token_type": "Bearer"}'`,
      /access token from --token-command was rejected with 401/,
    ],
  ])('%s: exit 3 before any check, one line with the reason', async (name, command, message) => {
    const { result, report, rotation } = await run(name.replace(/\W+/g, '-'), ['--check', 'RT-01', '--token-command', command]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(rotation?.status).toBe('inconclusive');
    expect(rotation?.message).toMatch(message);
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
  });

  it('exits 3 ("cannot"): the checks needing it are skipped, naming the option', async () => {
    const { result, rotation } = await run('cannot', ['--check', 'RT-01', '--token-command', 'exit 3']);
    expect(result.code, result.stderr).toBe(0);
    expect(rotation?.status).toBe('skipped');
    expect(rotation?.message).toMatch(/--token-command/);
  });

  it('hangs: --max-time ends it (the command is killed, the run ends)', { timeout: 120_000 }, async () => {
    const { result, report } = await run('hangs', ['--check', 'RT-01', '--token-command', 'sleep 600', '--max-time', '3']);
    expect(result.signal, 'the run did not end at --max-time').toBeNull();
    expect(result.code, result.stderr).toBe(4);
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(report.checks.some((c) => c.status === 'inconclusive')).toBe(true);
  });
});

describe('a --device-approve-command that fails', () => {
  it('costs only the checks needing Cli families (inconclusive, with its stderr); the rest runs', async () => {
    const { result, report } = await run('approver', ['--check', 'CM-02', '--device-approve-command', 'echo "approval page down" >&2; exit 1']);
    // cm.gate.model still runs (with the admin key's Sdk marker): not "nothing can run", so not exit 3.
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/--device-approve-command exited 1: approval page down/);
    const gate = report.checks.find((c) => c.id === 'cm.gate.cli');
    expect(gate?.status).toBe('inconclusive');
    expect(gate?.message).toMatch(/--device-approve-command exited 1: approval page down/);
    expect(report.checks.find((c) => c.id === 'cm.gate.model')?.status).toBe('passed');
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
  });

  it('ends the run with exit 3 when nothing selected can run without it', async () => {
    const { result, report } = await run('approver-only', ['--check', 'cm.gate.cli', '--device-approve-command', 'echo "approval page down" >&2; exit 1']);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/--device-approve-command exited 1: approval page down/);
    const gate = report.checks.find((c) => c.id === 'cm.gate.cli');
    expect(gate?.status).toBe('inconclusive');
    expect(gate?.message).toMatch(/--device-approve-command exited 1: approval page down/);
  });
});
