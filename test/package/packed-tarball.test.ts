/**
 * The package as a user gets it (issue 12): `npm pack`, then `npm install ./ekso-conformance-*.tgz`
 * into a fresh project (offline, from npm's cache). There, `import { runBackendConformance,
 * runSdkConformance } from 'ekso-conformance'` type-checks against the shipped declarations and
 * both calls with `{}` resolve to reports listing every requirement with none failed; the
 * installed `ekso-conformance` executable runs; and every relative link of the shipped README
 * resolves to a file inside the package.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuiltCli } from '../support/cli.js';

const run = promisify(execFile);
let project = '';
let installed = '';
let installProblem = '';

beforeAll(async () => {
  requireBuiltCli();
  project = await mkdtemp(join(tmpdir(), 'ekso-packed-'));
  // dist/ is built by `npm test`: pack what is there (no prepare script, no rebuild).
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const tarball = join(project, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'an-sdk-authors-project', private: true, type: 'module' }));
  try {
    // Dependencies come from npm's cache where it has them (`npm ci` filled it), else the registry.
    await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
    installed = join(project, 'node_modules', 'ekso-conformance');
  } catch (error) {
    installProblem = String((error as { stderr?: string }).stderr ?? error).slice(0, 2000);
  }
}, 240_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the packed tarball installed in a fresh project', () => {
  it('installs', () => {
    expect(installProblem).toBe('');
    expect(existsSync(join(installed, 'dist', 'src', 'index.d.ts'))).toBe(true);
  });

  it('imports and type-checks: both runs with {} list every requirement, none failed', async () => {
    expect(installProblem).toBe('');
    const program = [
      "import { eksoRequirements, runBackendConformance, runSdkConformance, type Report } from 'ekso-conformance';",
      'const summary = (r: Report) => ({ mode: r.mode, listed: r.requirements.length, failed: r.requirements.filter((v) => v.status === "failed").map((v) => v.id), exitCode: r.exitCode });',
      'const backend: Report = await runBackendConformance({});',
      'const sdk: Report = await runSdkConformance({});',
      'console.log(JSON.stringify({ catalog: eksoRequirements().length, backend: summary(backend), sdk: summary(sdk) }));',
    ].join('\n');
    await writeFile(join(project, 'check.mts'), program);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['check.mts'],
      }),
    );
    // The project's own TypeScript, on the installed package's declarations (skipLibCheck off).
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typecheck = await run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`.slice(0, 3000),
    );
    expect(typecheck).toBe('');
    // Run as JavaScript (the same program without its type annotations).
    await writeFile(join(project, 'check.mjs'), program.replace(', type Report', '').replace(/: Report/g, '').replace(/\(r\)/, '(r)'));
    const { stdout } = await run(process.execPath, [join(project, 'check.mjs')], { cwd: project, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { catalog: number; backend: { listed: number; failed: string[]; exitCode: number }; sdk: { listed: number; failed: string[]; exitCode: number } };
    expect(result.backend).toMatchObject({ listed: result.catalog, failed: [], exitCode: 0 });
    expect(result.sdk).toMatchObject({ listed: result.catalog, failed: [], exitCode: 0 });
  }, 180_000);

  it('the installed executable runs (`npx ekso-conformance`)', async () => {
    expect(installProblem).toBe('');
    const bin = join(project, 'node_modules', '.bin', 'ekso-conformance');
    const { stdout } = await run(bin, ['--version'], { cwd: project });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const list = await run(bin, ['list', '--json'], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
    expect(list.stdout).toMatch(/AK-01/);
  });

  it('every relative link of the shipped README resolves inside the package', async () => {
    expect(installProblem).toBe('');
    const readmes = [join(installed, 'README.md'), ...(await readdir(join(installed, 'examples'), { recursive: true })).filter((f) => f.endsWith('README.md')).map((f) => join(installed, 'examples', f))];
    const broken: string[] = [];
    for (const readme of readmes) {
      const text = await readFile(readme, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/i.test(target!)) continue;
        const path = resolve(dirname(readme), decodeURIComponent(target!.split('#')[0]!));
        if (!path.startsWith(installed) || !existsSync(path)) broken.push(`${readme.slice(installed.length)} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
