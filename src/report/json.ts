/**
 * `ekso-conformance.json`: the report object itself, validated first so that `replay` and
 * `merge` can always read back what was written.
 */
import type { Report } from './schema.js';
import { redactReport } from './safety-net.js';
import { validateReport } from './validate.js';

export { ReportValidationError } from './validate.js';

/** Throws `ReportValidationError` (naming the bad fields) when the report does not match the schema. */
export function renderJson(report: Report): string {
  const valid = validateReport(report);
  return `${JSON.stringify(redactReport(valid), null, 2)}\n`;
}
