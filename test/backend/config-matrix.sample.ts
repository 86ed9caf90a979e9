import type { Lane } from '../support/config-matrix.js';

/**
 * The lanes `npm test` runs (test/backend/config-matrix.test.ts): every token source, every kind of
 * clock and both policies at least once. The soak tier runs the (source, clock) pairs left out.
 */
export const SAMPLE: readonly Lane[] = [
  { source: 'hooks', clock: 'discovery', policy: 'strict' },
  { source: 'command', clock: 'profile', policy: 'grace=30' },
  { source: 'device', clock: 'none', policy: 'strict' },
  { source: 'both', clock: 'discovery', policy: 'grace=30' },
  { source: 'hooks', clock: 'none', policy: 'grace=30' },
];
