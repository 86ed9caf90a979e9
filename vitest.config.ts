import { configDefaults, defineConfig } from 'vitest/config';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Soak tests (test/soak/**/*.soak.test.ts, minutes each) run only when asked: EKSO_SOAK=1.
    exclude: process.env.EKSO_SOAK ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
