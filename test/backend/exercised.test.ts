/**
 * A model-based check is credited only with the requirements its generated runs exercised
 * (third-party report: `rt.rotation.model` with 3 runs that never replayed a token reported RT-05
 * passed against a server that never revokes access tokens after a replay).
 */
import { describe, expect, it } from 'vitest';
import { removeDir, runBackend } from '../support/harness.js';
import { silenced } from '../support/pool.js';

describe('rt.rotation.model with few runs', () => {
  it.each([1, 2, 3, 4, 5, 6])('never passes RT-05 against a server whose access tokens outlive a replay (seed %i)', async (seed) => {
    const { report, outDir } = await silenced(() => runBackend({ mutant: 'access-token-outlives-revocation', check: [/^rt\.rotation\.model$/], checkText: 'rt.rotation.model', numRuns: 2, seed }));
    await removeDir(outDir);
    const rt05 = report.requirements.find((r) => r.id === 'RT-05')!;
    expect(rt05.status, rt05.reason).not.toBe('passed');
  }, 60_000);
});
