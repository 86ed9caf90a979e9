/**
 * H-02 and H-05 when checks themselves crash: a check that throws a bug mid-run (after minting a
 * key), one whose skip test throws, and one whose property cannot even be built are each
 * inconclusive with the reason — never a failure of the target, never the end of the run — and
 * every key minted is revoked. The crashing checks are added to the real ones with vi.mock.
 */
import fc from 'fast-check';
import { vi, afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckDefinition } from '../../src/engine/check.js';
import { property } from '../../src/engine/properties.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import { removeDir, runBackend } from '../support/harness.js';
import { createRecordingBackend, type RecordingReferenceBackend } from '../support/recording-reference.js';

vi.mock('../../scenarios/backend/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../scenarios/backend/index.js')>();
  const midRun: CheckDefinition<BackendSession> = {
    id: 'zz.crash.mid-run',
    title: 'mints a key, then hits a bug',
    requirements: ['AK-04'],
    defaultRuns: 3,
    property: (session, ctx) =>
      property(ctx, fc.constant(0), async () => {
        await session.mintKey('admin', { name: 'minted by a crashing check', expiresAt: null });
        throw new TypeError("Cannot read properties of undefined (reading 'rawKey')");
      }),
  };
  const inSkipReason: CheckDefinition<BackendSession> = {
    id: 'zz.crash.skip-reason',
    title: 'its skip test throws',
    requirements: ['AK-06'],
    defaultRuns: 1,
    skipReason: () => {
      throw new Error('a bug in skipReason');
    },
    property: (_session, ctx) => property(ctx, fc.constant(0), async () => {}),
  };
  const inBuild: CheckDefinition<BackendSession> = {
    id: 'zz.crash.build',
    title: 'its property cannot be built',
    requirements: ['AK-13'],
    defaultRuns: 1,
    property: () => {
      // Not even an Error.
      throw undefined;
    },
  };
  return { BACKEND_CHECKS: [...original.BACKEND_CHECKS.filter((c) => c.id === 'ak.revocation'), midRun, inSkipReason, inBuild] };
});

let backend: RecordingReferenceBackend;
let baseUrl: string;

beforeAll(async () => {
  // Audit-style listing: the revoked keys stay visible, so the test can see them revoked.
  backend = createRecordingBackend({ listRevokedKeys: true });
  baseUrl = (await backend.listen(0, '127.0.0.1')).baseUrl;
});

afterAll(async () => {
  await backend.close();
});

describe('checks that crash', () => {
  it('are inconclusive with the reason, the run goes on, and every minted key is revoked', async () => {
    const { code, report, outDir } = await runBackend({ baseUrl, seed: 9 });
    try {
      const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
      expect(byId['ak.revocation']?.status).toBe('passed');
      expect(byId['zz.crash.mid-run']).toMatchObject({ status: 'inconclusive' });
      expect(byId['zz.crash.mid-run']?.message).toMatch(/check error: Cannot read properties/);
      expect(byId['zz.crash.skip-reason']).toMatchObject({ status: 'inconclusive' });
      expect(byId['zz.crash.skip-reason']?.message).toMatch(/a bug in skipReason/);
      expect(byId['zz.crash.build']).toMatchObject({ status: 'inconclusive' });
      expect(byId['zz.crash.build']?.message).toMatch(/check could not start/);
      expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
      expect(code).toBe(4);

      // The crashing check's keys (one per execution) and the harness's identities: all revoked.
      expect(report.cleanup.minted).toBeGreaterThanOrEqual(3);
      expect(report.cleanup.leaked).toBe(0);
      const listing = await fetch(`${baseUrl}/api/admin/api-key`, { headers: { authorization: `Bearer ${backend.bootstrap.adminKey}` } });
      const keys = (await listing.json()) as Array<{ name: string; revokedAt: string | null }>;
      const crashKeys = keys.filter((k) => k.name.startsWith('minted by a crashing check [ekso-conformance '));
      expect(crashKeys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.name.startsWith('bootstrap ') && !k.revokedAt).map((k) => k.name)).toEqual([]);
    } finally {
      await removeDir(outDir);
    }
  });
});
