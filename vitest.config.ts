import { configDefaults, defineConfig } from 'vitest/config';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long sweeps run in `npm run soak` (vitest.soak.config.ts).
    exclude: [...configDefaults.exclude, 'test/soak/**'],
    // Generous: the machine is often shared, and a test that merely took long under load is not a
    // failure of what it proves (speed is measured by `npm run bench`, never asserted here).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two worker processes on this 2-core machine (vitest's default would be one: cores − 1).
    // Measured with EKSO_TEST_CPU: the everyday suite costs about 450 s of CPU (workers and the
    // processes they start), so one worker cannot finish under 5 minutes even on an idle machine.
    // Real-time tests stay reliable with two: those that wait (stdio adapters, `serve`, sleeps)
    // do their own concurrency and allow seconds of slack, and each worker keeps a core of its own
    // on an idle machine; on a shared one a worker's share barely changes with a second worker
    // (1/(L+2) of the machine instead of 1/(L+1) under a load L). Observed: full runs with two
    // workers at load averages of 7–20 passed, except for 60 s timeouts at load 20 (hence 120 s).
    maxWorkers: 2,
    // EKSO_TEST_CPU=<file>: each test file appends its CPU and wall time there (test/support/cpu-per-file.ts).
    setupFiles: process.env.EKSO_TEST_CPU ? ['test/support/cpu-per-file.ts'] : [],
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
