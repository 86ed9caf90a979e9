/**
 * Soak: no false positives of SDK mode — the reference SDK for 6 random seeds in-process and 4
 * over stdio, the Python example for 1 (`EKSO_SOAK_FULL=1`: 20, 20 and 2). (`npm test` runs a sample: test/sdk/false-positives.test.ts.)
 */
import { soakSize } from '../support/soak.js';
import { sdkFalsePositives } from '../support/false-positives.js';

sdkFalsePositives(soakSize({ inProcess: 6, stdio: 4, python: 1 }, { inProcess: 20, stdio: 20, python: 2 }));
