/**
 * Soak: no false positives of SDK mode — the reference SDK for 20 random seeds in-process and 20
 * over stdio, the Python example for 2. (`npm test` runs a sample: test/sdk/false-positives.test.ts.)
 */
import { sdkFalsePositives } from '../support/false-positives.js';

sdkFalsePositives({ inProcess: 20, stdio: 20, python: 2 });
