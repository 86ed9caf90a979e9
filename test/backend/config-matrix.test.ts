/**
 * A representative sample of the configuration matrix (test/support/config-matrix.ts): every
 * token source, every kind of clock and both policies appear at least once, one seed each, with
 * few runs per property — so that `npm test` catches a configuration that gives a false verdict.
 * The whole matrix × 6 seeds with default runs is the soak test
 * (test/soak/config-matrix.soak.test.ts, `npm run soak`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneName, runLane, type Lane } from '../support/config-matrix.js';
import { requireBuiltCli } from '../support/cli.js';

const SAMPLE: readonly Lane[] = [
  { source: 'hooks', clock: 'discovery', policy: 'strict' },
  { source: 'command', clock: 'profile', policy: 'grace=30' },
  { source: 'device', clock: 'none', policy: 'strict' },
  { source: 'both', clock: 'discovery', policy: 'grace=30' },
  { source: 'hooks', clock: 'none', policy: 'grace=30' },
];

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
