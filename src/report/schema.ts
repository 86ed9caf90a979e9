/**
 * The shape of `ekso-conformance.json` (CONTRACT §6), as a zod schema. The JSON report is
 * validated against it before it is written, `replay` and `merge` validate what they read, and
 * the other writers (JUnit, Markdown, HTML) render this object only: reporters never compute
 * verdicts.
 */
import { z } from 'zod';

export const CHECK_STATUSES = ['passed', 'failed', 'skipped', 'inconclusive'] as const;
export const REQUIREMENT_STATUSES = [...CHECK_STATUSES, 'not-covered'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
export type RequirementStatus = (typeof REQUIREMENT_STATUSES)[number];
export type Mode = 'backend' | 'sdk';

export const ExchangeSchema = z.object({
  at: z.string(),
  request: z.object({
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().optional(),
  }),
  response: z
    .object({ status: z.number(), headers: z.record(z.string(), z.string()), body: z.string().optional() })
    .optional(),
  error: z.string().optional(),
  durationMs: z.number(),
});

/**
 * One violation a check found, with everything needed to understand and replay it. A check's
 * first finding is spread over the check result's own fields (message, expected, actual, path,
 * steps, transcript, replay); `additionalFindings` holds the ones found after it, while the check
 * explored past the violations it already knew.
 */
export const FindingSchema = z.object({
  /** Every requirement the observation breaks, the primary one first. */
  requirements: z.array(z.string()),
  message: z.string(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  path: z.string().optional(),
  replayPath: z.string().optional(),
  numShrinks: z.number().int().optional(),
  firstFailureMs: z.number().nonnegative().optional(),
  steps: z.array(z.string()).optional(),
  transcript: z.array(ExchangeSchema).optional(),
  replay: z.string().optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const CheckResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  group: z.string(),
  requirements: z.array(z.string()),
  status: z.enum(CHECK_STATUSES),
  /** Property runs completed (for bursts: bursts completed). */
  runs: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** One line: the violation, the skip reason, or the inconclusive diagnosis. */
  message: z.string().optional(),
  /** Requirements this check found violated (a subset of `requirements`). */
  failedRequirements: z.array(z.string()).optional(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  seed: z.number().int(),
  path: z.string().optional(),
  replayPath: z.string().optional(),
  numShrinks: z.number().int().optional(),
  /** Milliseconds from the check's start to the first failing run (before shrinking). */
  firstFailureMs: z.number().nonnegative().optional(),
  /** The shrunk minimal sequence of steps of the failing run. */
  steps: z.array(z.string()).optional(),
  /** Redacted HTTP transcript of the failing run. */
  transcript: z.array(ExchangeSchema).optional(),
  /** A command line that replays just this check. */
  replay: z.string().optional(),
  /** How often a replay reproduced the failure against a real target ("3/3"), when measured. */
  reproduction: z.string().optional(),
  /** Violations found after the first one (the first is in the fields above). */
  additionalFindings: z.array(FindingSchema).optional(),
  /**
   * Of a failed check: the requirements it still established — it explored past the violations
   * it found and saw these hold in every run. (A passed check establishes all its requirements.)
   */
  established: z.array(z.string()).optional(),
  /** Of a failed check: why its other requirements were not established. */
  notEstablished: z.string().optional(),
  /**
   * Of a failed check: exploring past its violations was skipped (this configuration cannot look
   * further, e.g. it needs a clock hook): the others are `skipped` with that reason, not inconclusive.
   */
  exploreSkipped: z.boolean().optional(),
  /** Per requirement: what this configuration left unexplored (a pass is qualified by it). */
  limits: z.record(z.string(), z.string()).optional(),
  /** Requirements whose known violations this run explored past (`--tolerate`, for replays). */
  tolerated: z.array(z.string()).optional(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

export const RequirementVerdictSchema = z.object({
  id: z.string(),
  level: z.enum(['MUST', 'SHOULD']),
  side: z.enum(['backend', 'sdk']),
  status: z.enum(REQUIREMENT_STATUSES),
  checks: z.array(z.string()),
  reason: z.string().optional(),
  /** True when a failure of this requirement was listed in --baseline (it does not fail the run). */
  baselined: z.boolean().optional(),
  /** Which observation decided the verdict: one line per deciding check (its finding, or its runs). */
  decidedBy: z.array(z.string()).optional(),
  /** What the passing checks left unexplored for this requirement (a qualified pass). */
  limits: z.array(z.string()).optional(),
});
export type RequirementVerdict = z.infer<typeof RequirementVerdictSchema>;

export const SummarySchema = z.object({
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  inconclusive: z.number().int(),
  notCovered: z.number().int(),
});
export type Summary = z.infer<typeof SummarySchema>;

export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal('ekso-conformance'), version: z.string() }),
  mode: z.enum(['backend', 'sdk']),
  target: z
    .object({
      baseUrl: z.string().optional(),
      adapter: z.string().optional(),
      profile: z.record(z.string(), z.unknown()).optional(),
      mutant: z.string().optional(),
      description: z.string().optional(),
    })
    .loose(),
  policy: z.string(),
  seed: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** The options the run was started with (redacted), so `replay` can rebuild the target. */
  options: z.record(z.string(), z.unknown()).optional(),
  shard: z.object({ index: z.number().int(), count: z.number().int() }).optional(),
  interrupted: z.boolean().optional(),
  exitCode: z.number().int().optional(),
  summary: SummarySchema,
  requirements: z.array(RequirementVerdictSchema),
  checks: z.array(CheckResultSchema),
  cleanup: z.object({ minted: z.number().int(), revoked: z.number().int(), leaked: z.number().int() }),
  /** Run-level notes: target or adapter log tails (redacted), stale baseline entries, warnings. */
  diagnostics: z.array(z.string()).optional(),
  baseline: z
    .object({ file: z.string(), expected: z.array(z.string()), stale: z.array(z.string()) })
    .optional(),
});
export type Report = z.infer<typeof ReportSchema>;
