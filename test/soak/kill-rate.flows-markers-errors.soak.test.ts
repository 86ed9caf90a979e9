/** Soak: kill rate of the device-flow, client-marker and error mutants, seed 2 and a random one at full scope (`EKSO_SOAK_FULL=1`: 2, 3, random) (see test/mutants/kill-rate.ts). */
import { CLIENT_MARKER_MUTANTS } from '../../src/mutants/backend/client-marker.js';
import { DEVICE_FLOW_MUTANTS } from '../../src/mutants/backend/device-flow.js';
import { ERROR_MUTANTS } from '../../src/mutants/backend/errors.js';
import { describeKillRate } from '../mutants/kill-rate.js';

describeKillRate('device flow, client marker, errors (DF-*, CM-*, ERR-*)', [...DEVICE_FLOW_MUTANTS, ...CLIENT_MARKER_MUTANTS, ...ERROR_MUTANTS], 'soak');
