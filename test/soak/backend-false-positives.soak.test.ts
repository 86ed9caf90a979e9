/**
 * Soak: no false positives against the embedded reference, in-process — 20 random seeds under
 * `strict`, 3 under `grace=30`, full runs, and the ERR-04 case. (`npm test` runs a sample:
 * test/mutants/false-positives.test.ts.)
 */
import { backendInProcessFalsePositives } from '../support/false-positives.js';

backendInProcessFalsePositives({ strict: 20, grace: 3, rateLimitSeeds: 2 });
