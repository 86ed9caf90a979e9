/** Soak: kill rate of the rotation mutants, seed 2 and a random one at full scope (`EKSO_SOAK_FULL=1`: 2, 3, random) (see test/mutants/kill-rate.ts). */
import { ROTATION_MUTANTS } from '../../src/mutants/backend/rotation.js';
import { describeKillRate } from '../mutants/kill-rate.js';

describeKillRate('refresh tokens and rotation (RT-*)', ROTATION_MUTANTS, 'soak');
