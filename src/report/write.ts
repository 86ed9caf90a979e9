/**
 * Writes the selected reports to the output folder (CONTRACT §6). Each file appears whole or not
 * at all (temp file + rename), so a CI step never picks up a half-written report; and one
 * reporter failing does not stop the others (H-05: reports are written whatever happens).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { Report } from './schema.js';

export { readReport, ReportReadError } from './read.js';

export type ReporterName = 'json' | 'junit' | 'md' | 'html';
export const REPORTERS: readonly ReporterName[] = ['json', 'junit', 'md', 'html'];

export const REPORT_FILES: Readonly<Record<ReporterName, string>> = {
  json: 'ekso-conformance.json',
  junit: 'junit.xml',
  md: 'report.md',
  html: 'report.html',
};

const RENDERERS: Readonly<Record<ReporterName, (report: Report) => string>> = {
  json: renderJson,
  junit: renderJunit,
  md: renderMarkdown,
  html: renderHtml,
};

/** One report rendered in one format (what `writeReports` writes into its file). */
export function renderReport(report: Report, format: ReporterName): string {
  if (!Object.hasOwn(RENDERERS, format)) throw new Error(`unknown report format "${format}" (known: ${REPORTERS.join(', ')})`);
  return RENDERERS[format](report);
}

export interface WriteOptions {
  outDir: string;
  reporters: readonly ReporterName[];
}

/** Some reporters failed; the others were written (`written`). */
export class ReportWriteError extends Error {
  override readonly name = 'ReportWriteError';
  constructor(
    readonly failures: readonly { reporter: ReporterName; error: unknown }[],
    readonly written: readonly string[],
  ) {
    super(`could not write ${failures.map((f) => `${REPORT_FILES[f.reporter] ?? f.reporter} (${messageOf(f.error)})`).join(', ')}`);
  }
}

/** Returns the paths written, in the order of `reporters`; throws `ReportWriteError` after writing the rest. */
export async function writeReports(report: Report, options: WriteOptions): Promise<string[]> {
  await mkdir(options.outDir, { recursive: true });
  const written: string[] = [];
  const failures: { reporter: ReporterName; error: unknown }[] = [];
  for (const reporter of new Set(options.reporters)) {
    try {
      // The type says this cannot happen, but the list often comes straight from --reporter.
      if (!Object.hasOwn(RENDERERS, reporter)) throw new Error(`unknown reporter "${reporter}" (known: ${REPORTERS.join(', ')})`);
      const text = RENDERERS[reporter](report);
      const path = join(options.outDir, REPORT_FILES[reporter]);
      await writeAtomically(path, text);
      written.push(path);
      if (reporter === 'md') await appendStepSummary(text);
    } catch (error) {
      failures.push({ reporter, error });
    }
  }
  if (failures.length) throw new ReportWriteError(failures, written);
  return written;
}

export async function writeAtomically(path: string, text: string): Promise<void> {
  // Same folder as the target, so that rename stays on one filesystem and is atomic.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, 'utf8');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/**
 * GitHub Actions shows what is appended to $GITHUB_STEP_SUMMARY on the run page. Choice: a
 * failure to append (read-only file, over the size limit) is ignored: the job summary is a
 * convenience, and report.md is already on disk.
 */
async function appendStepSummary(markdown: string): Promise<void> {
  const summaryFile = process.env['GITHUB_STEP_SUMMARY'];
  if (!summaryFile) return;
  await appendFile(summaryFile, `${markdown}\n`, 'utf8').catch(() => undefined);
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*[\r\n]+\s*/g, ' ');
}
