/**
 * A realistic report for tests and previews: a backend run against the embedded reference with
 * passed, failed (MUST and SHOULD, with steps, transcript and replay), skipped and inconclusive
 * checks. Verdicts, summary and exit code come from `engine/verdicts.ts`, as in a real run, so
 * the fixture cannot drift from how reports are actually built.
 */
import { computeRequirementVerdicts, exitCodeFor, summarize } from '../engine/verdicts.js';
import { fingerprint } from '../engine/redact.js';
import type { CheckResult, Report } from './schema.js';
import { TOOL_VERSION } from '../version.js';

const BASE_URL = 'http://127.0.0.1:7070';
const SEED = 1_234_567;
const REFRESH_1 = fingerprint('ekso_rt_0d3a9c1f5b7e4a2d8c6b0e9f1a3c5d7e');
const REFRESH_2 = fingerprint('ekso_rt_9f8e7d6c5b4a39281706f5e4d3c2b1a0');
const ACCESS_2 = fingerprint('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl');

function sampleChecks(): CheckResult[] {
  const form = 'application/x-www-form-urlencoded';
  const json = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  return [
    {
      id: 'AK-mint-shape',
      title: 'A minted key has the documented shape and authenticates at once',
      group: 'AK',
      requirements: ['AK-01', 'AK-04'],
      status: 'passed',
      runs: 100,
      durationMs: 1840,
      seed: SEED,
    },
    {
      id: 'RT-replay-revokes-family',
      title: 'Replaying a superseded refresh token revokes the whole family',
      group: 'RT',
      requirements: ['RT-03', 'RT-04', 'RT-05'],
      status: 'failed',
      runs: 57,
      durationMs: 812,
      message: "after a replay of RT#1 the family's newest refresh token RT#2 still rotated",
      failedRequirements: ['RT-04'],
      expected: '400 invalid_grant for RT#2 (the family is revoked)',
      actual: '200 with a new token pair',
      seed: SEED,
      path: '56:2',
      replayPath: '56:2:0',
      numShrinks: 7,
      steps: [
        'obtain a token pair (family F1): RT#1',
        'refresh with RT#1 → 200, RT#2',
        'refresh with RT#1 again (replay) → 400 invalid_grant',
        'refresh with RT#2 → 200 (expected 400 invalid_grant)',
      ],
      transcript: [
        {
          at: '2025-05-01T10:00:01.120Z',
          request: { method: 'POST', url: `${BASE_URL}/token`, headers: { 'content-type': form }, body: `grant_type=refresh_token&refresh_token=${REFRESH_1}&client_id=ekso-cli` },
          response: { status: 200, headers: json, body: JSON.stringify({ access_token: ACCESS_2, token_type: 'Bearer', expires_in: 300, refresh_token: REFRESH_2 }) },
          durationMs: 14,
        },
        {
          at: '2025-05-01T10:00:01.140Z',
          request: { method: 'POST', url: `${BASE_URL}/token`, headers: { 'content-type': form }, body: `grant_type=refresh_token&refresh_token=${REFRESH_1}&client_id=ekso-cli` },
          response: { status: 400, headers: json, body: '{"error":"invalid_grant","error_description":"refresh token already used"}' },
          durationMs: 9,
        },
        {
          at: '2025-05-01T10:00:01.160Z',
          request: { method: 'POST', url: `${BASE_URL}/token`, headers: { 'content-type': form }, body: `grant_type=refresh_token&refresh_token=${REFRESH_2}&client_id=ekso-cli` },
          response: { status: 200, headers: json, body: JSON.stringify({ access_token: ACCESS_2, token_type: 'Bearer', expires_in: 300, refresh_token: REFRESH_2 }) },
          durationMs: 11,
        },
      ],
      replay: `npx ekso-conformance --base-url ${BASE_URL} --check RT-replay-revokes-family --seed ${SEED} --replay-path 56:2:0`,
      reproduction: '3/3',
    },
    {
      id: 'RT-no-store',
      title: 'Token responses are not cacheable',
      group: 'RT',
      requirements: ['RT-11'],
      status: 'failed',
      runs: 1,
      durationMs: 20,
      message: 'token response without Cache-Control: no-store',
      failedRequirements: ['RT-11'],
      expected: 'Cache-Control: no-store',
      actual: 'no Cache-Control header',
      seed: SEED,
      path: '0',
      steps: ['refresh with a fresh refresh token → 200 without Cache-Control'],
      transcript: [
        {
          at: '2025-05-01T10:00:02.000Z',
          request: { method: 'POST', url: `${BASE_URL}/token`, headers: { 'content-type': form }, body: `grant_type=refresh_token&refresh_token=${REFRESH_1}&client_id=ekso-cli` },
          response: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: ACCESS_2, token_type: 'Bearer', expires_in: 300, refresh_token: REFRESH_2 }) },
          durationMs: 30,
        },
      ],
      replay: `npx ekso-conformance --base-url ${BASE_URL} --check RT-no-store --seed ${SEED}`,
    },
    {
      id: 'DF-device-flow',
      title: 'The device flow issues one token pair after approval',
      group: 'DF',
      requirements: ['DF-02', 'DF-03'],
      status: 'skipped',
      runs: 0,
      durationMs: 0,
      message: 'no --device-approve-command: nothing can approve a device-flow request',
      seed: SEED,
    },
    {
      id: 'ERR-unauthenticated',
      title: 'Protected endpoints answer 401 to bad credentials',
      group: 'ERR',
      requirements: ['ERR-01'],
      status: 'inconclusive',
      runs: 12,
      durationMs: 30_000,
      message: 'timeout after 30 s on GET /api/field (3 of 12 runs)',
      seed: SEED,
      path: '12',
    },
    {
      id: 'CM-markers',
      title: 'The client marker decides system-field updates',
      group: 'CM',
      requirements: ['CM-01', 'CM-02', 'CM-03'],
      status: 'passed',
      runs: 40,
      durationMs: 950,
      seed: SEED,
    },
  ];
}

