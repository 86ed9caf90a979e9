/**
 * Soak: the masking and compound mutants with seed 2 (`EKSO_SOAK_FULL=1`: seeds 2, 3, 4), the
 * conformant variant with seed 3 (`npm test` runs seed 1: test/mutants/masking.test.ts).
 */
import { maskingSuite } from '../support/masking.js';
import { soakSize } from '../support/soak.js';

maskingSuite(soakSize([2], [2, 3, 4]), soakSize([3], [3, 4, 5]));
