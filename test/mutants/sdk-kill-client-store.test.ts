/** Kill rate of the pipeline, API-key and token-store mutants (in-process: seed 1 at full scope, seeds 2 … 5 with their checks only). */
import { CLIENT_MUTANTS } from '../../src/mutants/sdk/client.js';
import { STORE_MUTANTS } from '../../src/mutants/sdk/store.js';
import { killRateSuite } from '../support/sdk-kill-rate.js';

killRateSuite('SDK mutants: pipeline, API key, token store', [...CLIENT_MUTANTS, ...STORE_MUTANTS]);
