import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import { renderJson, ReportValidationError } from '../../src/report/json.js';
import { RAW_JWT, RAW_KEY, hostileReport } from './helpers.js';

describe('renderJson', () => {
  it('pretty-prints the report so that it reads back identical', () => {
    const report = sampleReport();
    const text = renderJson(report);
    expect(text).toContain('\n  "schemaVersion": 1,');
    expect(JSON.parse(text)).toEqual(report);
  });

  it('rejects an invalid report, naming the bad fields', () => {
    const report = sampleReport();
    const broken = {
      ...report,
      summary: undefined,
      checks: report.checks.map((c, i) => (i === 1 ? { ...c, status: 'exploded' } : c)),
    } as unknown as typeof report;
    let error: unknown;
    try {
      renderJson(broken);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReportValidationError);
    const validation = error as ReportValidationError;
    expect(validation.fields).toEqual(expect.arrayContaining(['summary', 'checks[1].status']));
    expect(validation.message).toContain('checks[1].status');
    expect(validation.message).not.toContain('\n');
  });

  it('fingerprints secrets that reached the report unredacted (H-01 safety net)', () => {
    const text = renderJson(hostileReport());
    expect(text).not.toContain(RAW_KEY);
    expect(text).not.toContain(RAW_JWT);
    expect(text).toContain('ek_live_…(len=');
  });
});
