/**
 * The CLI surface of CONTRACT §1: every command has --help (exit 0); `list` names every
 * requirement of the catalog; `list --json` is machine-readable and complete.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_VERSION } from '../../src/version.js';
import { REQUIREMENTS } from '../../src/spec/requirements.js';
import { hasStackTrace, ROOT, runCli } from '../support/cli.js';
import { readRequirementsMd } from '../support/requirements-md.js';

const md = readRequirementsMd();
/** The catalog the listing must cover: the Markdown one when present, else the one in code. */
const EXPECTED = md ?? REQUIREMENTS.map((r) => ({ id: r.id, level: r.level, statement: r.statement }));

describe.concurrent('--help', () => {
  const commands: Array<[string, string[], string[]]> = [
    ['(no command)', ['--help'], ['backend', 'sdk', 'serve', 'adapter', 'list', 'replay', 'merge']],
    ['backend', ['backend', '--help'], ['--base-url', '--tenant', '--admin-key', '--user-key', '--token-command', '--device-approve-command', '--client-id', '--profile', '--rate', '--concurrency', '--timeout', '--check-rate-limit', '--insecure', '--server-cmd', '--image']],
    ['sdk', ['sdk', '--help'], ['--adapter']],
    ['serve', ['serve', '--help'], ['--port', '--host', '--test-hooks']],
    ['adapter', ['adapter', '--help'], []],
    ['list', ['list', '--help'], ['--json', '--mutants']],
    ['replay', ['replay', '--help'], ['--check']],
    ['merge', ['merge', '--help'], ['--out']],
  ];
  const common = ['--out', '--reporter', '--seed', '--num-runs', '--check', '--max-time', '--policy', '--strict', '--quiet', '--verbose', '--no-color', '--baseline', '--shard'];

  it.each(commands)('%s', async (name, args, options) => {
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Usage:/);
    expect(hasStackTrace(result.stdout + result.stderr)).toBe(false);
    for (const option of options) expect(result.stdout, `${name} --help names ${option}`).toContain(option);
    if (name === 'backend' || name === 'sdk') for (const option of common) expect(result.stdout, `${name} --help names ${option}`).toContain(option);
  });

  it('--version prints the version of package.json (the one the reports name) and exits 0', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(result.stdout.trim()).toBe(pkg.version);
    expect(TOOL_VERSION).toBe(pkg.version);
  });
});

describe.concurrent('list', () => {
  it('prints every requirement of the catalog, with its level', async () => {
    const result = await runCli(['list']);
    expect(result.code, result.stderr).toBe(0);
    for (const r of EXPECTED) {
      const line = result.stdout.split('\n').find((l) => l.trimStart().startsWith(`${r.id} `));
      expect(line, `list prints ${r.id}`).toBeDefined();
      if (r.level) expect(line, r.id).toContain(r.level);
    }
    expect(result.stdout).toContain(`${REQUIREMENTS.length} requirements`);
  });

  it('--json parses and lists every id with level, side, statement, source and checks', async () => {
    const result = await runCli(['list', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as Array<{ id: string; level: string | null; side: string; statement: string; source: string; checks: string[] }>;
    const byId = new Map(listed.map((r) => [r.id, r]));
    expect(byId.size).toBe(listed.length);
    for (const r of EXPECTED) {
      const entry = byId.get(r.id);
      expect(entry, r.id).toBeDefined();
      expect(entry!.level, r.id).toBe(r.level);
      expect(['backend', 'sdk', 'harness'], r.id).toContain(entry!.side);
      expect(typeof entry!.statement === 'string' && entry!.statement.length > 0, r.id).toBe(true);
      expect(typeof entry!.source === 'string' && entry!.source.length > 0, r.id).toBe(true);
      expect(Array.isArray(entry!.checks), r.id).toBe(true);
    }
    // Every backend requirement is covered by at least one check of backend mode.
    for (const entry of listed.filter((r) => r.side === 'backend')) expect(entry.checks.length, entry.id).toBeGreaterThan(0);
  });

  it('--mutants lists the mutant catalogue (text and JSON)', async () => {
    const text = await runCli(['list', '--mutants']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/mutants/);
    const json = await runCli(['list', '--mutants', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(json.stdout))).toBe(true);
  });
});
