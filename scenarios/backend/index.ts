/** Every backend check, in run order (one file per requirement group). */
import type { CheckDefinition } from '../../src/engine/check.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import { API_KEY_CHECKS } from './api-keys.js';
import { CLIENT_MARKER_CHECKS } from './client-marker.js';
import { DEVICE_FLOW_CHECKS } from './device-flow.js';
import { ERROR_CHECKS } from './errors.js';
import { ROTATION_CHECKS } from './rotation.js';

export const BACKEND_CHECKS: readonly CheckDefinition<BackendSession>[] = [
  ...API_KEY_CHECKS,
  ...ROTATION_CHECKS,
  ...DEVICE_FLOW_CHECKS,
  ...CLIENT_MARKER_CHECKS,
  ...ERROR_CHECKS,
];
