/**
 * Real third-party targets from npm (issue 9): three OAuth servers and three OAuth client
 * libraries, each in its default configuration, run once through the built CLI: one seed, the
 * checks that establish each target's distinctive verdicts (`quick` in targets.mjs), few runs. Every requirement must get the verdict established for that target in
 * `targets.mjs` — a pass, a skip with the harness's reason, or a non-pass explained there by a
 * behaviour of that library — so a harness change that flips a verdict fails here. Several seeds
 * and the default number of runs: test/soak/third-party.soak.test.ts and `npm run compat`.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs module shared with scripts/compat.mjs
import { TARGETS, differences, runTarget, sideOf } from './targets.mjs';

interface Requirement {
  id: string;
  status: string;
  reason?: string;
}
interface Target {
  id: string;
  kind: 'backend' | 'sdk';
  expected: Record<string, { status: string }>;
  quick: { check: string; numRuns: number };
}


describe.each((TARGETS as Target[]).map((t) => [t.id, t] as const))('third-party target %s', (_id, target) => {
  it('gets exactly the verdicts established for it', { timeout: 240_000 }, async () => {
    const { code, report, stderr } = await runTarget(target, { seed: 1, ...target.quick });
    expect(stderr).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/); // no stack trace, whatever the target does
    expect(differences(target, report)).toEqual([]);
    // Exit codes follow the verdicts; no target is unusable (3) or crashes the harness.
    const mine = (report.requirements as Requirement[]).filter((r) => sideOf(r.id) === target.kind);
    expect(code).toBe(mine.some((r) => r.status === 'failed') ? 1 : mine.some((r) => r.status === 'inconclusive') ? 4 : 0);
    // No Ekso API on these servers: whatever needs API keys, the marker gate or a clock hook is
    // skipped, with a reason naming what would enable it — never failed, never inconclusive.
    if (target.kind === 'backend') {
      for (const r of (report.requirements as Requirement[]).filter((q) => /^(AK|CM)-/.test(q.id) && !/^not selected/.test(q.reason ?? ''))) {
        expect([r.id, r.status]).toEqual([r.id, 'skipped']);
        expect(r.reason).toMatch(/--admin-key|field collection|--user-key/);
      }
    }
  });
});
