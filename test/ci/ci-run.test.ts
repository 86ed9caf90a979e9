/**
 * `.ci/run`'s closing line (`N passed, N failed[, N skipped]`) computed by .ci/summarize.mjs from
 * vitest's JSON report, else from vitest's console summary, else `0 passed, 1 failed`, summed over
 * the two tiers (`npm test`, then `npm run soak`); the script's shape (bash, executable, the
 * README's `npm test` then `npm run soak`, a fresh clone); and the two tiers' vitest configs, which
 * share out the test files between them.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error an untyped .mjs script
import { fromJson, fromLog, summarize, tierCounts } from '../../.ci/summarize.mjs';
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

describe('the closing line of two tiers (npm test, then npm run soak)', () => {
  it('sums both tiers, skipped only when some tier skipped something', async () => {
    const testJson = join(dir, 'tiers-test.json');
    const soakJson = join(dir, 'tiers-soak.json');
    await writeFile(testJson, vitestJson());
    await writeFile(soakJson, vitestJson({ numPassedTests: 7, numFailedTests: 1, numPendingTests: 0, success: false }));
    expect(summarize(testJson, join(dir, 'none.log'), soakJson, join(dir, 'none.log'))).toBe('17 passed, 1 failed, 2 skipped');
    await writeFile(testJson, vitestJson({ numPendingTests: 0 }));
    const { stdout } = await run(process.execPath, [join(ROOT, '.ci', 'summarize.mjs'), testJson, join(dir, 'none.log'), soakJson, join(dir, 'none.log')]);
    expect(stdout).toBe('17 passed, 1 failed\n');
  });

  it('counts a tier that left neither a report nor a summary as one failure, whatever the other says', async () => {
    const testJson = join(dir, 'tiers-ok.json');
    await writeFile(testJson, vitestJson({ numPendingTests: 0 }));
    expect(tierCounts(join(dir, 'soak-missing.json'), join(dir, 'soak-missing.log'))).toEqual({ passed: 0, failed: 1, skipped: 0 });
    expect(summarize(testJson, join(dir, 'none.log'), join(dir, 'soak-missing.json'), join(dir, 'soak-missing.log'))).toBe('10 passed, 1 failed');
    // The soak tier's console summary stands in for its JSON report.
    const soakLog = join(dir, 'soak.log');
    await writeFile(soakLog, LOG_TAIL);
    expect(summarize(testJson, join(dir, 'none.log'), join(dir, 'soak-missing.json'), soakLog)).toBe('250 passed, 3 failed, 2 skipped');
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

  it('then runs the soak tier with its own JSON report and log, whatever npm test said, and sums both in the last line', () => {
    const testAt = text.indexOf('EKSO_VITEST_JSON="$out/vitest.json" npm test');
    const soakAt = text.indexOf('EKSO_VITEST_JSON="$out/vitest-soak.json" npm run soak 2>&1 | tee "$out/soak.log"');
    expect(soakAt).toBeGreaterThan(testAt);
    // A second run never counts the first run's reports: all four files are removed before npm test.
    expect(text).toContain('rm -f "$out/vitest.json" "$out/test.log" "$out/vitest-soak.json" "$out/soak.log"');
    expect(text.indexOf('rm -f "$out/vitest.json" "$out/test.log" "$out/vitest-soak.json"')).toBeLessThan(testAt);
    expect(text).toContain('summarize.mjs" "$out/vitest.json" "$out/test.log" "$out/vitest-soak.json" "$out/soak.log"');
    // The soak's status counts too, and the script ends with the summed line.
    expect(text).toMatch(/soak_status=\$\{PIPESTATUS\[0\]\}/);
    expect(text).toMatch(/\[ "\$status" = 0 \] && status=\$soak_status/);
    expect(text.trimEnd().split('\n').slice(-6).join('\n')).toMatch(/^echo "\$line"$/m);
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

describe('the two tiers', () => {
  /** The test files a vitest config selects, as paths relative to the project. */
  async function listed(config: string[]): Promise<string[]> {
    // Without EKSO_VITEST_JSON: under .ci/run, the listing must not overwrite the real JSON report.
    const { EKSO_VITEST_JSON: _, ...env } = process.env;
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'list', '--filesOnly', '--json', ...config], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
    return (JSON.parse(stdout) as Array<{ file: string }>).map((f) => relative(ROOT, f.file)).sort();
  }

  it('npm test and npm run soak share out the test files: every soak file in test/soak, none of them in npm test', async () => {
    const everyday = await listed([]);
    const soak = await listed(['--config', 'vitest.soak.config.ts']);
    expect(soak.length).toBeGreaterThan(0);
    for (const file of soak) expect(file).toMatch(/^test\/soak\/.+\.soak\.test\.ts$/);
    expect(everyday.filter((f) => f.startsWith('test/soak/'))).toEqual([]);
    // A test file under test/soak/ not named *.soak.test.ts would run in neither tier.
    const underSoak = readdirSync(join(ROOT, 'test', 'soak'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'));
    expect(underSoak.map((f) => `test/soak/${f}`).sort()).toEqual(soak);
    // Every sweep moved to the soak keeps a sample in npm test.
    for (const sample of ['test/mutants/false-positives.test.ts', 'test/mutants/false-positives.network.test.ts', 'test/sdk/false-positives.test.ts', 'test/mutants/sdk-kill-stdio.test.ts', 'test/mutants/kill-rate.api-keys.test.ts', 'test/mutants/sdk-kill-refresh.test.ts']) {
      expect(everyday).toContain(sample);
    }
    // package.json runs the soak config after a build.
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.soak).toBe('npm run build && vitest run --config vitest.soak.config.ts');
  }, 60_000);
});

