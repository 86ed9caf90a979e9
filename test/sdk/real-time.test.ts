/**
 * SDKs without a clock hook (the real-time path): the reference SDK served with `adapter
 * --no-clock` and the Python example with `--no-clock` get a complete verdict — every SDK/STORE
 * requirement judged, the model-based session check run, nothing false — and a sample of mutants
 * is still killed in real time, each failing exactly what it breaks. The soak
 * (test/soak/sdk-real-time.soak.test.ts) does the same over 10 seeds and every mutant.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sdkMutant } from '../../src/mutants/index.js';
import { requireBuiltCli } from '../support/cli.js';
import { pooled } from '../support/pool.js';
import { judgeMutantRun, troubles } from '../support/sdk-harness.js';
import { checkTroubles, runSdkProcess } from '../support/sdk-process.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const seed = (Math.random() * 0x7fffffff) | 0;

describe('real time (no clock capability)', () => {
  it('the reference SDK and the Python example: every requirement judged and passed, the session model run', async () => {
    requireBuiltCli();
    console.log(`--no-clock seed: ${seed}`);
    const targets = [
      { adapter: 'node dist/cli.js adapter --no-clock', passed: (id: string) => id.startsWith('SDK-') || id.startsWith('STORE-'), expected: 17 },
      // STORE-* are skipped for it: it has no token store.
      ...(hasPython ? [{ adapter: 'python3 -B examples/python-sdk/adapter.py --no-clock', passed: (id: string) => id.startsWith('SDK-'), expected: 14 }] : []),
    ];
    // Side by side, each in a process of its own: a run mostly waits.
    const runs = await pooled(targets, 2, (t) => runSdkProcess({ seed, adapter: t.adapter }));
    for (const [i, { code, report }] of runs.entries()) {
      const t = targets[i]!;
      expect(report.target.description, t.adapter).toContain('"clock":false');
      expect(troubles(report), `${t.adapter}, seed ${seed}: ${checkTroubles(report).join(' | ')}`).toEqual([]);
      expect(code, t.adapter).toBe(0);
      expect(report.requirements.filter((r) => r.side === 'sdk' && r.status === 'passed' && t.passed(r.id)), t.adapter).toHaveLength(t.expected);
      expect(report.checks.find((c) => c.id === 'sdk.session.model'), t.adapter).toMatchObject({ status: 'passed', runs: 25 });
    }
  }, 240_000);

  // One mutant per kind of real-time judgement: a race (single flight, concurrent runs each with
  // its own model server), time (a token used past its expiry), and the token store the runs share.
  const SAMPLE = ['no-single-flight', 'no-proactive-refresh', 'store-key-dash-joined'];

  it(`a sample of mutants is killed in real time, each failing exactly its breaks: ${SAMPLE.join(', ')}`, async () => {
    requireBuiltCli();
    console.log(`mutants --no-clock seed: ${seed}`);
    const problems = await pooled(SAMPLE, 3, async (name) => {
      const mutant = sdkMutant(name)!;
      // Scoped to the checks of what it breaks (the soak runs every mutant at full scope).
      const run = await runSdkProcess({ seed, adapter: `node dist/cli.js adapter --no-clock --mutant ${name}`, check: mutant.breaks.join(',') });
      const wrong = judgeMutantRun(run, mutant.breaks);
      return wrong.length ? `${name} (seed ${seed}): ${wrong.join('; ')} — ${checkTroubles(run.report).join(' | ')}` : '';
    });
    expect(problems.filter(Boolean)).toEqual([]);
  }, 300_000);
});
