/**
 * No false positives over the network, everyday sample: the reference served by
 * `serve --test-hooks --rate-limit 0` as a separate process (`node dist/cli.js`), one full run
 * under `strict` and one under `grace=30`, side by side. The long sweep (20 runs) is in the soak
 * tier: test/soak/backend-false-positives.network.soak.test.ts.
 */
import { backendNetworkFalsePositives } from '../support/false-positives.js';

backendNetworkFalsePositives({ strict: 1, grace: 1 });
