/**
 * Soak: no false positives against the embedded reference, in-process — 6 random seeds under
 * `strict`, 2 under `grace=30`, full runs, and the ERR-04 case (`EKSO_SOAK_FULL=1`: 20, 3, 2). (`npm test` runs a sample:
 * test/mutants/false-positives.test.ts.)
 */
import { soakSize } from '../support/soak.js';
import { backendInProcessFalsePositives } from '../support/false-positives.js';

backendInProcessFalsePositives(soakSize({ strict: 6, grace: 2, rateLimitSeeds: 1 }, { strict: 20, grace: 3, rateLimitSeeds: 2 }));
