import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { ReportSchema } from '../../src/report/schema.js';

describe('sampleReport', () => {
  it('is a valid report with every check status and a failure carrying everything H-03 asks for', () => {
    const report = sampleReport();
    expect(ReportSchema.safeParse(report).success).toBe(true);
    expect(new Set(report.checks.map((c) => c.status))).toEqual(new Set(['passed', 'failed', 'skipped', 'inconclusive']));
    const failed = report.checks.find((c) => c.status === 'failed');
    expect(failed?.steps?.length).toBeGreaterThan(0);
    expect(failed?.transcript?.length).toBeGreaterThan(0);
    expect(failed?.replay).toContain('--seed');
    expect(failed?.path).toBeDefined();
    expect(report.exitCode).toBe(1);
    expect(report.summary.failed).toBe(report.requirements.filter((r) => r.status === 'failed').length);
  });

  it('recomputes verdicts when the checks are overridden', () => {
    const passed = sampleReport().checks.filter((c) => c.status === 'passed');
    const report = sampleReport({ checks: passed });
    expect(report.summary.failed).toBe(0);
    expect(report.exitCode).toBe(0);
    expect(report.requirements.find((r) => r.id === 'AK-01')?.status).toBe('passed');
  });
});
