/**
 * The CI examples stay runnable: every flag their harness command lines use is one the CLI knows,
 * and they upload reports/ and publish junit.xml as the README says.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, requireDist } from './helpers.js';

const run = promisify(execFile);
const DIR = join(ROOT, 'examples', 'ci');
const WORKFLOWS = ['ekso-conformance.yml', 'ekso-conformance-sharded.yml'];

/** The harness command lines of a workflow: `npx … ekso-conformance@…` and its folded continuation lines. */
function harnessCommands(text: string): string[][] {
  const lines = text.split('\n');
  const commands: string[][] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const start = lines[i]!.indexOf('npx --yes ekso-conformance@');
    if (start < 0) continue;
    const words = lines[i]!.slice(start).trim().split(/\s+/);
    while (i + 1 < lines.length && lines[i + 1]!.trim().startsWith('--')) words.push(...lines[(i += 1)]!.trim().split(/\s+/));
    commands.push(words.slice(2));
  }
  return commands;
}

let help: Record<string, string> = {};

beforeAll(async () => {
  requireDist();
  for (const command of ['backend', 'merge']) help[command] = (await run(process.execPath, [CLI, command, '--help'])).stdout;
});

describe.each(WORKFLOWS)('examples/ci/%s', (file) => {
  const text = readFileSync(join(DIR, file), 'utf8');

  it('runs the harness with flags the CLI knows', () => {
    const commands = harnessCommands(text);
    expect(commands.length).toBeGreaterThan(0);
    for (const words of commands) {
      const sub = words[1] === 'merge' ? 'merge' : 'backend';
      for (const flag of words.filter((w) => w.startsWith('--'))) expect(help[sub], `${file}: ${flag}`).toContain(`${flag} `);
    }
  });

  it('gives every shard the same seed, and merges them', () => {
    const seeds = harnessCommands(text).flatMap((w) => w.filter((x, k) => w[k - 1] === '--seed'));
    expect(new Set(seeds).size).toBeLessThanOrEqual(1);
    if (text.includes('--shard')) expect(text).toMatch(/ekso-conformance@[\d.]+ merge /);
  });

  it('uploads reports/ and publishes junit.xml, also when the run failed', () => {
    expect(text).toMatch(/uses: actions\/upload-artifact@v4\n(?:\s+if: always\(\)\n)?\s+with:\n(?:.*\n)*?\s+path: reports\//);
    expect(text).toMatch(/report_paths: reports\/junit\.xml/);
    expect(text.match(/if: always\(\)/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});

it('examples/ci/README.md describes both workflows', () => {
  const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
  for (const file of WORKFLOWS) expect(readme).toContain(`(${file})`);
  for (const topic of ['--server-cmd', '--baseline', '--shard', 'GITHUB_STEP_SUMMARY', 'junit.xml']) expect(readme).toContain(topic);
});
