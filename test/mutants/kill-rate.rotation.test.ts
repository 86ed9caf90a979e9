import { ROTATION_MUTANTS } from '../../src/mutants/backend/rotation.js';
import { describeKillRate } from './kill-rate.js';

describeKillRate('refresh tokens and rotation (RT-*)', ROTATION_MUTANTS);
