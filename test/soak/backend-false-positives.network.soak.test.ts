/**
 * Soak: no false positives over the network — 20 full runs (16 `strict`, 4 `grace=30`) against
 * `serve --test-hooks --rate-limit 0` processes. (`npm test` runs a sample:
 * test/mutants/false-positives.network.test.ts.)
 */
import { backendNetworkFalsePositives } from '../support/false-positives.js';

backendNetworkFalsePositives({ strict: 16, grace: 4 });
