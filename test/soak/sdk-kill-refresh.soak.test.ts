/** Soak: kill rate of the RefreshableBearerAuth mutants, seeds 2 and 3 at full scope (`EKSO_SOAK_FULL=1`: 2 … 5) (see test/support/sdk-kill-rate.ts). */
import { REFRESH_MUTANTS } from '../../src/mutants/sdk/refresh.js';
import { killRateSuite, SDK_KILL_TIERS } from '../support/sdk-kill-rate.js';

killRateSuite('SDK mutants: RefreshableBearerAuth', REFRESH_MUTANTS, SDK_KILL_TIERS.soak);
