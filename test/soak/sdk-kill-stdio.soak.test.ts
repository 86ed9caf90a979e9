/**
 * Soak: the concurrency mutants over stdio, seed 2 (`EKSO_SOAK_FULL=1`: seeds 2, 3 and 4; `npm
 * test` runs seed 1: test/mutants/sdk-kill-stdio.test.ts).
 */
import { stdioKillSuite } from '../support/sdk-kill-stdio.js';
import { soakSize } from '../support/soak.js';

stdioKillSuite(soakSize([2], [2, 3, 4]));
