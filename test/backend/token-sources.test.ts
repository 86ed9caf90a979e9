/**
 * CONTRACT §2 token sources against a backend that does not advertise test hooks: the harness
 * drives the device flow itself with --device-approve-command, takes Web families from
 * --token-command, uses the keys it is given, and skips what the configuration cannot support with
 * a reason naming the option.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPatterns } from '../../src/cli/options.js';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import { runBackend, statuses } from '../support/harness.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
let backend: ReferenceBackend;
let baseUrl: string;
let profile: string;

beforeAll(async () => {
  // Hooks are on (the fixture commands use them, as a deployment's scripts would use a test
  // login) but hidden from the harness: the profile points discovery at a path that does not exist.
  backend = createReferenceBackend({ testHooks: true, deviceIntervalSeconds: 0 });
  ({ baseUrl } = await backend.listen(0, '127.0.0.1'));
  profile = join(tmpdir(), `ekso-profile-${process.pid}.json`);
  await writeFile(profile, JSON.stringify({ discoveryPath: '/no-discovery-here', deviceAuthorizationEndpoint: '/device_authorization' }));
});

afterAll(async () => {
  await backend.close();
});

function options(check: string, extra: Record<string, unknown> = {}) {
  return {
    baseUrl,
    profile,
    adminKey: backend.bootstrap.adminKey,
    userKey: backend.bootstrap.userKey,
    tokenCommand: `node ${fixture('token-command.mjs')}`,
    deviceApproveCommand: `node ${fixture('approve-command.mjs')}`,
    check: checkPatterns(check),
    checkText: check,
    seed: 11,
    numRuns: 2,
    ...extra,
  };
}

describe('token sources (CONTRACT §2)', () => {
  it('runs rotation, device-flow and marker checks with the device flow, the token command and given keys', async () => {
    const { code, report } = await runBackend(options('rt.rotation.shape,rt.replay.family,rt.client-binding,df.authorization,df.polling,df.denied,cm.gate.*,cm.spoofing'));
    const s = statuses(report);
    expect(report.checks.filter((c) => c.status !== 'passed').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    for (const id of ['RT-01', 'RT-04', 'RT-08', 'DF-01', 'DF-02', 'DF-03', 'CM-01', 'CM-02', 'CM-03', 'CM-07']) expect(s[id], id).toBe('passed');
    expect(code).toBe(0);
  });

  it('skips what needs a clock, naming the option', async () => {
    const { report } = await runBackend(options('ak.no-expiry,rt.idle-window'));
    for (const check of report.checks) {
      expect(check.status).toBe('skipped');
      expect(check.message).toMatch(/clock hook|testClock/);
    }
  });

  it('skips Web-marker checks when the token command cannot produce Web families (exit 3)', async () => {
    process.env.TOKEN_COMMAND_REFUSE = 'Web';
    try {
      const { report } = await runBackend(options('cm.gate.web'));
      const check = report.checks.find((c) => c.id === 'cm.gate.web')!;
      expect(check.status).toBe('skipped');
      expect(check.message).toMatch(/--token-command/);
      expect(statuses(report)['CM-03']).toBe('skipped');
    } finally {
      delete process.env.TOKEN_COMMAND_REFUSE;
    }
  });
});
