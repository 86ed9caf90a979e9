/**
 * `--baseline FILE`: listed failures do not fail the run; a listed entry that now passes is stale
 * and fails the run (so baselines shrink over time). Exercised against a fixture target: the
 * reference backend with one behaviour broken (DF-01, check df.authorization) and without.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { checkPatterns } from '../../src/cli/options.js';
import { runBackend } from '../support/harness.js';
// @ts-expect-error an untyped .mjs fixture (it runs from dist/ as a process too)
import { startFixtureBackend } from './fixtures/fixture-backend.mjs';

interface Fixture {
  baseUrl: string;
  close(): Promise<void>;
}

const SELECTION = 'df.authorization,df.polling,ak.entropy';
const SEED = 4242;

let dir: string;
let broken: Fixture;
let fixed: Fixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-baseline-'));
  broken = (await startFixtureBackend({ broken: true })) as Fixture;
  fixed = (await startFixtureBackend({ broken: false })) as Fixture;
});

afterAll(async () => {
  await broken?.close();
  await fixed?.close();
  await rm(dir, { recursive: true, force: true });
});

async function baselineFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text, 'utf8');
  return file;
}

function run(target: Fixture, baseline?: string, selection = SELECTION) {
  return runBackend({ baseUrl: target.baseUrl, seed: SEED, check: checkPatterns(selection), checkText: selection, ...(baseline ? { baseline } : {}) });
}

function verdict(report: Awaited<ReturnType<typeof run>>['report'], id: string) {
  return report.requirements.find((r) => r.id === id)!;
}

describe('--baseline against a fixture target that breaks DF-01', () => {
  it('without a baseline the failure fails the run (exit 1)', async () => {
    const { code, report } = await run(broken);
    expect(code).toBe(1);
    expect(verdict(report, 'DF-01')).toMatchObject({ status: 'failed' });
    expect(verdict(report, 'DF-01').baselined).toBeUndefined();
    expect(report.requirements.filter((r) => r.status === 'failed').map((r) => r.id)).toEqual(['DF-01']);
  });

  it('a failure listed by check id is expected: reported as failed (baselined), the run passes (exit 0)', async () => {
    const file = await baselineFile('by-check.txt', '# known: relative verification_uri (TICKET-12)\ndf.authorization\n');
    const { code, report, outDir } = await run(broken, file);
    expect(code).toBe(0);
    expect(verdict(report, 'DF-01')).toMatchObject({ status: 'failed', baselined: true });
    expect(report.baseline).toEqual({ file, expected: ['df.authorization'], stale: [] });
    expect(report.summary.failed).toBe(1);
    const junit = await readFile(join(outDir, 'ekso-conformance.json'), 'utf8');
    expect(junit).toContain('"baselined": true');
  });

  it('a failure listed by requirement id (JSON baseline) is expected too', async () => {
    const file = await baselineFile('by-requirement.json', JSON.stringify({ expectedFailures: ['DF-01'] }));
    const { code, report } = await run(broken, file);
    expect(code).toBe(0);
    expect(verdict(report, 'DF-01')).toMatchObject({ status: 'failed', baselined: true });
  });

  it('an entry that now passes is stale and fails the run (exit 1), naming the entry', async () => {
    const file = await baselineFile('stale.json', JSON.stringify(['df.authorization', 'DF-01']));
    const { code, report } = await run(fixed, file);
    expect(code).toBe(1);
    expect(report.requirements.filter((r) => r.status === 'failed')).toEqual([]);
    expect(report.baseline?.stale).toEqual(['df.authorization', 'DF-01']);
    expect(report.diagnostics).toContain(`stale baseline entry: df.authorization now passes — remove it from ${file}`);
    expect(report.diagnostics).toContain(`stale baseline entry: DF-01 now passes — remove it from ${file}`);
  });

  it('an entry whose checks did not run is not stale: a --check selection or a shard proves nothing about it', async () => {
    const file = await baselineFile('not-run.txt', 'rt.concurrent\nRT-07\n');
    const { code, report } = await run(fixed, file);
    expect(code).toBe(0);
    expect(report.baseline?.stale).toEqual([]);
    // AK-09 is covered by ak.lifecycle.model and ak.revocation: only one of them runs here, so
    // its pass does not make the entry stale (another shard may still fail it).
    const partly = await baselineFile('partly.txt', 'AK-09\n');
    const partial = await runBackend({ baseUrl: fixed.baseUrl, seed: SEED, check: checkPatterns('ak.revocation'), checkText: 'ak.revocation', baseline: partly });
    expect(verdict(partial.report, 'AK-09').status).toBe('passed');
    expect(partial.report.baseline?.stale).toEqual([]);
    expect(partial.code).toBe(0);
  });

  it('an entry naming nothing known is pointed out (a typo baselines nothing)', async () => {
    const file = await baselineFile('typo.txt', 'df.authorisation\n');
    const { code, report } = await run(broken, file);
    expect(code).toBe(1);
    expect(report.diagnostics?.join('\n')).toContain('unknown baseline entry: df.authorisation');
  });

  it('on the command line; an unreadable or invalid baseline is a usage error (exit 2)', async () => {
    const file = await baselineFile('cli.txt', 'df.authorization\n');
    const out = join(dir, 'cli-out');
    const io = { stdout: new PassThrough(), stderr: new PassThrough() };
    const args = ['--base-url', broken.baseUrl, '--check', SELECTION, '--seed', String(SEED), '--out', out, '--reporter', 'json', '--quiet'];
    expect(await main([...args, '--baseline', file], io)).toBe(0);
    expect(await main(args, io)).toBe(1);
    expect(await main([...args, '--baseline', join(dir, 'missing.txt')], io)).toBe(2);
    expect(await main([...args, '--baseline', await baselineFile('bad.json', '{"expectedFailures": [1]}')], io)).toBe(2);
  });
});
