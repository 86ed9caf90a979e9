/** Soak: kill rate of the pipeline, API-key and token-store mutants, seeds 2 and 3 at full scope (`EKSO_SOAK_FULL=1`: 2 … 5) (see test/support/sdk-kill-rate.ts). */
import { CLIENT_MUTANTS } from '../../src/mutants/sdk/client.js';
import { STORE_MUTANTS } from '../../src/mutants/sdk/store.js';
import { killRateSuite, SDK_KILL_TIERS } from '../support/sdk-kill-rate.js';

killRateSuite('SDK mutants: pipeline, API key, token store', [...CLIENT_MUTANTS, ...STORE_MUTANTS], SDK_KILL_TIERS.soak);
