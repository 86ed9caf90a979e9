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
    maxWorkers: 2,
    // EKSO_TEST_CPU=<file>: each test file appends its CPU and wall time there (test/support/cpu-per-file.ts).
    setupFiles: process.env.EKSO_TEST_CPU ? ['test/support/cpu-per-file.ts'] : [],
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
