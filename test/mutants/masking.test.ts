/**
 * Masking and compound mutants, seed 1 (and the conformant variant with seeds 1 and 2); the soak
 * runs the other seeds (test/soak/masking.soak.test.ts). The cases: test/support/masking.ts.
 */
import { maskingSuite } from '../support/masking.js';

maskingSuite([1], [1, 2]);
