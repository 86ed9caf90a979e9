import { API_KEY_MUTANTS } from '../../src/mutants/backend/api-keys.js';
import { describeKillRate } from './kill-rate.js';

describeKillRate('API keys (AK-*)', API_KEY_MUTANTS);
