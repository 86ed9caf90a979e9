/**
 * Soak: the full harness run (every check, its default number of runs) against the .NET example
 * over stdio in real time — `node dist/cli.js sdk --adapter "mono examples/dotnet-sdk/out/EksoAdapter.exe"`.
 * Conformant: exit 0, no failed or inconclusive requirement, every SDK-* and STORE-* requirement
 * judged and passed, and no check skipped — `sdk.session.model` too runs in real time, on the
 * platform clock of a .NET SDK (issue 10).
 *
 * Minutes long (the waits for tokens to expire are real), so not part of `npm test`; the subset
 * in test/examples/dotnet-sdk.test.ts is. Skipped, with the reason printed, without mcs or mono.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REQUIREMENTS } from '../../src/spec/requirements.js';
import { requireBuiltCli } from '../support/cli.js';
import { buildDotnetExample, monoMissing, problems, runHarness } from '../support/dotnet-example.js';

const missing = monoMissing();
if (missing) console.warn(`test/soak/dotnet-sdk.soak.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)('examples/dotnet-sdk: the full run over stdio in real time', () => {
  beforeAll(() => {
    requireBuiltCli();
    buildDotnetExample();
  }, 180_000);

  it('is conformant: every SDK and STORE requirement passed, every check run (the session model in real time)', async () => {
    const seed = (Math.random() * 0x7fffffff) | 0;
    console.log(`dotnet example full run, seed ${seed}`);
    const run = await runHarness(seed, [], 1_500_000);
    expect(problems(run.report), `seed ${seed}`).toEqual([]);
    expect(run.code, `seed ${seed}: ${run.stderr}`).toBe(0);
    const sdkSide = REQUIREMENTS.filter((r) => r.side === 'sdk').map((r) => r.id);
    expect(sdkSide.length).toBeGreaterThanOrEqual(17);
    const notPassed = run.report.requirements.filter((r) => sdkSide.includes(r.id) && r.status !== 'passed').map((r) => `${r.id} ${r.status}: ${r.reason ?? ''}`);
    expect(notPassed, `seed ${seed}`).toEqual([]);
    const skippedChecks = run.report.checks.filter((c) => c.status === 'skipped').map((c) => c.id);
    expect(skippedChecks, `seed ${seed}`).toEqual([]);
    expect(run.report.checks.find((c) => c.id === 'sdk.session.model')?.status, `seed ${seed}`).toBe('passed');
  }, 1_600_000);
});
