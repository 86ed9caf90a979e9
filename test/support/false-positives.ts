/**
 * No false positives (H-04): the harness never fails a correct target, whatever the seed. The
 * sweeps live here and are registered twice with different sizes: a sample in `npm test` (so
 * that every kind of proof runs every day) and the long sweep in `npm run soak` (test/soak/).
 *
 * Seeds are random and printed (in the test names or the log), so that a failure replays with
 * `npx ekso-conformance --seed N` (backend) or `npx ekso-conformance sdk --seed N`.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/model/policy.js';
import { createReferenceBackend } from '../../src/reference/backend/index.js';
import { requireBuiltCli, startServe, type Serve } from './cli.js';
import { removeDir, statuses } from './harness.js';
import { checkDetails, quietRun, randomSeed } from './mutants.js';
import { pooled } from './pool.js';
import { runSdk, troubles } from './sdk-harness.js';

/** Fresh seeds every time (printed, so a failure replays with `--seed S`). */
export function randomSeeds(n: number): number[] {
  return Array.from({ length: n }, () => randomSeed());
}

// ---- backend, in-process ------------------------------------------------------------------------

/**
 * Full runs (every check) against the embedded reference, in-process: `strict` seeds under the
 * default policy and `grace` seeds under `grace=30` (the policy the grace mutants are judged
 * under). ERR-04 needs a target with a rate limiter, which the embedded reference does not turn
 * on: it has its own case, the reference with Ekso's documented 50 requests/s
 * (`rateLimitSeeds` runs of the ERR-04 check).
 */
export function backendInProcessFalsePositives(counts: { strict: number; grace: number; rateLimitSeeds: number }): void {
  const strictSeeds = randomSeeds(counts.strict);
  const graceSeeds = randomSeeds(counts.grace);
  const timings: string[] = [];

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

  describe(`no false positives: the embedded reference passes every check for any seed (${counts.strict} strict, ${counts.grace} grace=30)`, () => {
    afterAll(() => {
      if (timings.length) console.log(`false positives against the reference (in-process):\n  ${timings.join('\n  ')}`);
    });

    for (const seed of strictSeeds) it(`strict, seed ${seed}`, () => expectClean(seed, 'strict'));
    for (const seed of graceSeeds) it(`grace=30, seed ${seed}`, () => expectClean(seed, 'grace=30'));

    if (counts.rateLimitSeeds > 0) {
      it(`ERR-04: the reference with a 50 requests/s limit passes the rate-limit check (${counts.rateLimitSeeds} seeds)`, async () => {
        const backend = createReferenceBackend({ testHooks: true, rateLimitPerSecond: 50, deviceIntervalSeconds: 0 });
        const { baseUrl } = await backend.listen(0);
        try {
          for (const seed of randomSeeds(counts.rateLimitSeeds)) {
            const { code, report, outDir } = await quietRun({ baseUrl, seed, checkRateLimit: true, check: [/^ERR-04$/], checkText: 'ERR-04' });
            await removeDir(outDir);
            expect(statuses(report)['ERR-04'], [`seed ${seed}`, ...checkDetails(report)].join('\n  ')).toBe('passed');
            expect(code).toBe(0);
          }
        } finally {
          await backend.close();
        }
      });
    }
  });
}

// ---- backend, over the network ------------------------------------------------------------------

/**
 * The reference served by `serve --test-hooks --rate-limit 0` as a separate process (the built
 * CLI, `node dist/cli.js`), the harness pointed at its base URL: full runs (every check).
 *
 * Two lanes, each with its own servers: runs against one target must not overlap (a run moves the
 * target's clock through the test hook, which would expire the other run's tokens), but two
 * targets can be tested side by side.
 */
