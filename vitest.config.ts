import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import SlowestFirstSequencer from './test/support/sequencer.js';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;

/**
 * Test files that replace modules or globals (vi.mock, vi.spyOn): each runs with a module registry
 * of its own. Every other file shares its worker's registry with the files before it (isolate:
 * false): the harness's modules are imported once per worker, not once per file — measured, that
 * import cost was about 40 s of CPU of the everyday suite. Safe because the harness keeps no state
 * between runs at module level (a run's state lives in its session; process listeners are removed
 * when a run ends), which the suite itself shows by passing in either mode (`--isolate`).
 */
const ISOLATED = ['test/backend-robustness/cleanup-crash.test.ts', 'test/security/loopback-rule.test.ts'];

export default defineConfig({
  // examples/vitest-sdk imports the package by its name, as an SDK author's test does: here it is
  // this project's source (the packed-tarball test proves the published package resolves the same).
  resolve: { alias: { 'ekso-conformance': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    // Generous: the machine is often shared, and a test that merely took long under load is not a
    // failure of what it proves (speed is measured by `npm run bench`, never asserted here).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The slowest files start first on any checkout, cached timings or not (test/support/sequencer.ts).
    sequence: { sequencer: SlowestFirstSequencer },
    // Three worker processes on this 2-core machine (vitest's default would be one: cores − 1).
    // Measured with EKSO_TEST_CPU: the everyday suite costs about 450 s of CPU (workers and the
    // processes they start), but a quarter of its wall time is waiting (real-time SDK runs, stdio
    // adapters, `serve`, sleeps), so a third worker keeps both cores busy while one waits: 2 workers
    // 378 s, 3 workers 330 s, 3 workers sharing module registries 250 s. Real-time tests stay
    // reliable: those that wait do their own concurrency and allow seconds of slack. Observed: full
    // runs with two workers at load averages of 7–20 passed, except for 60 s timeouts at load 20
    // (hence 120 s). EKSO_TEST_WORKERS overrides the count.
    maxWorkers: Number(process.env.EKSO_TEST_WORKERS ?? 3),
    // EKSO_TEST_CPU=<file>: each test file appends its CPU and wall time there (test/support/cpu-per-file.ts).
    setupFiles: process.env.EKSO_TEST_CPU ? ['test/support/cpu-per-file.ts'] : [],
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts', 'examples/vitest-sdk/*.test.ts'],
          // The long sweeps run in `npm run soak` (vitest.soak.config.ts).
          exclude: [...configDefaults.exclude, 'test/soak/**', ...ISOLATED],
          isolate: false,
        },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
});
