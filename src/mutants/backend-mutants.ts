/**
 * Broken variants of the reference backend: each departs from the reference in one behaviour
 * (one overridden method, or one store method) and names the requirement(s) the harness must
 * fail against it. `test/mutants` runs the harness against every one of them (kill rate) and
 * against the reference itself (no false positives).
 */
import { API_KEY_MUTANTS } from './backend/api-keys.js';
import { CLIENT_MARKER_MUTANTS } from './backend/client-marker.js';
import { DEVICE_FLOW_MUTANTS } from './backend/device-flow.js';
import { ERROR_MUTANTS } from './backend/errors.js';
import { ROTATION_MUTANTS } from './backend/rotation.js';
import type { BackendMutant } from './registry.js';

export const BACKEND_MUTANT_LIST: readonly BackendMutant[] = [
  ...API_KEY_MUTANTS,
  ...ROTATION_MUTANTS,
  ...DEVICE_FLOW_MUTANTS,
  ...CLIENT_MARKER_MUTANTS,
  ...ERROR_MUTANTS,
];
