/**
 * A sample of the configuration matrix (test/support/config-matrix.ts): every kind of clock, both
 * policies and every token source (`both` runs the command and the device script together), one seed
 * each, with few runs per property — so that `npm test` catches a configuration that gives a false
 * verdict.
 * The soak test (test/soak/config-matrix.soak.test.ts, `npm run soak`) runs the pairs this sample
 * leaves out; with `EKSO_SOAK_FULL=1` the whole matrix × 6 seeds with default runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneName, runLane } from '../support/config-matrix.js';
import { SAMPLE } from './config-matrix.sample.js';
import { requireBuiltCli } from '../support/cli.js';


let dir: string;

beforeAll(async () => {
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'ekso-config-matrix-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the configuration matrix, sampled: a correct target is conformant however the harness is configured', () => {
  it.each(SAMPLE.map((lane) => [laneName(lane), lane] as const))('%s', { timeout: 600_000 }, async (_name, lane) => {
    expect(await runLane(lane, [3], dir, ['--num-runs', '3'])).toEqual([]);
  });
});
