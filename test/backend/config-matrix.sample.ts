import type { Lane } from '../support/config-matrix.js';

/**
 * The lanes `npm test` runs (test/backend/config-matrix.test.ts): every kind of clock, both policies,
 * and the token sources (`both` is the command and the device script together). The soak tier runs the (source, clock) pairs left out.
 */
export const SAMPLE: readonly Lane[] = [
  { source: 'hooks', clock: 'none', policy: 'grace=30' },
  { source: 'command', clock: 'profile', policy: 'grace=30' },
  { source: 'both', clock: 'discovery', policy: 'strict' },
];
