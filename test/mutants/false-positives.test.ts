/**
 * No false positives (H-04): the harness never fails the reference backend, whatever the seed.
 * Every run here is a full run (every check) against the embedded reference, in-process:
 * 20 random seeds under the default `strict` policy, and a few under `grace=30` (the policy the
 * grace mutants are judged under). The seeds are printed, so that a failure can be replayed with
 * `npx ekso-conformance --seed N`.
 *
 * ERR-04 needs a target with a rate limiter, which the embedded reference does not turn on: it
 * has its own case, the reference with Ekso's documented 50 requests/s.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../../src/reference/backend/index.js';
import { parsePolicy } from '../../src/model/policy.js';
import { checkDetails, quietRun, randomSeed } from '../support/mutants.js';
import { removeDir, statuses } from '../support/harness.js';

const STRICT_SEEDS = Array.from({ length: 20 }, () => randomSeed());
const GRACE_SEEDS = Array.from({ length: 3 }, () => randomSeed());
const timings: string[] = [];

afterAll(() => {
  if (timings.length) console.log(`false positives against the reference (in-process):\n  ${timings.join('\n  ')}`);
});

async function expectClean(seed: number, policy: string): Promise<void> {
  const started = Date.now();
  const { code, report, outDir } = await quietRun({ seed, policy: parsePolicy(policy)! });
  try {
    timings.push(`${policy} seed ${seed}: ${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.inconclusive} inconclusive, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const why = [`seed ${seed} (${policy})`, ...checkDetails(report)].join('\n  ');
    const s = statuses(report);
    const backend = report.requirements.filter((r) => r.side === 'backend');
    expect(backend.filter((r) => r.status !== 'passed' && r.id !== 'ERR-04').map((r) => `${r.id}: ${r.status}`), why).toEqual([]);
    expect(s['ERR-04'], why).toBe('skipped');
    expect(code, why).toBe(0);
    expect(report.checks.filter((c) => c.status !== 'passed' && c.id !== 'err.rate-limit').map((c) => c.id), why).toEqual([]);
    expect(report.cleanup.leaked, why).toBe(0);
  } finally {
    await removeDir(outDir);
  }
}

describe('no false positives: the embedded reference passes every check for any seed', () => {
  for (const seed of STRICT_SEEDS) it(`strict, seed ${seed}`, () => expectClean(seed, 'strict'));
  for (const seed of GRACE_SEEDS) it(`grace=30, seed ${seed}`, () => expectClean(seed, 'grace=30'));

  it('ERR-04: the reference with a 50 requests/s limit passes the rate-limit check', async () => {
    const backend = createReferenceBackend({ testHooks: true, rateLimitPerSecond: 50, deviceIntervalSeconds: 0 });
    const { baseUrl } = await backend.listen(0);
    try {
      for (const seed of [randomSeed(), randomSeed()]) {
        const { code, report, outDir } = await quietRun({ baseUrl, seed, checkRateLimit: true, check: [/^ERR-04$/], checkText: 'ERR-04' });
        await removeDir(outDir);
        expect(statuses(report)['ERR-04'], [`seed ${seed}`, ...checkDetails(report)].join('\n  ')).toBe('passed');
        expect(code).toBe(0);
      }
    } finally {
      await backend.close();
    }
  });
});
