/**
 * Broken variants of the reference SDK: each departs from the reference in one behaviour (one
 * overridden seam of one SDK class, swapped in through the adapter's factories) and names the
 * requirement(s) the harness must fail against it. `test/mutants/sdk-*.test.ts` runs the harness
 * against every one of them (kill rate) and against the reference itself (no false positives).
 */
import type { SdkMutant } from './registry.js';
import { CLIENT_MUTANTS } from './sdk/client.js';
import { REFRESH_MUTANTS } from './sdk/refresh.js';
import { STORE_MUTANTS } from './sdk/store.js';

export const SDK_MUTANT_LIST: readonly SdkMutant[] = [...REFRESH_MUTANTS, ...CLIENT_MUTANTS, ...STORE_MUTANTS];
