/**
 * No false positives (H-04), in-process, everyday sample: full runs (every check) against the
 * embedded reference for 3 random seeds under `strict` and 1 under `grace=30`, plus the ERR-04
 * case (the reference with a 50 requests/s limit). The long sweep (20 strict, 3 grace) is in the
 * soak tier: test/soak/backend-false-positives.soak.test.ts.
 */
import { backendInProcessFalsePositives } from '../support/false-positives.js';

backendInProcessFalsePositives({ strict: 3, grace: 1, rateLimitSeeds: 2 });