/**
 * The real `.ci/run`, in a copy of the project that has only `.ci/` and a package whose `npm test`
 * and `npm run soak` write a made-up vitest JSON report (no dependency: `npm ci` runs offline), and
 * a stand-in `docker` that answers (so no engine is installed or started). Run twice: the second
 * run must count only its own reports.
 */
describe('.ci/run end to end (stand-in tiers)', () => {
  let project: string;
  const FAKE_VITEST = `
import { writeFileSync } from 'node:fs';
const tier = process.argv[2];
const spec = process.env['FAKE_' + tier.toUpperCase()] ?? '1,0,0';
if (spec === 'crash') { console.error(tier + ': crashed before any test'); process.exit(1); }
const [passed, failed, skipped] = spec.split(',').map(Number);
const report = { numTotalTests: passed + failed + skipped, numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numTodoTests: 0, success: failed === 0, testResults: [] };
if (process.env.EKSO_VITEST_JSON) writeFileSync(process.env.EKSO_VITEST_JSON, JSON.stringify(report));
console.log(tier + ' ran');
process.exit(failed ? 1 : 0);
`;

  beforeAll(async () => {
    project = join(dir, 'project');
    await mkdir(join(project, '.ci'), { recursive: true });
    await mkdir(join(project, 'bin'));
    await copyFile(join(ROOT, '.ci', 'run'), join(project, '.ci', 'run'));
    await copyFile(join(ROOT, '.ci', 'summarize.mjs'), join(project, '.ci', 'summarize.mjs'));
    await chmod(join(project, '.ci', 'run'), 0o755);
    await writeFile(join(project, 'fake-vitest.mjs'), FAKE_VITEST);
    const pkg = { name: 'ci-run-fixture', version: '1.0.0', private: true, scripts: { test: 'node fake-vitest.mjs test', soak: 'node fake-vitest.mjs soak' } };
    await writeFile(join(project, 'package.json'), JSON.stringify(pkg));
    await writeFile(join(project, 'package-lock.json'), JSON.stringify({ name: 'ci-run-fixture', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'ci-run-fixture', version: '1.0.0' } } }));
    await writeFile(join(project, 'bin', 'docker'), '#!/bin/sh\necho 27.0.0-standin\n');
    await chmod(join(project, 'bin', 'docker'), 0o755);
  });

  async function ciRun(env: Record<string, string>): Promise<{ code: number; lines: string[] }> {
    const { EKSO_VITEST_JSON: _, ...base } = process.env;
    const childEnv = { ...base, PATH: `${join(project, 'bin')}:${process.env.PATH}`, DOCKER_HOST: 'unix:///nonexistent/stand-in.sock', npm_config_offline: 'true', ...env };
    try {
      const { stdout } = await run('bash', [join(project, '.ci', 'run')], { cwd: project, env: childEnv, timeout: 90_000 });
      return { code: 0, lines: stdout.trimEnd().split('\n') };
    } catch (error) {
      const e = error as { code?: number; stdout?: string };
      return { code: e.code ?? -1, lines: (e.stdout ?? '').trimEnd().split('\n') };
    }
  }

  it('runs npm test then npm run soak and ends with one plain line summing both — twice in a row', async () => {
    for (let i = 0; i < 2; i++) {
      const { code, lines } = await ciRun({ FAKE_TEST: '30,0,2', FAKE_SOAK: '12,0,0' });
      expect(lines.at(-1)).toBe('42 passed, 0 failed, 2 skipped');
      expect(code).toBe(0);
      expect(lines.indexOf('test ran')).toBeLessThan(lines.indexOf('soak ran'));
      expect(lines).toContain('ci: npm test: 30 passed, 0 failed, 2 skipped');
      expect(lines).toContain('ci: npm run soak: 12 passed, 0 failed');
    }
  }, 200_000);

  it('fails when a tier fails, and counts a tier that left no report as one failure instead of the last run\'s figures', async () => {
    // The run before left a soak report with 12 passed: a soak that crashes now must not reuse it.
    const { code, lines } = await ciRun({ FAKE_TEST: '29,1,0', FAKE_SOAK: 'crash' });
    expect(lines.at(-1)).toBe('29 passed, 2 failed');
    expect(lines).toContain('ci: npm run soak: 0 passed, 1 failed');
    expect(code).toBe(1);
  }, 200_000);
});
