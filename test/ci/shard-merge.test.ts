/**
 * Sharding (CONTRACT §1 `--shard i/n`, `merge`): three shards with one seed against the embedded
 * reference, merged, give the verdicts of one unsharded run with that seed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { mergeReports } from '../../src/cli/merge-command.js';
import { selectChecks } from '../../src/run/common.js';
import type { Report } from '../../src/report/schema.js';
import { BACKEND_CHECKS } from '../../scenarios/backend/index.js';
import { runBackend } from '../support/harness.js';

const SEED = 20_240_607;
const SHARDS = 3;

/** What must agree between the merged shards and a single run. */
function verdictsOf(report: Report) {
  return {
    exitCode: report.exitCode,
    summary: report.summary,
    requirements: report.requirements.map((r) => ({ id: r.id, status: r.status, checks: [...r.checks].sort(), baselined: r.baselined ?? false })),
    checks: report.checks.map((c) => ({ id: c.id, status: c.status, runs: c.runs, seed: c.seed })),
  };
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('--shard i/n and merge', () => {
  it('splits the checks deterministically into disjoint slices that cover the catalogue', () => {
    const slices = Array.from({ length: SHARDS }, (_, k) => selectChecks(BACKEND_CHECKS, { shard: { index: k + 1, count: SHARDS } }).selected.map((c) => c.id));
    const again = Array.from({ length: SHARDS }, (_, k) => selectChecks(BACKEND_CHECKS, { shard: { index: k + 1, count: SHARDS } }).selected.map((c) => c.id));
    expect(again).toEqual(slices);
    const all = slices.flat();
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(BACKEND_CHECKS.map((c) => c.id).sort());
    for (const slice of slices) expect(slice.length).toBeGreaterThan(0);
    // The split does not depend on the catalogue's order, only on the ids.
    const reversed = selectChecks([...BACKEND_CHECKS].reverse(), { shard: { index: 2, count: SHARDS } }).selected.map((c) => c.id);
    expect([...reversed].sort()).toEqual([...slices[1]!].sort());
    // --shard applies after --check.
    const rt = selectChecks(BACKEND_CHECKS, { check: [/^rt\./], checkText: 'rt.*', shard: { index: 1, count: 2 } }).selected;
    expect(rt.length).toBeGreaterThan(0);
    expect(rt.every((c) => c.id.startsWith('rt.'))).toBe(true);
  });

  describe('against the embedded reference with one seed', () => {
    const dirs: string[] = [];
    let shards: Report[] = [];
    let single: Report;
    let singleCode: number;

    beforeAll(async () => {
      for (let index = 1; index <= SHARDS; index += 1) {
        const { report, outDir } = await runBackend({ seed: SEED, shard: { index, count: SHARDS } });
        dirs.push(outDir);
        shards.push(report);
      }
      const whole = await runBackend({ seed: SEED });
      dirs.push(whole.outDir);
      single = whole.report;
      singleCode = whole.code;
    }, 120_000);

    afterAll(async () => {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    it('each shard ran only its own slice and recorded it', () => {
      const ran = shards.map((r) => r.checks.map((c) => c.id));
      expect(ran.flat().sort()).toEqual(single.checks.map((c) => c.id).sort());
      shards.forEach((r, k) => {
        expect(r.shard).toEqual({ index: k + 1, count: SHARDS });
        // Requirements whose checks all ran elsewhere are skipped with the reason.
        const skipped = r.requirements.find((v) => v.status === 'skipped' && v.reason?.includes('another shard'));
        expect(skipped).toBeDefined();
      });
    });

    it('merged, equal the unsharded run: requirement statuses, check statuses and runs, exit code', async () => {
      expect(singleCode).toBe(0);
      const merged = await mergeReports(shards);
      expect(verdictsOf(merged)).toEqual(verdictsOf(single));
      expect(merged.shard).toBeUndefined();
      expect(merged.seed).toBe(SEED);
      expect(merged.cleanup.leaked).toBe(0);
      expect(merged.cleanup.minted).toBe(shards.reduce((n, r) => n + r.cleanup.minted, 0));
      expect(merged.diagnostics ?? []).toEqual([]);
    });

    it('`merge` on the command line writes one set of reports with that verdict', async () => {
      const out = await mkdtemp(join(tmpdir(), 'ekso-merge-'));
      dirs.push(out);
      const err = capture();
      // Shards in another order than they ran: the merge does not depend on it.
      const files = [dirs[2]!, dirs[0]!, dirs[1]!].map((d) => join(d, 'ekso-conformance.json'));
      const code = await main(['merge', ...files, '--out', out], { stdout: capture().stream, stderr: err.stream });
      expect(code).toBe(singleCode);
      const merged = JSON.parse(await readFile(join(out, 'ekso-conformance.json'), 'utf8')) as Report;
      expect(verdictsOf(merged)).toEqual(verdictsOf(single));
      for (const file of ['junit.xml', 'report.md', 'report.html']) await expect(readFile(join(out, file), 'utf8')).resolves.toBeTruthy();
      expect(err.text()).toContain('conformant');
    });

    it('says so when a shard is missing or the seeds differ', async () => {
      const partial = await mergeReports([shards[0]!, shards[2]!]);
      expect(partial.diagnostics?.join('\n')).toContain(`shard 2/${SHARDS} not among the merged reports`);
      const missingChecks = shards[1]!.checks.map((c) => c.id);
      for (const id of missingChecks) expect(partial.checks.find((c) => c.id === id)).toBeUndefined();
      const skipped = partial.requirements.filter((r) => r.status === 'skipped' && r.reason === 'not in any merged shard');
      expect(skipped.length).toBeGreaterThan(0);

      const reseeded = { ...shards[1]!, seed: SEED + 1 };
      const mixed = await mergeReports([shards[0]!, reseeded, shards[2]!]);
      expect(mixed.diagnostics?.join('\n')).toMatch(/different seeds/);
    });

    it('refuses to merge reports of different modes or policies (exit 2)', async () => {
      await expect(mergeReports([shards[0]!, { ...shards[1]!, policy: 'grace=5' }])).rejects.toThrow(/different policies/);
      await expect(mergeReports([shards[0]!, { ...shards[1]!, mode: 'sdk' }])).rejects.toThrow(/cannot merge/);
      const err = capture();
      const code = await main(['merge', join(tmpdir(), 'no-such-report.json')], { stdout: capture().stream, stderr: err.stream });
      expect(code).toBe(2);
      expect(err.text().trim().split('\n')).toHaveLength(1);
    });
  });
});
