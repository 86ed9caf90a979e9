/**
 * Soak: no false positives over the network — 6 full runs (4 `strict`, 2 `grace=30`; with
 * `EKSO_SOAK_FULL=1` 16 and 4) against
 * `serve --test-hooks --rate-limit 0` processes. (`npm test` runs a sample:
 * test/mutants/false-positives.network.test.ts.)
 */
import { soakSize } from '../support/soak.js';
import { backendNetworkFalsePositives } from '../support/false-positives.js';

backendNetworkFalsePositives(soakSize({ strict: 4, grace: 2 }, { strict: 16, grace: 4 }));
