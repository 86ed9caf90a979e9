/**
 * Result validation shared by both transports: whatever an adapter answers is checked against the
 * protocol's zod schema before a check sees it, so a check never judges a malformed answer as if
 * it were SDK behaviour.
 */
import type { z } from 'zod';
import { RESULT_SCHEMAS, type AdapterMethod } from '../../spec/adapter-protocol.js';
import { AdapterProtocolError } from './errors.js';

/** Returns the parsed result or throws `AdapterProtocolError` naming the first offending field. */
export function validateResult<T>(method: AdapterMethod, raw: unknown): T {
  const parsed = RESULT_SCHEMAS[method].safeParse(raw);
  if (parsed.success) return parsed.data as T;
  throw new AdapterProtocolError(`invalid result of "${method}": ${describeIssues(parsed.error)}`);
}

export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match the schema';
  const where = issue.path.length ? issue.path.join('.') : '(root)';
  const more = error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : '';
  return `${where}: ${issue.message}${more}`;
}