/** Every check of the sample's mode catalogue, run or not (a real run gets it from the scenarios). */
function coverageOf(checks: readonly CheckResult[]): Map<string, string[]> {
  const coverage = new Map<string, string[]>();
  for (const check of checks) {
    for (const id of check.requirements) coverage.set(id, [...(coverage.get(id) ?? []), check.id]);
  }
  return coverage;
}

/**
 * A valid report. Overrides are shallow; when they replace `checks` (or `mode`) without giving
 * `requirements`, the verdicts, summary and exit code are recomputed so the report stays coherent.
 */
export function sampleReport(overrides: Partial<Report> = {}): Report {
  const mode = overrides.mode ?? 'backend';
  const checks = overrides.checks ?? sampleChecks();
  const requirements = overrides.requirements ?? computeRequirementVerdicts({ mode, checks, coverage: coverageOf(checks) });
  const report: Report = {
    schemaVersion: 1,
    tool: { name: 'ekso-conformance', version: TOOL_VERSION },
    mode,
    target: { baseUrl: BASE_URL, description: 'embedded reference backend' },
    policy: 'strict',
    seed: SEED,
    startedAt: '2025-05-01T10:00:00.000Z',
    finishedAt: '2025-05-01T10:00:33.620Z',
    options: { reporter: ['json', 'junit', 'md', 'html'], out: 'reports', policy: 'strict' },
    exitCode: exitCodeFor({ verdicts: requirements, strict: false }),
    summary: summarize(requirements),
    requirements,
    checks,
    cleanup: { minted: 6, revoked: 6, leaked: 0 },
    diagnostics: ['reference backend log tail:\nPOST /token 200\nPOST /token 400'],
  };
  return { ...report, ...overrides, mode, checks, requirements };
}
