/**
 * Soak: every third-party target (test/third-party/targets.mjs), every check at its default
 * number of runs, over several seeds. Each seed must give exactly the verdicts established for
 * the target — the same ones `npm run compat` publishes in the README. Seed 2 (`npm test` runs
 * seed 1's distinctive checks; `EKSO_SOAK_FULL=1`: seeds 1, 2, 3; `EKSO_SOAK_SEEDS=…` chooses). Minutes, not seconds:
 * run by `npm run soak`, not `npm test`.
 */
import { describe, expect, it } from 'vitest';
import { soakSize } from '../support/soak.js';
// @ts-expect-error -- a plain .mjs module shared with scripts/compat.mjs
import { TARGETS, differences, runTarget } from '../third-party/targets.mjs';

const SEEDS = (process.env.EKSO_SOAK_SEEDS ?? soakSize('2', '1,2,3')).split(',').map(Number);

interface Target {
  id: string;
}

describe.each((TARGETS as Target[]).map((t) => [t.id, t] as const))('third-party target %s over several seeds', (_id, target) => {
  it.each(SEEDS)('seed %i: the established verdicts', { timeout: 900_000 }, async (seed) => {
    const { report } = await runTarget(target, { seed });
    expect(differences(target, report)).toEqual([]);
  });
});
