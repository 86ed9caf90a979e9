/** Soak: the concurrency mutants over stdio, seeds 2, 3 and 4 (`npm test` runs seed 1: test/mutants/sdk-kill-stdio.test.ts). */
import { stdioKillSuite } from '../support/sdk-kill-stdio.js';

stdioKillSuite([2, 3, 4]);
