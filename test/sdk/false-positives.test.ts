/**
 * No false positives (H-04) of SDK mode, everyday sample: the reference SDK in-process (3 random
 * seeds) and over stdio (2 random seeds), and the Python example over stdio (2 random seeds). The
 * long sweeps (20 seeds in-process, 20 over stdio) are in the soak tier:
 * test/soak/sdk-false-positives.soak.test.ts.
 */
import { sdkFalsePositives } from '../support/false-positives.js';

sdkFalsePositives({ inProcess: 3, stdio: 2, python: 2 });
