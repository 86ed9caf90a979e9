/**
 * H-05: against a misbehaving target (hangs, resets, HTML, 500, garbage JSON — everywhere or only
 * on some endpoints) the harness never crashes or hangs: it marks checks inconclusive or failed,
 * exits 1, 3 or 4 (never 0, never 70), and writes all four reports, the JSON one valid.
 * Also --max-time: unfinished checks become inconclusive and the run ends without waiting for
 * the hanging requests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import { hasStackTrace, readReports, runCli } from '../support/cli.js';
import { error500, garbage, hang, html, pathOf, proxy, reset, startFixture, type Arrival, type Handler, type Upstream } from './fixtures/targets.js';

let reference: ReferenceBackend;
let upstream: string;
let dir: string;

beforeAll(async () => {
  reference = createReferenceBackend({ testHooks: true, deviceIntervalSeconds: 0 });
  upstream = (await reference.listen(0, '127.0.0.1')).baseUrl;
  dir = await mkdtemp(join(tmpdir(), 'ekso-misbehave-'));
});

afterAll(async () => {
  await reference.close();
  await rm(dir, { recursive: true, force: true });
});

const FAKE_KEYS = ['--admin-key', 'ek_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--user-key', 'ek_live_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'];

type Rule = (arrival: Arrival, answer: Upstream | undefined) => Upstream | 'hang' | 'reset' | 'forward' | undefined;

/** The reference behind a proxy that misbehaves where `rule` says. */
const faulty = (rule: Rule): Handler => proxy(upstream, rule);
const under = (prefix: string, fault: 'hang' | 'reset' | Upstream): Rule => (a) => (pathOf(a).startsWith(prefix) ? fault : 'forward');
const HTML_PAGE: Upstream = { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Maintenance</body></html>' };
const JSON_GARBAGE: Upstream = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token": "x", "refresh_token": ' };

let counter = 0;
const CASES: Array<{ name: string; handler: () => Handler; args?: string[]; expected: number[] }> = [
  { name: 'hangs everywhere', handler: () => hang, expected: [3] },
  { name: 'resets every connection', handler: () => reset, expected: [3] },
  { name: 'answers HTML 200 everywhere', handler: () => html, expected: [1] },
  { name: 'answers HTML 200 everywhere (with keys)', handler: () => html, args: FAKE_KEYS, expected: [1] },
  { name: 'answers 500 everywhere', handler: () => error500, expected: [1] },
  { name: 'answers 500 everywhere (with keys)', handler: () => error500, args: FAKE_KEYS, expected: [1] },
  { name: 'answers garbage JSON everywhere', handler: () => garbage(), expected: [1] },
  { name: 'answers garbage JSON everywhere (with keys)', handler: () => garbage(), args: FAKE_KEYS, expected: [1] },
  { name: 'answers discovery, then its test hooks hang', handler: () => faulty(under('/__conformance/api-key', 'hang')), expected: [3] },
  { name: 'answers discovery, then its test hooks reset', handler: () => faulty(under('/__conformance', 'reset')), expected: [3] },
  { name: 'answers discovery, then its test hooks answer HTML', handler: () => faulty(under('/__conformance', HTML_PAGE)), expected: [3] },
  { name: 'hangs on /api once set up', handler: () => faulty(under('/api', 'hang')), expected: [4] },
  { name: 'resets the token endpoint', handler: () => faulty(under('/token', 'reset')), expected: [1, 4] },
  { name: 'answers garbage from the token endpoint', handler: () => faulty(under('/token', JSON_GARBAGE)), expected: [1, 4] },
  { name: 'answers HTML from /api/field', handler: () => faulty(under('/api/field', HTML_PAGE)), expected: [1, 4] },
  {
    name: 'resets every 7th request',
    handler: () => faulty((a) => (++counter % 7 === 0 && !pathOf(a).startsWith('/.well-known') ? 'reset' : 'forward')),
    expected: [1, 4],
  },
];

describe.concurrent('a misbehaving target never crashes or hangs the harness', () => {
  it.each(CASES)('$name', { timeout: 180_000 }, async ({ name, handler, args = [], expected }) => {
    const fixture = await startFixture(handler());
    const out = join(dir, name.replace(/\W+/g, '-'));
    try {
      const result = await runCli(['--base-url', fixture.baseUrl, '--timeout', '3', '--num-runs', '2', '--max-time', '20', '--out', out, '--no-color', '--seed', '5', ...args], {
        timeoutMs: 150_000,
      });
      const context = `exit ${result.code} ${result.signal ?? ''}\nstderr:\n${result.stderr.slice(-3000)}`;
      expect(result.signal, context).toBeNull();
      expect(expected, context).toContain(result.code);
      expect(result.stderr, context).not.toMatch(/internal error/);
      expect(hasStackTrace(result.stderr + result.stdout), context).toBe(false);
      const { report, files } = await readReports(out);
      for (const [file, text] of Object.entries(files)) expect(text.length, file).toBeGreaterThan(100);
      expect(report.exitCode, 'the report states the exit code of the process').toBe(result.code);
      const backend = report.requirements.filter((r) => r.side === 'backend');
      expect(backend.some((r) => r.status === 'failed' || r.status === 'inconclusive')).toBe(true);
      for (const check of report.checks.filter((c) => c.status === 'inconclusive' || c.status === 'failed')) {
        expect(check.message, check.id).toBeTruthy();
      }
      if (result.code === 3) expect(backend.every((r) => r.status === 'inconclusive')).toBe(true);
    } finally {
      await fixture.close();
    }
  });
});

describe('--max-time', () => {
  it('ends the run at the deadline although requests hang, marks unfinished checks inconclusive, and still revokes every key', { timeout: 180_000 }, async () => {
    // Key management and the hooks answer; the probe endpoint and the token endpoint never do.
    const fixture = await startFixture(
      faulty((a) => {
        const path = pathOf(a);
        return path.startsWith('/api/field') || path === '/token' ? 'hang' : 'forward';
      }),
    );
    const out = join(dir, 'max-time');
    try {
      // Each hanging request would take --timeout 120 s; the kill below comes sooner than that.
      const result = await runCli(['--base-url', fixture.baseUrl, '--timeout', '120', '--max-time', '3', '--out', out, '--no-color'], { timeoutMs: 100_000 });
      const context = `exit ${result.code} ${result.signal ?? ''}\nstderr:\n${result.stderr.slice(-3000)}`;
      expect(result.signal, `${context}\n(the run did not end at --max-time)`).toBeNull();
      expect(result.code, context).toBe(4);
      const { report } = await readReports(out);
      const unfinished = report.checks.filter((c) => /--max-time reached/.test(c.message ?? ''));
      expect(unfinished.length).toBeGreaterThan(5);
      for (const c of unfinished) expect(c.status).toBe('inconclusive');
      expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
      expect(report.cleanup.minted).toBeGreaterThan(0);
      expect(report.cleanup.leaked).toBe(0);
    } finally {
      await fixture.close();
    }
  });
});
