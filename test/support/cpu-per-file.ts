/**
 * Opt-in measurement of the suite (not a test, never an assertion): with EKSO_TEST_CPU=<file>,
 * each test file appends one line `<cpu ms> <wall ms> <path>` to <file>, where cpu is the user +
 * system time of its worker process and of the child processes it waited for (CLIs, `serve`,
 * stdio adapters), from /proc/self/stat. On a machine shared with other work, wall time says
 * little; CPU time says what the file costs. Used to keep `npm test` within its budget (README).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, expect } from 'vitest';

const out = process.env.EKSO_TEST_CPU;

/** utime + stime + cutime + cstime of this process, in ms. */
function cpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14–17 of proc(5), counted from 1 with pid and comm: indexes 11–14 after the comm.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / 100;
}

if (out) {
  // Taken when this setup file loads, before the test file is imported (its import counts too).
  const cpu0 = cpuMs();
  const wall0 = Date.now();
  afterAll(() => {
    const file = expect.getState().testPath ?? '?';
    appendFileSync(out, `${Math.round(cpuMs() - cpu0)} ${Date.now() - wall0} ${relative(process.cwd(), file)}\n`);
  });
}
