/**
 * `.ci/run`'s closing line (`N passed, N failed[, N skipped]`) computed by .ci/summarize.mjs from
 * vitest's JSON report, else from vitest's console summary, else `0 passed, 1 failed`; and the
 * script's shape (bash, executable, the README's `npm test`, a fresh clone).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error an untyped .mjs script
import { fromJson, fromLog, summarize } from '../../.ci/summarize.mjs';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-ci-run-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function vitestJson(overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    numTotalTestSuites: 3,
    numPassedTestSuites: 3,
    numFailedTestSuites: 0,
    numPendingTestSuites: 0,
    numTotalTests: 12,
    numPassedTests: 10,
    numFailedTests: 0,
    numPendingTests: 2,
    numTodoTests: 0,
    success: true,
    testResults: [{ name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] }],
    ...overrides,
  });
}

const ESC = '\u001b';
const LOG_TAIL = [
  ` ${ESC}[2m Test Files ${ESC}[22m ${ESC}[1m${ESC}[31m2 failed${ESC}[39m${ESC}[22m | ${ESC}[32m30 passed${ESC}[39m (32)`,
  ` ${ESC}[2m      Tests ${ESC}[22m ${ESC}[1m${ESC}[31m3 failed${ESC}[39m${ESC}[22m${ESC}[2m | ${ESC}[22m${ESC}[1m${ESC}[32m240 passed${ESC}[39m${ESC}[22m${ESC}[2m | ${ESC}[22m${ESC}[33m2 skipped${ESC}[39m (245)`,
  `   Duration  35.61s`,
].join('\n');

describe('the closing line', () => {
  it('comes from the JSON report', () => {
    expect(fromJson(vitestJson())).toEqual({ passed: 10, failed: 0, skipped: 2 });
    expect(fromJson(vitestJson({ numFailedTests: 1, success: false }))).toEqual({ passed: 10, failed: 1, skipped: 2 });
  });

  it('counts a test file that failed without a failing test (an import error) as a failure', () => {
    const json = vitestJson({
      success: false,
      testResults: [
        { name: 'broken.test.ts', status: 'failed', assertionResults: [] },
        { name: 'fine.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
      ],
    });
    expect(fromJson(json)).toEqual({ passed: 10, failed: 1, skipped: 2 });
  });

  it('is never "0 passed, 0 failed": no test at all is a failure', () => {
    expect(fromJson(vitestJson({ numTotalTests: 0, numPassedTests: 0, numPendingTests: 0, testResults: [] }))).toEqual({ passed: 0, failed: 1, skipped: 0 });
    expect(fromJson('not json')).toBeNull();
    expect(fromJson('{"something": "else"}')).toBeNull();
  });

  it("falls back to vitest's console summary (colours and all)", () => {
    expect(fromLog(LOG_TAIL)).toEqual({ passed: 240, failed: 3, skipped: 2 });
    expect(fromLog(' Test Files  1 failed (1)\n      Tests  no tests\n')).toEqual({ passed: 0, failed: 1, skipped: 0 });
    expect(fromLog('npm ERR! tsc failed\n')).toBeNull();
  });

  it('prints `N passed, N failed`, with skipped only when there are some, and `0 passed, 1 failed` when nothing ran', async () => {
    const json = join(dir, 'vitest.json');
    const log = join(dir, 'test.log');
    await writeFile(json, vitestJson());
    await writeFile(log, LOG_TAIL);
    expect(summarize(json, log)).toBe('10 passed, 0 failed, 2 skipped');
    expect(summarize(join(dir, 'missing.json'), log)).toBe('240 passed, 3 failed, 2 skipped');
    expect(summarize(join(dir, 'missing.json'), join(dir, 'missing.log'))).toBe('0 passed, 1 failed');
    await writeFile(json, vitestJson({ numPendingTests: 0 }));
    const { stdout } = await run(process.execPath, [join(ROOT, '.ci', 'summarize.mjs'), json, log]);
    expect(stdout).toBe('10 passed, 0 failed\n');
    expect(stdout.trim()).toMatch(/^\d+ passed, \d+ failed(, \d+ skipped)?$/);
  });
});

describe('.ci/run', () => {
  const script = join(ROOT, '.ci', 'run');
  const text = readFileSync(script, 'utf8');

  it('is an executable bash script that parses', async () => {
    accessSync(script, constants.X_OK);
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    await run('bash', ['-n', script]);
  });

  it("runs npm ci, then exactly the README's test command with the JSON report switched on", () => {
    expect(text).toMatch(/\nif ! npm ci\b/);
    expect(text).toMatch(/\nEKSO_VITEST_JSON="\$out\/vitest\.json" npm test 2>&1 \| tee/);
    expect(text).toContain('rm -f "$out/vitest.json"');
  });

  it('keeps apt-get and dockerd output in log files and only starts an engine where none answers', () => {
    expect(text).toMatch(/apt-get install -y --no-install-recommends docker\.io; \} >>"\$out\/apt\.log" 2>&1/);
    expect(text).toMatch(/nohup dockerd "\$@" >>"\$out\/dockerd\.log" 2>&1/);
    expect(text).toContain('engine_answers');
  });

  it("installs Mono's compiler for the .NET example the same way, and says why when it cannot", () => {
    expect(text).toMatch(/apt-get install -y --no-install-recommends mono-mcs libmono-system-net-http4\.0-cil; \} >>"\$out\/apt\.log" 2>&1/);
    expect(text).toContain('mono_ready');
    expect(text).toMatch(/say "mono: none, the \.NET SDK example's test will be skipped — \$\{mono_reason\}"/);
  });

  it('leaves its logs in .ci/out/, which git ignores', () => {
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toMatch(/^\.ci\/out\/$/m);
  });
});
