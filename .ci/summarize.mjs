#!/usr/bin/env node
// Prints the one closing line of a CI run, `N passed, N failed[, N skipped]`, from vitest's JSON
// report (EKSO_VITEST_JSON); without it, from vitest's own summary in the captured console log;
// and `0 passed, 1 failed` when neither says anything (the tests did not run at all). Several
// tiers (`npm test`, then `npm run soak`) are summed, each given as its JSON report and its log.
//
// usage: node .ci/summarize.mjs <vitest.json> <test.log> [<soak.json> <soak.log> ...]
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function fromJson(text) {
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof report !== 'object' || report === null || typeof report.numTotalTests !== 'number') return null;
  const passed = report.numPassedTests ?? 0;
  let failed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that failed to load or whose hooks failed has no failed test of its own: count it.
  for (const file of report.testResults ?? []) {
    const failedInside = (file.assertionResults ?? []).some((a) => a.status === 'failed');
    if (file.status === 'failed' && !failedInside) failed += 1;
  }
  if (report.success === false && failed === 0) failed = 1;
  if (passed + failed + skipped === 0) failed = 1;
  return { passed, failed, skipped };
}

export function fromLog(text) {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  const testsLine = plain.split(/\r?\n/).reverse().find((l) => /^\s*Tests\s+.*\d+ (passed|failed|skipped|todo)/.test(l));
  const filesLine = plain.split(/\r?\n/).reverse().find((l) => /^\s*Test Files\s+.*\d+ (passed|failed|skipped)/.test(l));
  if (!testsLine && !filesLine) return null;
  const count = (line, word) => Number(new RegExp(`(\\d+) ${word}`).exec(line ?? '')?.[1] ?? 0);
  const passed = count(testsLine, 'passed');
  let failed = count(testsLine, 'failed');
  const skipped = count(testsLine, 'skipped') + count(testsLine, 'todo');
  // Files that failed without a failed test (import errors) appear only on the files line.
  if (failed === 0 && count(filesLine, 'failed') > 0) failed = count(filesLine, 'failed');
  if (passed + failed + skipped === 0) failed = 1;
  return { passed, failed, skipped };
}

/** The counts of one tier: its JSON report, else its console log, else one failure (it did not run). */
export function tierCounts(jsonPath, logPath) {
  return (
    (jsonPath && existsSync(jsonPath) ? fromJson(readFileSync(jsonPath, 'utf8')) : null) ??
    (logPath && existsSync(logPath) ? fromLog(readFileSync(logPath, 'utf8')) : null) ?? { passed: 0, failed: 1, skipped: 0 }
  );
}

export function formatCounts(counts) {
  return `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
}

/** summarize(json, log[, json2, log2, ...]): the closing line summing every tier. */
export function summarize(...paths) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  const pairs = Math.max(1, Math.ceil(paths.length / 2));
  for (let i = 0; i < pairs; i++) {
    const counts = tierCounts(paths[2 * i], paths[2 * i + 1]);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  return formatCounts(total);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${summarize(...process.argv.slice(2))}\n`);
}