export function backendNetworkFalsePositives(counts: { strict: number; grace: number }): void {
  const LANES = 2;
  const runs: Array<[policy: string, seed: number]> = [
    ...randomSeeds(counts.strict).map((seed): [string, number] => ['strict', seed]),
    ...randomSeeds(counts.grace).map((seed): [string, number] => ['grace=30', seed]),
  ];
  const lanes = Array.from({ length: LANES }, (_, lane) => runs.filter((_, i) => i % LANES === lane)).filter((l) => l.length > 0);
  const servers: Array<Record<string, Serve>> = [];

  beforeAll(async () => {
    for (const laneRuns of lanes) {
      const mine: Record<string, Serve> = {};
      for (const policy of new Set(laneRuns.map(([p]) => p))) mine[policy] = await startServe(policy === 'strict' ? [] : ['--policy', policy]);
      servers.push(mine);
    }
  });

  afterAll(async () => {
    for (const lane of servers) for (const serve of Object.values(lane)) await serve.stop();
  });

  async function fullRun(lane: number, [policy, seed]: [string, number]): Promise<string> {
    const serve = servers[lane]![policy]!;
    const { code, report, outDir } = await quietRun({ baseUrl: serve.baseUrl, seed, policy: parsePolicy(policy)! });
    try {
      const backend = report.requirements.filter((r) => r.side === 'backend');
      const wrong = backend.filter((r) => r.status !== (r.id === 'ERR-04' ? 'skipped' : 'passed')).map((r) => `${r.id}: ${r.status}`);
      if (!wrong.length && code === 0 && report.cleanup.leaked === 0) return '';
      return [`seed ${seed} against ${serve.baseUrl} (${policy}): exit ${code}, leaked ${report.cleanup.leaked}, ${wrong.join(', ')}`, ...checkDetails(report)].join('\n  ');
    } finally {
      await removeDir(outDir);
    }
  }

  describe('no false positives over the network (serve --test-hooks --rate-limit 0)', () => {
    it(`${runs.length} full runs: ${runs.map(([p, s]) => `${p} ${s}`).join(', ')}`, { timeout: 60_000 + 25_000 * runs.length }, async () => {
      // Each lane runs its share one after the other against its own servers.
      const bad = (
        await pooled(
          lanes.map((laneRuns, lane) => laneRuns.map((run) => [lane, run] as const)),
          LANES,
          async (laneRuns) => {
            const out: string[] = [];
            for (const [lane, run] of laneRuns) out.push(await fullRun(lane, run));
            return out;
          },
        )
      ).flat();
      expect(bad.filter(Boolean)).toEqual([]);
    });
  });
}

// ---- SDK ----------------------------------------------------------------------------------------

const hasPython = spawnSync('python3', ['--version']).status === 0;

/**
 * The reference SDK passes every SDK/STORE requirement whatever the seed — in-process with
 * scheduled interleavings, and over stdio with real concurrency — and the Python example passes
 * over stdio (its STORE-* requirements skipped: it has no token store).
 */
export function sdkFalsePositives(counts: { inProcess: number; stdio: number; python: number }): void {
  describe('reference SDK: no false positives', () => {
    if (counts.inProcess > 0) {
      it(`passes in-process for ${counts.inProcess} random seeds`, async () => {
        const seeds = randomSeeds(counts.inProcess);
        console.log(`reference in-process seeds: ${seeds.join(', ')}`);
        const bad: string[] = [];
        for (const seed of seeds) {
          const { code, report } = await runSdk({ seed });
          const problems = troubles(report);
          if (code !== 0 || problems.length) bad.push(`seed ${seed} (exit ${code}): ${problems.join(' | ')}`);
          else expect(report.requirements.filter((r) => r.side === 'sdk' && r.status === 'passed')).toHaveLength(17);
        }
        expect(bad).toEqual([]);
      }, 30_000 + 10_000 * counts.inProcess);
    }

    if (counts.stdio > 0) {
      it(`passes over stdio (node dist/cli.js adapter) for ${counts.stdio} random seeds`, async () => {
        requireBuiltCli();
        const seeds = randomSeeds(counts.stdio);
        console.log(`reference over stdio seeds: ${seeds.join(', ')}`);
        // Four adapters at a time: over stdio tokens live real seconds, so a run mostly waits.
        const bad = await pooled(seeds, 4, async (seed) => {
          const { code, report } = await runSdk({ seed, adapter: 'node dist/cli.js adapter' });
          if (!report.target.adapter?.includes('stdio adapter')) return `seed ${seed}: not run over stdio (${report.target.adapter})`;
          const problems = troubles(report);
          return code !== 0 || problems.length ? `seed ${seed} (exit ${code}): ${problems.join(' | ')}` : '';
        });
        expect(bad.filter(Boolean)).toEqual([]);
      }, 120_000 + 20_000 * counts.stdio);
    }
  });

  if (counts.python > 0) {
    describe.skipIf(!hasPython)('Python example: no false positives', () => {
      it(`passes over stdio for ${counts.python} random seeds, with STORE-* skipped for want of a token store`, async () => {
        const seeds = randomSeeds(counts.python);
        console.log(`python example seeds: ${seeds.join(', ')}`);
        for (const seed of seeds) {
          // -B: no __pycache__ in the examples folder.
          const { code, report } = await runSdk({ seed, adapter: 'python3 -B examples/python-sdk/adapter.py' });
          expect(troubles(report), `seed ${seed}`).toEqual([]);
          expect(code, `seed ${seed}`).toBe(0);
          const store = report.requirements.filter((r) => r.id.startsWith('STORE-'));
          expect(store.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped']);
          for (const r of store) expect(r.reason).toMatch(/tokenStore/);
          expect(report.requirements.filter((r) => r.id.startsWith('SDK-') && r.status === 'passed')).toHaveLength(14);
        }
      }, 60_000 * counts.python);
    });
  }
}
