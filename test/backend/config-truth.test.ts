/**
 * Verdicts that hold whatever way the harness is configured (issues 9 and 14): the reference
 * backend driven as an outside team would — keys given, families from real shell scripts, the
 * clock named by a profile or absent — must be conformant; a source that fails for one kind of
 * family costs only the checks needing that kind; a second client the target does not know is
 * the harness's configuration, not the target's fault.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPatterns } from '../../src/cli/options.js';
import { createReferenceBackend, ReferenceBackend, type ReferenceBackendOptions, type RequestContext } from '../../src/reference/backend/index.js';
import { sendJson } from '../../src/reference/backend/http-util.js';
import { ROOT } from '../support/cli.js';
import { runBackend, statuses } from '../support/harness.js';

const SCRIPTS = join(ROOT, 'examples', 'scripts');
/** The issue's --token-command: a real shell script that makes Cli families and exits 3 for Web. */
const CLI_ONLY_COMMAND = `EKSO_EXAMPLE_MARKERS=Cli ${join(SCRIPTS, 'token-command.sh')}`;
const APPROVE = join(SCRIPTS, 'device-approve.sh');

let dir: string;
let clockProfile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-config-truth-'));
  clockProfile = join(dir, 'clock.json');
  await writeFile(clockProfile, JSON.stringify({ testClock: '/__conformance/clock' }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serving(options: ReferenceBackendOptions, create: (o: ReferenceBackendOptions) => ReferenceBackend = createReferenceBackend) {
  const backend = create({ testHooks: true, deviceIntervalSeconds: 0, ...options });
  const { baseUrl } = await backend.listen(0, '127.0.0.1');
  return { backend, baseUrl, keys: { adminKey: backend.bootstrap.adminKey, userKey: backend.bootstrap.userKey } };
}

function select(check: string) {
  return { check: checkPatterns(check), checkText: check };
}

function notPassed(report: Awaited<ReturnType<typeof runBackend>>['report']): string[] {
  return report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id} ${c.status}: ${c.message ?? ''}`);
}

describe('a family obtained before the clock moved is as old as it is (issue 9, point 1)', () => {
  it.each([2, 3])('token-command script + profile testClock, clock moved by ak.expiry before the model: conformant (seed %i)', async (seed) => {
    const { backend, baseUrl, keys } = await serving({});
    try {
      const { code, report } = await runBackend({
        baseUrl,
        ...keys,
        tokenCommand: CLI_ONLY_COMMAND,
        profile: clockProfile,
        seed,
        ...select('ak.expiry,rt.rotation.model'),
      });
      expect(notPassed(report)).toEqual([]);
      expect(code).toBe(0);
    } finally {
      await backend.close();
    }
  });
});

/**
 * DF-01 broken: the device authorization response lacks verification_uri and interval — or, with
 * `keptInterval`, only verification_uri (polling stays quick).
 */
class NoVerificationUri extends ReferenceBackend {
  protected readonly keptInterval: number | undefined = undefined;
  protected override async handleDeviceAuthorization(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const clientId = await this.resolveClient(ctx, form.params);
    if (!clientId) return;
    const started = await this.startDeviceAuthorization(clientId);
    const interval = this.keptInterval === undefined ? {} : { interval: this.keptInterval };
    sendJson(ctx.res, 200, { device_code: started.deviceCode, user_code: started.userCode, expires_in: started.expiresIn, ...interval });
  }
}

class OnlyNoVerificationUri extends NoVerificationUri {
  protected override readonly keptInterval = 0;
}

describe('one broken endpoint does not take the run down (issue 9, point 2)', () => {
  const checks = 'ak.lifecycle.model,ak.permissions,df.authorization,rt.rotation.shape,cm.gate.cli,cm.gate.sdk';

  it('a device flow answering outside RFC 8628: DF-01 failed, the API-key checks run, the Cli-family checks are skipped naming DF-01', async () => {
    const { backend, baseUrl, keys } = await serving({ advertiseTestHooks: false }, (o) => new NoVerificationUri(o));
    try {
      const { code, report } = await runBackend({ baseUrl, ...keys, deviceApproveCommand: APPROVE, seed: 5, numRuns: 2, ...select(checks) });
      const s = statuses(report);
      expect(code).toBe(1);
      expect(s['DF-01']).toBe('failed');
      for (const id of ['AK-01', 'AK-11', 'CM-01']) expect(s[id], id).toBe('passed');
      for (const id of ['rt.rotation.shape', 'cm.gate.cli']) {
        const check = report.checks.find((c) => c.id === id)!;
        expect(check.status, id).toBe('skipped');
        expect(check.message).toMatch(/device flow.*DF-01/);
      }
      expect(report.checks.filter((c) => c.status === 'inconclusive')).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('DF-01 broken (no verification_uri): DF-02 and DF-03 still get verdicts of their own (issue 9, point 4)', async () => {
    const { backend, baseUrl, keys } = await serving({}, (o) => new OnlyNoVerificationUri(o));
    try {
      const { report } = await runBackend({ baseUrl, ...keys, seed: 6, numRuns: 3, ...select('df.*') });
      const s = statuses(report);
      expect(s['DF-01']).toBe('failed');
      // Before: DF-03 inconclusive, "stopped on DF-01" (as on oidc-provider, which omits interval).
      expect(s['DF-02'], JSON.stringify(report.requirements.find((r) => r.id === 'DF-02'))).toBe('passed');
      expect(s['DF-03'], JSON.stringify(report.requirements.find((r) => r.id === 'DF-03'))).toBe('passed');
    } finally {
      await backend.close();
    }
  });

  it('with a --token-command beside it, the Cli families come from the command instead', async () => {
    const { backend, baseUrl, keys } = await serving({ advertiseTestHooks: false }, (o) => new NoVerificationUri(o));
    try {
      const { code, report } = await runBackend({ baseUrl, ...keys, deviceApproveCommand: APPROVE, tokenCommand: CLI_ONLY_COMMAND, seed: 5, numRuns: 2, ...select(checks) });
      const s = statuses(report);
      expect(s['DF-01']).toBe('failed');
      for (const id of ['AK-01', 'AK-11', 'CM-01', 'CM-02', 'RT-01']) expect(s[id], id).toBe('passed');
      expect(code).toBe(1);
    } finally {
      await backend.close();
    }
  });
});

describe('the harness\'s own configuration is not blamed on the target (issue 9, point 5)', () => {
  it('a second client the target does not know: RT-08 skipped, naming --other-client-id; the model runs without it', async () => {
    const { code, report } = await runBackend({ otherClientId: 'not-registered-here', seed: 7, ...select('rt.client-binding,rt.rotation.model') });
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    const binding = report.checks.find((c) => c.id === 'rt.client-binding')!;
    expect(binding.status).toBe('skipped');
    expect(binding.message).toMatch(/not-registered-here.*invalid_client.*--other-client-id ID or the profile key otherClientId/);
    const model = report.checks.find((c) => c.id === 'rt.rotation.model')!;
    expect(model.status).toBe('passed');
    expect(model.requirements).not.toContain('RT-08');
    expect(statuses(report)['RT-08']).toBe('skipped');
    expect(report.options?.otherClientId).toBe('not-registered-here');
    expect(code).toBe(0);
  });

  it('the same from the profile key otherClientId', async () => {
    const profile = join(dir, 'other-client.json');
    await writeFile(profile, JSON.stringify({ otherClientId: 'unknown-web' }));
    const { report } = await runBackend({ profile, seed: 7, numRuns: 2, ...select('rt.client-binding') });
    const binding = report.checks.find((c) => c.id === 'rt.client-binding')!;
    expect(binding.status).toBe('skipped');
    expect(binding.message).toMatch(/profile otherClientId/);
  });

  it('a harness client the token endpoint refuses: the refresh checks are skipped naming --client-id, not failed', async () => {
    const { report } = await runBackend({ clientId: 'not-a-client', seed: 3, numRuns: 2, ...select('rt.rotation.shape,rt.garbage,rt.client-binding') });
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    for (const check of report.checks) {
      expect(check.status, check.id).toBe('skipped');
      expect(check.message).toMatch(/--client-id/);
    }
  });
});

describe('generators draw only from the families the sources can give (issue 14, points 2 and 6)', () => {
  it.each([1, 2, 3])('a token command making only Cli: rt.replay.family and rt.isolation run on Cli families (seed %i)', async (seed) => {
    const { backend, baseUrl, keys } = await serving({ advertiseTestHooks: false });
    try {
      const { code, report } = await runBackend({ baseUrl, ...keys, tokenCommand: CLI_ONLY_COMMAND, seed, ...select('rt.replay.family,rt.isolation') });
      expect(notPassed(report)).toEqual([]);
      expect(code).toBe(0);
    } finally {
      await backend.close();
    }
  });

  it('--check RT-09 alone against a short idle window, no clock: RT-09 judged in real time on Cli families', async () => {
    // Hooks served for the script but hidden from the harness (discovery pointed elsewhere): no clock.
    const { backend, baseUrl, keys } = await serving({ refreshIdleWindowSeconds: 3 });
    const profile = join(dir, 'idle3.json');
    await writeFile(profile, JSON.stringify({ refreshIdleWindowSeconds: 3, discoveryPath: '/no-discovery-here', deviceAuthorizationEndpoint: '/device_authorization' }));
    try {
      const { report } = await runBackend({ baseUrl, ...keys, tokenCommand: CLI_ONLY_COMMAND, profile, seed: 1, numRuns: 2, ...select('rt.idle-window') });
      expect(notPassed(report)).toEqual([]);
      expect(statuses(report)['RT-09']).toBe('passed');
    } finally {
      await backend.close();
    }
  });
});

describe('targets without an advertised hook or without a clock (the matrix lanes)', () => {
  it('advertiseTestHooks: false serves the hooks without naming them in discovery', async () => {
    const { backend, baseUrl } = await serving({ advertiseTestHooks: false });
    try {
      const discovery = (await (await fetch(`${baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(discovery.ekso_conformance_test_hooks).toBeUndefined();
      const hook = await fetch(`${baseUrl}/__conformance/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ marker: 'Cli', user: 'admin' }) });
      expect(hook.status).toBe(200);
    } finally {
      await backend.close();
    }
  });

  it('an advertised clock hook that answers 404 is dropped with the reason: the clock checks are skipped, not inconclusive', async () => {
    const { backend, baseUrl } = await serving({ clockHook: false });
    try {
      const { code, report } = await runBackend({ baseUrl, seed: 2, ...select('ak.no-expiry,rt.idle-window') });
      for (const check of report.checks) {
        expect(check.status, check.id).toBe('skipped');
        expect(check.message).toMatch(/clock hook .*__conformance\/clock.* answered 404/);
      }
      expect(report.diagnostics?.join('\n')).toMatch(/answered 404: no clock/);
      expect(code).toBe(0);
    } finally {
      await backend.close();
    }
  });
});
