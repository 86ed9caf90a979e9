/**
 * Bad usage or configuration (CONTRACT §1, exit 2): the built CLI prints exactly one line on
 * stderr, never a stack trace, nothing on stdout, and sends no request anywhere.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { error500, startFixture, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { hasStackTrace, lines, runCli, type CliResult } from '../support/cli.js';

let dir: string;
let out: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-config-'));
  out = join(dir, 'reports');
  await writeFile(file('bad.json'), '{"tokenEndpoint": "/token",');
  await writeFile(
    file('ill.json'),
    JSON.stringify({
      tokenEndpoint: 5,
      bogus: 1,
      revoke: 'purge',
      probe: { method: 'FETCH', path: 'no-slash', extra: true },
      refreshIdleWindowSeconds: -3,
      scope: ['a'],
      tokenEndpont: '/typo',
    }),
  );
  await writeFile(file('array.json'), '[1, 2]');
  await mkdir(file('a-directory'));
  await writeFile(file('baseline-bad.json'), '[ "AK-01", ');
  await writeFile(file('baseline-shape.json'), '{"expectedFailures": "AK-01"}');
  await writeFile(file('not-a-dir'), 'a file where the report folder should be');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectUsageError(result: CliResult, message?: RegExp): void {
  const context = `stderr:\n${result.stderr}\nstdout:\n${result.stdout}`;
  expect(result.code, context).toBe(2);
  expect(lines(result.stderr), context).toHaveLength(1);
  expect(hasStackTrace(result.stderr), context).toBe(false);
  expect(result.stdout, context).toBe('');
  if (message) expect(result.stderr).toMatch(message);
}

describe.concurrent('bad flags and values exit 2 with one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flag', ['--bogus'], /unknown option '--bogus'/],
    ['misspelt flag (suggestion on the same line)', ['--rat', '5'], /unknown option '--rat'.*--rate/],
    ['unknown command argument', ['frobnicate'], /too many arguments|unknown command/],
    ['--rate x', ['--rate', 'x'], /--rate/],
    ['--rate 0', ['--rate', '0'], /--rate/],
    ['--rate without a value', ['--rate'], /--rate/],
    ['--shard 3/2', ['--shard', '3/2'], /--shard/],
    ['--shard a', ['--shard', 'a'], /--shard/],
    ['--policy lenient', ['--policy', 'lenient'], /--policy/],
    ['--policy grace=', ['--policy', 'grace='], /--policy/],
    ['--reporter pdf', ['--reporter', 'pdf'], /--reporter.*pdf/],
    ['--seed 1.5', ['--seed', '1.5'], /--seed/],
    ['--seed beyond 32 bits', ['--seed', '99999999999'], /--seed/],
    ['--num-runs 0', ['--num-runs', '0'], /--num-runs/],
    ['--max-time -1', ['--max-time', '-1'], /--max-time/],
    ['--timeout x', ['--timeout', 'x'], /--timeout/],
    ['--concurrency 1.5', ['--concurrency', '1.5'], /--concurrency/],
    ['--base-url ftp://x', ['--base-url', 'ftp://x'], /--base-url/],
    ['--base-url not a URL', ['--base-url', 'not a url'], /--base-url/],
    ['--base-url with a query', ['--base-url', 'http://127.0.0.1:1/?x=1'], /--base-url/],
    ['--tenant UPPER', ['--tenant', 'UPPER'], /--tenant/],
    ['--base-url with --tenant', ['--base-url', 'http://127.0.0.1:1', '--tenant', 'acme'], /--base-url or --tenant/],
    ['--check matching nothing', ['--check', 'NOPE-*'], /--check NOPE-\* matches no check/],
    ['--check empty', ['--check', ','], /--check/],
    ['sdk: unknown flag', ['sdk', '--bogus'], /unknown option/],
    ['serve: port out of range', ['serve', '--port', '70000'], /--port/],
    ['serve: bad policy', ['serve', '--policy', 'lenient'], /policy/],
    ['list: unknown flag', ['list', '--bogus'], /unknown option/],
    ['replay without a report', ['replay'], /missing required argument/],
    ['merge without reports', ['merge'], /missing required argument/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    expectUsageError(await runCli([...args, ...(args[0] === 'serve' || args[0] === 'list' || args[0] === 'replay' || args[0] === 'merge' || args[0] === 'sdk' ? [] : ['--out', out])]), message);
  });

  it('an invalid value from the environment (EKSO_BASE_URL) is a usage error too', async () => {
    expectUsageError(await runCli(['--out', out], { env: { EKSO_BASE_URL: 'ftp://x' } }), /EKSO_BASE_URL/);
    expectUsageError(await runCli(['--out', out], { env: { EKSO_TENANT: 'Not A Tenant' } }), /EKSO_TENANT/);
  });
});

describe.concurrent('files named by options', () => {
  it('an unreadable profile', async () => {
    expectUsageError(await runCli(['--profile', file('missing.json'), '--out', out]), /cannot read profile .*missing\.json.*ENOENT/);
    expectUsageError(await runCli(['--profile', file('a-directory'), '--out', out]), /cannot read profile/);
  });

  it('a profile that is not JSON', async () => {
    expectUsageError(await runCli(['--profile', file('bad.json'), '--out', out]), /profile .*bad\.json is not valid JSON/);
  });

  it('a profile that is not an object', async () => {
    expectUsageError(await runCli(['--profile', file('array.json'), '--out', out]), /invalid profile/);
  });

  it('a profile with unknown and ill-typed keys names every bad key', async () => {
    const result = await runCli(['--profile', file('ill.json'), '--out', out]);
    expectUsageError(result, /invalid profile/);
    for (const key of ['tokenEndpoint:', 'bogus: unknown key', 'revoke:', 'probe.method:', 'probe.path:', 'probe.extra: unknown key', 'refreshIdleWindowSeconds:', 'scope:', 'tokenEndpont: unknown key']) {
      expect(result.stderr).toContain(key);
    }
  });

  it('an unreadable or invalid baseline', async () => {
    expectUsageError(await runCli(['--baseline', file('missing.txt'), '--out', out]), /cannot read baseline/);
    expectUsageError(await runCli(['--baseline', file('baseline-bad.json'), '--out', out]), /baseline .* is not valid JSON/);
    expectUsageError(await runCli(['--baseline', file('baseline-shape.json'), '--out', out]), /baseline/);
  });

  it('a report folder that cannot be created is found before the run, not after it', async () => {
    expectUsageError(await runCli(['--out', join(file('not-a-dir'), 'reports'), '--check', 'AK-01']), /cannot write reports to .*--out/);
  });
});

describe('plain http:// to a host that is not loopback (H-06)', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture(error500);
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('is refused without --insecure, and no request is sent', async () => {
    // 0.0.0.0 is not a loopback address (the harness refuses it), yet Linux connects it to the
    // local host, so it reaches the fixture on 127.0.0.1 — a request, if one were sent, would show.
    const port = new URL(fixture.baseUrl).port;
    const result = await runCli(['--base-url', `http://0.0.0.0:${port}`, '--out', out]);
    expectUsageError(result, /refusing plain http:\/\/ .*--insecure/);
    expect(fixture.requests).toHaveLength(0);
    const other = await runCli(['--base-url', 'http://conformance.example.invalid', '--out', out]);
    expectUsageError(other, /refusing plain http:\/\/ to conformance\.example\.invalid/);
  });

  it('with --insecure the same URL is used (the route above really reaches the fixture)', async () => {
    const port = new URL(fixture.baseUrl).port;
    const result = await runCli(['--base-url', `http://0.0.0.0:${port}`, '--insecure', '--check', 'ERR-01', '--num-runs', '1', '--out', out, '--reporter', 'json']);
    expect([1, 3, 4]).toContain(result.code);
    expect(fixture.requests.length).toBeGreaterThan(0);
  });
});
