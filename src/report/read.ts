/**
 * Reading a JSON report back (`replay`, `merge`): parsed and validated, with a one-line error
 * that says which file and what is wrong with it, fit for a CLI's stderr.
 */
import { readFile } from 'node:fs/promises';
import type { Report } from './schema.js';
import { describeIssues, ReportValidationError, validateReport } from './validate.js';
import { oneLine } from '../engine/text.js';

export class ReportReadError extends Error {
  override readonly name = 'ReportReadError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(oneLine(`cannot read report ${path}: ${reason}`));
  }
}

export async function readReport(path: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReportReadError(path, fileProblem(error));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportReadError(path, `not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    return validateReport(value);
  } catch (error) {
    if (error instanceof ReportValidationError) {
      throw new ReportReadError(path, `not an ekso-conformance report (schema v1): ${describeIssues(error.issues)}`);
    }
    throw error;
  }
}

function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

