/**
 * Soak: the whole configuration matrix on the reference backend (issue 9) — token source
 * {discovery hooks, token-command script, device-approve script, both} × clock {discovery hook,
 * profile testClock, none} × policy {strict, grace=30} — each lane one `serve` process, six seeds
 * per lane run one after another (they share its clock), default runs per property. Every run
 * must be conformant (or skipped with a reason where the configuration cannot provide
 * something), never inconclusive: 0 false verdicts.
 *
 * Slow (hours on a busy machine): it runs only under `npm run soak` (or EKSO_SOAK=1).
 * EKSO_SOAK_SEEDS=N changes the number of seeds (default 6); EKSO_SOAK_LANES=K runs K lanes at
 * once (default 1; each lane has its own target, so lanes may overlap).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANES, laneName, runLane } from '../support/config-matrix.js';
import { requireBuiltCli } from '../support/cli.js';

const enabled = process.env.EKSO_SOAK === '1' || process.env.npm_lifecycle_event === 'soak';
const seeds = Array.from({ length: Number(process.env.EKSO_SOAK_SEEDS ?? 6) }, (_, i) => i + 1);
const parallel = Math.max(1, Number(process.env.EKSO_SOAK_LANES ?? 1));

let dir: string;

beforeAll(async () => {
  if (!enabled) return;
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'ekso-config-matrix-soak-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!enabled)(`the configuration matrix: ${LANES.length} lanes × ${seeds.length} seeds, 0 false verdicts`, () => {
  it('every lane, every seed: conformant, skips only with a reason the lane explains, nothing inconclusive', { timeout: 24 * 3_600_000 }, async () => {
    const problems: string[] = [];
    const queue = [...LANES];
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
