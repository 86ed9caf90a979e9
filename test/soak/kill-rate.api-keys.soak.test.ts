/** Soak: kill rate of the API-key mutants, seeds 2, 3 and a random one at full scope (see test/mutants/kill-rate.ts). */
import { API_KEY_MUTANTS } from '../../src/mutants/backend/api-keys.js';
import { describeKillRate } from '../mutants/kill-rate.js';

describeKillRate('API keys (AK-*)', API_KEY_MUTANTS, 'soak');
