/**
 * GitHub Actions: with $GITHUB_STEP_SUMMARY set, the run appends its report.md to it (the job
 * summary page), after what earlier steps wrote; so does `merge` with the merged report.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, requireDist } from './helpers.js';

let dir: string;

beforeAll(async () => {
  requireDist();
  dir = await mkdtemp(join(tmpdir(), 'ekso-step-summary-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string | undefined>): Promise<number | null> {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: childEnv, stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

describe('$GITHUB_STEP_SUMMARY', () => {
  it('gets report.md appended after what was there, once per run', async () => {
    const summary = join(dir, 'step-summary.md');
    await writeFile(summary, '## Build\n\nok\n');
    const out = join(dir, 'run');
    const args = ['--check', 'ak.entropy', '--seed', '5', '--out', out, '--quiet'];
    expect(await cli(args, { GITHUB_STEP_SUMMARY: summary })).toBe(0);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('ekso-conformance');
    expect(await readFile(summary, 'utf8')).toBe(`## Build\n\nok\n${markdown}\n`);
    // A second step (say, another shard on the same runner) appends, never overwrites.
    expect(await cli(args, { GITHUB_STEP_SUMMARY: summary })).toBe(0);
    const twice = await readFile(summary, 'utf8');
    expect(twice.startsWith(`## Build\n\nok\n${markdown}\n`)).toBe(true);
    expect(twice.split('## Build').length).toBe(2);
    expect(twice.length).toBeGreaterThan(markdown.length * 2);
  });

  it('`merge` appends the merged report.md', async () => {
    const summary = join(dir, 'merge-summary.md');
    const shards = [1, 2].map((i) => join(dir, `shard-${i}`));
    for (const [k, out] of shards.entries()) {
      expect(await cli(['--check', 'ak.*', '--shard', `${k + 1}/2`, '--seed', '6', '--out', out, '--reporter', 'json', '--quiet'], { GITHUB_STEP_SUMMARY: undefined })).toBe(0);
    }
    const merged = join(dir, 'merged');
    expect(await cli(['merge', ...shards.map((s) => join(s, 'ekso-conformance.json')), '--out', merged], { GITHUB_STEP_SUMMARY: summary })).toBe(0);
    expect(await readFile(summary, 'utf8')).toBe(`${await readFile(join(merged, 'report.md'), 'utf8')}\n`);
  });

  it('is left alone when not set, and a run does not fail when it cannot be written', async () => {
    const out = join(dir, 'unset');
    expect(await cli(['--check', 'ak.entropy', '--seed', '7', '--out', out, '--quiet'], { GITHUB_STEP_SUMMARY: undefined })).toBe(0);
    expect(await cli(['--check', 'ak.entropy', '--seed', '7', '--out', out, '--quiet'], { GITHUB_STEP_SUMMARY: join(dir, 'no-such-dir', 'summary.md') })).toBe(0);
    await expect(readFile(join(out, 'report.md'), 'utf8')).resolves.toContain('ekso-conformance');
  });
});
