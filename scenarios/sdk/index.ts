/** Every SDK check, in run order (one file per requirement group). */
import type { CheckDefinition } from '../../src/engine/check.js';
import type { SdkSession } from '../../src/targets/sdk/session.js';
import { API_KEY_SDK_CHECKS } from './api-key.js';
import { FAILURE_SDK_CHECKS } from './failures.js';
import { REFRESH_SDK_CHECKS } from './refresh.js';
import { sessionModel } from './session-model.js';
import { TOKEN_STORE_CHECKS } from './token-store.js';

export const SDK_CHECKS: readonly CheckDefinition<SdkSession>[] = [...API_KEY_SDK_CHECKS, ...REFRESH_SDK_CHECKS, ...FAILURE_SDK_CHECKS, ...TOKEN_STORE_CHECKS, sessionModel];
