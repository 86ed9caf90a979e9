/**
 * Validation of report objects against `ReportSchema`, with errors that name the offending fields
 * (`checks[2].status`) so that a bug in whoever built the report is found at once.
 */
import type { z } from 'zod';
import { ReportSchema, type Report } from './schema.js';

export interface FieldIssue {
  /** The field's path, e.g. `checks[2].status`; `(root)` for the report itself. */
  field: string;
  message: string;
}

export class ReportValidationError extends Error {
  override readonly name = 'ReportValidationError';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`invalid report: ${describeIssues(issues)}`);
  }

  get fields(): string[] {
    return this.issues.map((i) => i.field);
  }
}

/** Parses a value as a report; throws `ReportValidationError` naming every bad field. */
export function validateReport(value: unknown): Report {
  const result = ReportSchema.safeParse(value);
  if (!result.success) throw new ReportValidationError(toFieldIssues(result.error));
  return result.data;
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ field: fieldPath(issue.path), message: issue.message }));
}

/** One line: `checks[2].status: Invalid option…; summary: Required`, capped so it stays readable. */
export function describeIssues(issues: readonly FieldIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((i) => `${i.field}: ${i.message.replace(/\s+/g, ' ')}`);
  if (issues.length > max) shown.push(`and ${issues.length - max} more`);
  return shown.join('; ');
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}
