import { describe, expect, it } from 'vitest';
import { failedRequirements, runBackend, statuses } from '../support/harness.js';

describe('backend mode against the embedded reference', () => {
  it('passes every backend requirement (only the opt-in ERR-04 skipped)', async () => {
    const { code, report } = await runBackend({ seed: 42 });
    expect(failedRequirements(report)).toEqual([]);
    expect(code).toBe(0);
    const s = statuses(report);
    for (const r of report.requirements.filter((r) => r.side === 'backend')) {
      if (r.id === 'ERR-04') expect(s[r.id]).toBe('skipped');
      else expect(s[r.id], r.id).toBe('passed');
    }
    expect(report.cleanup.leaked).toBe(0);
    expect(report.cleanup.minted).toBe(report.cleanup.revoked);
  });
});
