/**
 * Issue 11 point 4: the plain-http rule (H-06) holds for every URL the harness sends credentials
 * to, and on what the URL really is. `--server-cmd … --ready-url http://0.0.0.0:P/…` bypassed it
 * (only --base-url was checked): the ready URL's origin became the base URL and the admin key went
 * there over plain http. Loopback is decided precisely: 127.0.0.0/8, ::1 and the IPv4-mapped
 * `::ffff:127.x.y.z` are loopback; 0.0.0.0, ::, and the deprecated `::127.0.0.1` are not; a
 * `localhost` name is loopback only when it resolves to loopback addresses alone (checked before
 * the run and again at every connection); any other name is not.
 */
import dns from 'node:dns';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLoopbackAddress, isLoopbackHost, loopbackOnlyLookup, plainHttpRefusal } from '../../src/cli/options.js';
import { error500, startFixture, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { hasStackTrace, lines, runCli } from '../support/cli.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('what is loopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.254.3.9', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['[::ffff:7f00:1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['::7f00:1', false],
    ['::ffff:10.0.0.1', false],
    ['128.0.0.1', false],
    ['localhost', false],
  ])('address %s → %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it.each([
    // The URL parser normalises every IPv4 spelling and compresses IPv6.
    ['http://127.1:1/', null],
    ['http://0x7f000001:1/', null],
    ['http://[::ffff:127.0.0.1]:1/', null],
    ['http://[0::1]:1/', null],
    ['https://anything.example/', null],
    ['http://0.0.0.0:1/', /0\.0\.0\.0 \(--x\): not a loopback address/],
    ['http://[::]:1/', /not a loopback address/],
    ['http://[::127.0.0.1]:1/', /not a loopback address/],
    ['http://127.0.0.1.nip.io:1/', /not loopback/],
    ['http://conformance.example.invalid/', /not loopback/],
  ])('plain http to %s', async (url, refused) => {
    const lookup = vi.spyOn(dns.promises, 'lookup');
    const result = await plainHttpRefusal(url, '--x', false);
    if (refused === null) expect(result).toBeNull();
    else expect(result).toMatch(refused);
    // Only `localhost` names are ever resolved.
    expect(lookup).not.toHaveBeenCalled();
    expect(await plainHttpRefusal(url, '--x', true)).toBeNull();
  });

  it('a localhost name is loopback only when every address it resolves to is', async () => {
    const answers: Record<string, dns.LookupAddress[] | Error> = {
      'localhost': [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }],
      'localhost.': [{ address: '127.0.0.1', family: 4 }, { address: '203.0.113.7', family: 4 }],
      'app.localhost': [{ address: '198.51.100.2', family: 4 }],
      'gone.localhost': Object.assign(new Error('not found'), { code: 'ENOTFOUND' }),
    };
    vi.spyOn(dns.promises, 'lookup').mockImplementation((async (host: string) => {
      const answer = answers[host];
      if (answer instanceof Error || !answer) throw answer ?? new Error('unexpected');
      return answer;
    }) as never);
    expect(await plainHttpRefusal('http://localhost:1/', '--base-url', false)).toBeNull();
    expect(await plainHttpRefusal('http://localhost.:1/', '--base-url', false)).toMatch(/resolves to 203\.0\.113\.7, not loopback/);
    expect(await plainHttpRefusal('http://app.localhost:1/', '--base-url', false)).toMatch(/resolves to 198\.51\.100\.2/);
    expect(await plainHttpRefusal('http://gone.localhost:1/', '--base-url', false)).toMatch(/does not resolve \(ENOTFOUND\)/);
    // By name alone (the rate-cap default), localhost names count as loopback.
    expect(isLoopbackHost('app.localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });

  it('at connection time, a name that now resolves elsewhere is refused (DNS rebinding)', async () => {
    vi.spyOn(dns, 'lookup').mockImplementation(((_host: string, _options: unknown, callback: (e: null, a: dns.LookupAddress[]) => void) => {
      callback(null, [{ address: '203.0.113.7', family: 4 }]);
    }) as never);
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => loopbackOnlyLookup('localhost', { all: true }, (e) => resolve(e)));
    expect(error?.code).toBe('ENOTLOOPBACK');
    expect(error?.message).toMatch(/now resolves to 203\.0\.113\.7/);
  });
});

describe('the CLI', () => {
  let fixture: Fixture;
  let dir: string;
  beforeAll(async () => {
    fixture = await startFixture(error500);
    dir = await mkdtemp(join(tmpdir(), 'ekso-loopback-'));
  });
  afterAll(async () => {
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('--server-cmd with a plain-http --ready-url that is not loopback: exit 2 before anything starts or is sent', async () => {
    const port = new URL(fixture.baseUrl).port;
    const started = join(dir, 'STARTED');
    const result = await runCli(['--server-cmd', `touch ${started}`, '--ready-url', `http://0.0.0.0:${port}/health`, '--admin-key', 'ek_live_notsentnotsentnotsentnotsent', '--out', join(dir, 'out')]);
    expect(result.code, result.stderr).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(hasStackTrace(result.stderr)).toBe(false);
    expect(result.stderr).toMatch(/refusing plain http:\/\/ to 0\.0\.0\.0 \(--ready-url\): not a loopback address; use https, or --insecure/);
    expect(existsSync(started)).toBe(false);
    expect(fixture.requests).toHaveLength(0);
  });
});

