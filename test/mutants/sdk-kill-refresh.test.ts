/** Kill rate of the RefreshableBearerAuth mutants (in-process: seed 1 at full scope, seeds 2 … 5 with their checks only). */
import { REFRESH_MUTANTS } from '../../src/mutants/sdk/refresh.js';
import { killRateSuite } from '../support/sdk-kill-rate.js';

killRateSuite('SDK mutants: RefreshableBearerAuth', REFRESH_MUTANTS);
