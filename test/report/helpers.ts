/** Shared bits of the report tests: hostile content a broken or malicious target could send. */
import { sampleReport } from '../../src/report/fixtures.js';
import type { CheckResult, Report } from '../../src/report/schema.js';

export const SCRIPT = '<script>alert(1)</script>';
export const ATTR_BREAK = '"><img src=x onerror=alert(1)>';
/** Unredacted secrets that slipped past the engine: the writers' safety net must catch them. */
export const RAW_KEY = 'ek_live_Q2xhc3NpZmllZEtleVRoYXRNdXN0Tm90TGVhaw';
export const RAW_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.bm90LWEtcmVhbC1zaWduYXR1cmU';

/** The sample report with markup, control characters, fences and pipes in every untrusted field. */
export function hostileReport(): Report {
  const base = sampleReport();
  const checks = base.checks.map((check): CheckResult => {
    if (check.status !== 'failed' || check.id !== 'RT-replay-revokes-family') return check;
    return {
      ...check,
      title: `title ${SCRIPT} | pipe`,
      message: `message ${SCRIPT} \`tick\` | pipe ]]> \u0000\u001b ctrl ${ATTR_BREAK}`,
      expected: `expected ${SCRIPT}`,
      actual: `actual ${SCRIPT} leaked ${RAW_KEY}`,
      steps: [`step ${SCRIPT}`, '- looks like a list', '# looks like a heading'],
      transcript: [
        {
          at: '2025-05-01T10:00:01.120Z',
          request: {
            method: 'POST',
            url: `http://127.0.0.1:7070/token?x=${ATTR_BREAK}`,
            headers: { 'x-evil': ATTR_BREAK, authorization: `Bearer ${RAW_JWT}` },
            body: `body ${SCRIPT} token=${RAW_JWT}\n\`\`\`\n# fence breaker`,
          },
          response: { status: 500, headers: { 'content-type': 'text/html' }, body: `<html><body>${SCRIPT}<img src="https://evil.example/x.png"></body></html>` },
          durationMs: 5,
        },
        {
          at: '2025-05-01T10:00:01.130Z',
          request: { method: 'GET', url: 'http://127.0.0.1:7070/api/field', headers: {} },
          error: `ECONNRESET ${SCRIPT}`,
          durationMs: 2,
        },
      ],
    };
  });
  // Through sampleReport again so that the verdicts (and their reasons) quote the hostile checks.
  return sampleReport({ checks, diagnostics: [`adapter said ${SCRIPT}`, `key ${RAW_KEY}`], target: { ...base.target, description: SCRIPT } });
}
