import { configDefaults, defineConfig } from 'vitest/config';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long sweeps run in `npm run soak` (vitest.soak.config.ts).
    exclude: [...configDefaults.exclude, 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
