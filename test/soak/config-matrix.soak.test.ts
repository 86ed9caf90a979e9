/**
 * Soak: the configuration matrix on the reference backend (issue 9) — token source
 * {discovery hooks, token-command script, device-approve script, both} × clock {discovery hook,
 * profile testClock, none} × policy {strict, grace=30} — each lane one `serve` process, its seeds
 * run one after another (they share its clock), default runs per property. Every run must be
 * conformant (or skipped with a reason where the configuration cannot provide something), never
 * inconclusive: 0 false verdicts.
 *
 * CI size (`npm run soak`): the nine (source, clock) pairs that `npm test`'s sample
 * (test/backend/config-matrix.test.ts) leaves out, policies alternating, one seed each, two lanes
 * at once — with that sample, every pair runs in every `.ci/run`. `EKSO_SOAK_FULL=1`: all 24
 * lanes × 6 seeds (hours on a busy machine). EKSO_SOAK_SEEDS=N changes the number of seeds;
 * EKSO_SOAK_LANES=K runs K lanes at once (each lane has its own target, so lanes may overlap).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCKS, LANES, POLICIES, SOURCES, laneName, runLane, type Lane } from '../support/config-matrix.js';
import { SAMPLE } from '../backend/config-matrix.sample.js';
import { SOAK_FULL, soakSize } from '../support/soak.js';
import { requireBuiltCli } from '../support/cli.js';

const enabled = process.env.EKSO_SOAK === '1' || process.env.npm_lifecycle_event === 'soak';
const seeds = Array.from({ length: Number(process.env.EKSO_SOAK_SEEDS ?? soakSize(1, 6)) }, (_, i) => i + soakSize(4, 1));
const parallel = Math.max(1, Number(process.env.EKSO_SOAK_LANES ?? soakSize(2, 1)));
const sampled = new Set(SAMPLE.map((l) => `${l.source}/${l.clock}`));
/** The (source, clock) pairs `npm test`'s sample leaves out, policies alternating. */
const UNSAMPLED: Lane[] = SOURCES.flatMap((source) => CLOCKS.map((clock) => ({ source, clock })))
  .filter((pair) => !sampled.has(`${pair.source}/${pair.clock}`))
  .map((pair, i) => ({ ...pair, policy: POLICIES[i % POLICIES.length]! }));
const lanes = SOAK_FULL ? LANES : UNSAMPLED;

let dir: string;

beforeAll(async () => {
  if (!enabled) return;
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'ekso-config-matrix-soak-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!enabled)(`the configuration matrix: ${lanes.length} lanes × ${seeds.length} seeds, 0 false verdicts`, () => {
  it('every lane, every seed: conformant, skips only with a reason the lane explains, nothing inconclusive', { timeout: 24 * 3_600_000 }, async () => {
    const problems: string[] = [];
    const queue = [...lanes];
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        const started = Date.now();
        const found = await runLane(lane, seeds, dir);
        problems.push(...found);
        process.stderr.write(`config matrix ${laneName(lane)}: ${found.length ? `${found.length} problem(s)` : 'ok'} in ${Math.round((Date.now() - started) / 1000)} s\n`);
        for (const problem of found.slice(0, 20)) process.stderr.write(`  ${problem.slice(0, 400)}\n`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    expect(problems).toEqual([]);
  });
});
