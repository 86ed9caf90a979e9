/**
 * SDKs without a clock hook (the real-time path): the reference SDK served with `adapter
 * --no-clock` and the Python example with `--no-clock` get a complete verdict — every SDK/STORE
 * requirement judged, the model-based session check run, nothing false — and a sample of mutants
 * is still killed in real time, each failing exactly what it breaks. The soak
 * (test/soak/sdk-real-time.soak.test.ts) does the same over 10 seeds and every mutant.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkPatterns } from '../../src/cli/options.js';
import { sdkMutant } from '../../src/mutants/index.js';
import { requireBuiltCli } from '../support/cli.js';
import { pooled } from '../support/pool.js';
import { judgeMutantRun, runSdk, troubles } from '../support/sdk-harness.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const seed = (Math.random() * 0x7fffffff) | 0;

describe('real time (no clock capability)', () => {
  it('the reference SDK over stdio: all 17 SDK/STORE requirements passed, the session model run', async () => {
    requireBuiltCli();
    console.log(`reference --no-clock seed: ${seed}`);
    const { code, report } = await runSdk({ seed, adapter: 'node dist/cli.js adapter --no-clock' });
    expect(report.target.description).toContain('"clock":false');
    expect(troubles(report), `seed ${seed}`).toEqual([]);
    expect(code).toBe(0);
    expect(report.requirements.filter((r) => r.side === 'sdk' && r.status === 'passed')).toHaveLength(17);
    const model = report.checks.find((c) => c.id === 'sdk.session.model')!;
    expect(model).toMatchObject({ status: 'passed', runs: 25 });
  }, 180_000);

  it.skipIf(!hasPython)('the Python example with --no-clock: every SDK requirement passed, STORE-* skipped (no token store)', async () => {
    console.log(`python --no-clock seed: ${seed}`);
    const { code, report } = await runSdk({ seed, adapter: 'python3 -B examples/python-sdk/adapter.py --no-clock' });
    expect(report.target.description).toContain('"clock":false');
    expect(troubles(report), `seed ${seed}`).toEqual([]);
    expect(code).toBe(0);
    expect(report.requirements.filter((r) => r.id.startsWith('SDK-') && r.status === 'passed')).toHaveLength(14);
    expect(report.checks.find((c) => c.id === 'sdk.session.model')?.status).toBe('passed');
  }, 180_000);

  // One mutant per kind of real-time judgement: a race (single flight, concurrent runs each with
  // its own server), time (a token used past its expiry), an event, and the shared token store.
  const SAMPLE = ['no-single-flight', 'no-proactive-refresh', 'stale-tokens-refreshed-event', 'store-key-dash-joined'];

  it(`a sample of mutants is killed in real time, each failing exactly its breaks: ${SAMPLE.join(', ')}`, async () => {
    requireBuiltCli();
    console.log(`mutants --no-clock seed: ${seed}`);
    const problems = await pooled(SAMPLE, 2, async (name) => {
      const mutant = sdkMutant(name)!;
      // Scoped to the checks of what it breaks (the soak runs every mutant at full scope).
      const run = await runSdk({ seed, adapter: `node dist/cli.js adapter --no-clock --mutant ${name}`, check: checkPatterns(mutant.breaks.join(',')), checkText: mutant.breaks.join(',') });
      const wrong = judgeMutantRun(run, mutant.breaks);
      return wrong.length ? `${name} (seed ${seed}): ${wrong.join('; ')}` : '';
    });
    expect(problems.filter(Boolean)).toEqual([]);
  }, 300_000);
});
