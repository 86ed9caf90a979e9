import { defineConfig } from 'vitest/config';

/**
 * The soak tier (`npm run soak`): the long seed sweeps — false positives over 20 seeds in-process,
 * over the network and over stdio, the kill rate of every mutant at full scope for the remaining
 * seeds — and any other `test/soak/**\/*.soak.test.ts`. `npm test` runs a sample of each sweep;
 * `.ci/run` runs this after it. Same worker choice as vitest.config.ts (see there).
 */
const jsonOut = process.env.EKSO_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: process.env.EKSO_TEST_CPU ? ['test/support/cpu-per-file.ts'] : [],
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
