/**
 * The container tier: builds the offline image of the reference backend (docker/, no registry
 * pull), starts it through testcontainers (`--image`, host network, Ryuk off) and runs the whole
 * backend suite against it. Where no container engine answers within 3 s, the tier is skipped
 * with the reason (`.ci/run` starts an engine where it can).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightContainerEngine } from '../../src/targets/container.js';
import { runBackend, removeDir } from '../support/harness.js';
import { freePort, listening, ROOT } from '../ci/helpers.js';

const run = promisify(execFile);
const TAG = process.env.EKSO_REFERENCE_IMAGE ?? 'ekso-conformance-reference:local';

const engineProblem = await preflightContainerEngine(3000);
if (engineProblem) process.stderr.write(`container tier skipped: ${engineProblem}\n`);

/** Containers (running or not) made from the image: the harness must leave none behind. */
async function containersOf(image: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '--filter', `ancestor=${image}`, '--format', '{{.ID}}']);
  return stdout.split('\n').filter(Boolean);
}

if (engineProblem !== null) {
  describe('the container tier', () => {
    it.skip(`is skipped: ${engineProblem}`, () => undefined);
  });
}

describe.skipIf(engineProblem !== null)('the reference backend image, started by --image through testcontainers', () => {
  const dirs: string[] = [];
  let before: string[] = [];

  beforeAll(async () => {
    // Builds (or finds up to date) the FROM-scratch image; needs dist/ (npm test builds it).
    const { stdout } = await run('bash', [join(ROOT, 'docker', 'build-reference-image.sh'), TAG], { cwd: ROOT, timeout: 240_000, maxBuffer: 10_000_000 });
    expect(stdout.trim().split('\n').at(-1)).toBe(TAG);
    before = await containersOf(TAG);
  }, 300_000);

  afterAll(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  it('passes the backend suite against the container (exit 0) and removes the container', async () => {
    const port = await freePort();
    const { code, report, outDir } = await runBackend({ image: TAG, imagePort: port, seed: 42, readyTimeout: 60 });
    dirs.push(outDir);
    expect(report.requirements.filter((r) => r.status === 'failed')).toEqual([]);
    expect(code).toBe(0);
    for (const r of report.requirements.filter((v) => v.side === 'backend')) expect(r.status, r.id).toBe(r.id === 'ERR-04' ? 'skipped' : 'passed');
    expect(report.target).toMatchObject({ baseUrl: `http://127.0.0.1:${port}`, description: `container ${TAG}` });
    expect(report.cleanup.leaked).toBe(0);
    expect(await listening(port)).toBe(false);
    expect(await containersOf(TAG)).toEqual(before);
  }, 240_000);

  it('--image-env reaches the container; a container that exits before answering is exit 3 with its last words', async () => {
    const port = await freePort();
    // A host that cannot be listened on makes `serve` refuse to start: the container exits at once.
    const { code, report, outDir } = await runBackend({ image: TAG, imagePort: port, imageEnv: { HOST: 'not a host' }, seed: 43, readyTimeout: 30 });
    dirs.push(outDir);
    expect(code).toBe(3);
    expect(report.diagnostics?.[0]).toMatch(new RegExp(`the container ${TAG} exited before answering at http://127\\.0\\.0\\.1:${port}: .*cannot listen on not a host`));
    expect(await containersOf(TAG)).toEqual(before);
  }, 120_000);
});
