import { configDefaults, defineConfig } from 'vitest/config';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The soak (long seed sweeps, every mutant in real time) runs with `npm run soak`, not here.
    exclude: [...configDefaults.exclude, 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
