/**
 * The options a run records in its report (`options` of `ekso-conformance.json`), as one schema:
 * what `backend` and `sdk` write, and what `replay` reads back. A report is data from elsewhere (a
 * CI artifact, a colleague's mail, an edited file): `replay` validates it with this schema and
 * then takes only the inert part of it (`INERT`); the target and every command come from its own
 * command line.
 */
import { z } from 'zod';
import { parsePolicy } from '../model/policy.js';
import { describeBound, withinBound, type BoundName } from '../cli/options.js';

const bounded = (name: BoundName) => z.number().refine((n) => withinBound(name, n), { message: describeBound(name) });

/** A printable single-line token (an id, a name): no control characters, no spaces. */
const token = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'expected 1–200 printable characters without spaces');

export const RecordedOptions = z.object({
  // ---- the target and the commands: recorded to say what was tested; never used by replay ----
  baseUrl: z.string().optional(),
  tenant: z.string().optional(),
  serverCmd: z.string().optional(),
  readyUrl: z.string().optional(),
  image: z.string().optional(),
  imagePort: z.number().optional(),
  tokenCommand: z.string().optional(),
  deviceApproveCommand: z.string().optional(),
  adapter: z.string().optional(),
  profile: z.string().optional(),
  insecure: z.boolean().optional(),
  adminKey: z.enum(['given', 'none']).optional(),
  userKey: z.enum(['given', 'none']).optional(),
  // ---- inert: how the checks ran (replay takes these) ----
  mutant: token.optional(),
  clientId: token.optional(),
  otherClientId: token.optional(),
  policy: z.string().refine((p) => parsePolicy(p) !== null, { message: 'expected "strict" or "grace=<seconds>"' }).optional(),
  strict: z.boolean().optional(),
  checkRateLimit: z.boolean().optional(),
  numRuns: bounded('numRuns').optional(),
  check: z.string().optional(),
  maxTime: bounded('maxTime').optional(),
  concurrency: bounded('concurrency').optional(),
  timeout: bounded('timeout').optional(),
  rate: bounded('rate').optional(),
});
// Unknown keys (a newer harness's) are dropped, not refused.
export type RecordedOptions = z.infer<typeof RecordedOptions>;

/** What `replay` takes from a report's options. Everything else must come from its command line. */
export const INERT = ['mutant', 'clientId', 'otherClientId', 'policy', 'strict', 'numRuns', 'concurrency', 'timeout', 'rate'] as const;

/** A counterexample's coordinates as recorded: fast-check paths ("0:3:1") and replay paths (base64). */
export const RecordedCounterexample = z.object({
  id: z.string().regex(/^[A-Za-z0-9._*-]{1,100}$/, 'expected a check id'),
  path: z.string().regex(/^\d{1,9}(?::\d{1,9}){0,999}$/, 'expected a fast-check path such as 0:3:1').optional(),
  replayPath: z.string().regex(/^[A-Za-z0-9+/=_:-]{0,10000}$/, 'expected a fast-check replay path').optional(),
  seed: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1),
});

/** "numRuns: expected an integer…; timeout: …" — every bad key of a zod error, on one line. */
export function describeRecordedIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
}

