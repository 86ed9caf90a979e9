/**
 * Issue 11 point 8: text from a target or an adapter never reaches the terminal as control
 * sequences. A target whose bodies carry OSC (window title), CSI (colours, clear screen), BEL,
 * carriage returns and bidi overrides is run with --verbose: the console shows them as `\uXXXX`
 * escapes; the harness's own colours are the only escape sequences written. The JSON report keeps
 * the text as data (the other reports already replace control characters).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleOutput } from '../../src/run/console.js';
import { Redactor } from '../../src/engine/redact.js';
import type { CheckResult, Report } from '../../src/report/schema.js';
import { startFixture, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { readReports, runCli } from '../support/cli.js';

/** Retitles the window, clears the screen, rings, rewrites the line, reverses the text. */
const HOSTILE = '\u001b]0;owned\u0007\u001b[2J\u001b[31mPASS\r\u0008\u009b31m\u202eevil';
/** Every escape sequence a coloured console of the harness may write. */
const OURS = /\u001b\[(?:1|31|32|33|90|0)m/g;

function unsafeLeft(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(OURS, '').matchAll(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g)].map((m) => m[0].charCodeAt(0).toString(16));
}

describe('ConsoleOutput', () => {
  it('writes target text inert in every verbosity and colour mode; only its own colours are escapes', () => {
    for (const color of [true, false]) {
      const stream = new PassThrough();
      let written = '';
      stream.on('data', (d: Buffer) => (written += d.toString('utf8')));
      const output = new ConsoleOutput({ quiet: false, verbose: true, color, redactor: new Redactor(), stream });
      const result: CheckResult = {
        id: 'err.forged',
        title: 't',
        group: 'ERR',
        requirements: ['ERR-01'],
        status: 'failed',
        runs: 1,
        durationMs: 1,
        message: `ERR-01: ${HOSTILE}`,
        expected: '401',
        actual: `200 ${HOSTILE}\nPASS forged line`,
        steps: [`probe → ${HOSTILE}`],
        replay: 'npx ekso-conformance --check err.forged',
        seed: 1,
      };
      output.checkDone(result);
      output.debug(`transport: ${HOSTILE}`);
      output.line(`ekso-conformance: discovery: ${HOSTILE}`);
      output.summary({ mode: 'backend', exitCode: 1, policy: 'strict', seed: 1, summary: { passed: 0, failed: 1, skipped: 0, inconclusive: 0, notCovered: 0 }, cleanup: { minted: 0, revoked: 0, leaked: 0 }, checks: [result], requirements: [] } as unknown as Report, []);
      expect(unsafeLeft(written), JSON.stringify(written)).toEqual([]);
      expect(written).toContain('\\u001b]0;owned\\u0007');
      expect(written).toContain('\\u202eevil');
      // A body's line break cannot forge a line of the harness.
      expect(written).not.toMatch(/^PASS forged line/m);
      if (color) expect(written).toMatch(OURS);
    }
  });
});

describe('the CLI with --verbose against a hostile target', () => {
  let target: Fixture;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ekso-terminal-'));
    // 200 with the hostile text to everything: forged tokens are "accepted" (ERR-01 fails), and
    // the discovery document is not JSON (a diagnosis quoting it).
    target = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-note': 'fine' });
      res.end(JSON.stringify({ message: HOSTILE }).replace(/\\u001b/g, '\u001b').replace(/\\u0007/g, '\u0007'));
    });
  });
  afterAll(async () => {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the target text escaped; the JSON report keeps it as data', { timeout: 60_000 }, async () => {
    const out = join(dir, 'out');
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'ERR-01', '--num-runs', '2', '--seed', '1', '--verbose', '--no-color', '--out', out]);
    expect([1, 4], result.stderr).toContain(result.code);
    expect(result.stderr).toMatch(/\\u001b\]0;owned\\u0007/);
    expect(unsafeLeft(result.stderr + result.stdout), JSON.stringify(result.stderr.slice(0, 2000))).toEqual([]);
    const { report, files } = await readReports(out);
    expect(JSON.stringify(report)).toContain('\\u001b]0;owned\\u0007');
    for (const name of ['report.md', 'junit.xml', 'report.html']) expect(unsafeLeft(files[name]!), name).toEqual([]);
  });
});
