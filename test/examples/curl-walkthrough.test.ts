/**
 * examples/curl/walkthrough.sh against `serve --test-hooks` (the built CLI, another process, as a
 * user would run it): a full device flow, a rotation, a replay that revokes the family, and an
 * API key minted, used, revoked and refused — each step's answer as the README promises.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type Serve } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const hasTools = ['curl', 'python3'].every((tool) => spawnSync(tool, ['--version']).status === 0);

let serve: Serve;

beforeAll(async () => {
  if (hasTools) serve = await startServe();
});

afterAll(async () => {
  await serve?.stop();
});

describe.skipIf(!hasTools)('examples/curl/walkthrough.sh', () => {
  it('tours device flow, rotation, replay and an API key lifecycle against serve --test-hooks', () => {
    const run = spawnSync('bash', [join(ROOT, 'examples/curl/walkthrough.sh')], {
      env: { ...process.env, EKSO_BASE_URL: serve.baseUrl, EKSO_ADMIN_API_KEY: serve.adminKey },
      encoding: 'utf8',
      // Generous: about 2 s on an idle machine, far more when the machine is shared.
      timeout: 100_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const line = (marker: string) => lines.find((l) => l.includes(marker)) ?? '';
    // Device flow: pending before approval, tokens after, the code spent afterwards.
    expect(run.stdout).toContain('authorization_pending');
    expect(line('<- the device code is spent')).toContain('invalid_grant');
    // The Cli marker: the gated update is refused even when the request claims Web.
    expect(line("<- 403 even when claiming Web")).toContain('"kind":"Permission"');
    // Replay: refused, and the family's newest token is dead too.
    expect(line('<- replay')).toContain('invalid_grant');
    expect(line('<- the newest token is dead too')).toContain('invalid_grant');
    // The API key: minted, used (200), revoked (2xx), refused (401 with a challenge).
    expect(line('use it')).toMatch(/→ 200/);
    expect(line('revoke it')).toMatch(/→ 20\d/);
    expect(run.stdout).toMatch(/HTTP\/1\.1 401/);
    expect(run.stdout).toMatch(/www-authenticate: Bearer/i);
  }, 120_000);
});
