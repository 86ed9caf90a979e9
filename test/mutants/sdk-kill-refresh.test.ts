/** Kill rate of the RefreshableBearerAuth mutants (in-process, five seeds each). */
import { REFRESH_MUTANTS } from '../../src/mutants/sdk/refresh.js';
import { killRateSuite } from '../support/sdk-kill-rate.js';

killRateSuite('SDK mutants: RefreshableBearerAuth', REFRESH_MUTANTS);
