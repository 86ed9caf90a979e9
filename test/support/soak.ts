/**
 * How much the soak tier sweeps. `npm run soak` (and `.ci/run`, after `npm test`) runs the CI size:
 * every sweep, each over fewer seeds, so that the whole `.ci/run` stays under 30 minutes on a
 * 2-core machine. `EKSO_SOAK_FULL=1 npm run soak` runs the full sweeps (an hour or more): the
 * seed counts the issues ask for (20 false-positive seeds, every configuration lane over six
 * seeds, …). Both sizes run every sweep; only the number of seeds (and of matrix lanes) differs,
 * and each file prints the seeds it used.
 */
export const SOAK_FULL = process.env.EKSO_SOAK_FULL === '1';

/** `ci` in the default soak, `full` under EKSO_SOAK_FULL=1. */
export function soakSize<T>(ci: T, full: T): T {
  return SOAK_FULL ? full : ci;
}

export function randomSeed(): number {
  return (Math.random() * 0x7fffffff) | 0;
}
