/**
 * No false positives over the network: the reference served by `serve --test-hooks --rate-limit 0`
 * as a separate process (the built CLI, `node dist/cli.js`), the harness pointed at its base URL.
 * Full runs (every check) for a few random seeds, under `strict` and under `grace=30`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/model/policy.js';
import { removeDir } from '../support/harness.js';
import { startServe, type Serve } from '../support/cli.js';
import { checkDetails, quietRun, randomSeed } from '../support/mutants.js';

const servers: Record<string, Serve> = {};

beforeAll(async () => {
  servers.strict = await startServe();
  servers['grace=30'] = await startServe(['--policy', 'grace=30']);
});

afterAll(async () => {
  for (const serve of Object.values(servers)) await serve.stop();
});

const RUNS: Array<[policy: string, seed: number]> = [
  ['strict', randomSeed()],
  ['strict', randomSeed()],
  ['strict', randomSeed()],
  ['grace=30', randomSeed()],
];

describe('no false positives over the network (serve --test-hooks --rate-limit 0)', () => {
  for (const [policy, seed] of RUNS) {
    it(`${policy}, seed ${seed}`, { timeout: 120_000 }, async () => {
      const serve = servers[policy]!;
      const { code, report, outDir } = await quietRun({ baseUrl: serve.baseUrl, seed, policy: parsePolicy(policy)! });
      try {
        const why = [`seed ${seed} against ${serve.baseUrl} (${policy})`, ...checkDetails(report)].join('\n  ');
        const backend = report.requirements.filter((r) => r.side === 'backend');
        expect(backend.filter((r) => r.status !== (r.id === 'ERR-04' ? 'skipped' : 'passed')).map((r) => `${r.id}: ${r.status}`), why).toEqual([]);
        expect(code, why).toBe(0);
        expect(report.cleanup.leaked, why).toBe(0);
      } finally {
        await removeDir(outDir);
      }
    });
  }
});
