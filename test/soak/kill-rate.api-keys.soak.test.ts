/** Soak: kill rate of the API-key mutants, seed 2 and a random one at full scope (`EKSO_SOAK_FULL=1`: 2, 3, random) (see test/mutants/kill-rate.ts). */
import { API_KEY_MUTANTS } from '../../src/mutants/backend/api-keys.js';
import { describeKillRate } from '../mutants/kill-rate.js';

describeKillRate('API keys (AK-*)', API_KEY_MUTANTS, 'soak');
