/** Every SDK check, in run order (one file per requirement group). */
import type { CheckDefinition } from '../../src/engine/check.js';

// Filled in by the SDK scenarios; typed loosely here to keep `list` independent of SDK mode's env.
export const SDK_CHECKS: readonly CheckDefinition<never>[] = [];
