import { configDefaults, defineConfig } from 'vitest/config';

// The CI script (.ci/run) reads the JSON reporter's file to print "N passed, N failed".
const jsonOut = process.env.EKSO_VITEST_JSON;
// Soak tests (test/soak/**/*.soak.test.ts, minutes each) stay out of `npm test`; EKSO_SOAK=1 lets
// them in (e.g. `EKSO_SOAK=1 npx vitest run test/soak`).
const soak = process.env.EKSO_SOAK === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: soak ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonOut ? ['default', ['json', { outputFile: jsonOut }]] : ['default'],
  },
});
