import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleReport } from '../../src/report/fixtures.js';
import type { Report } from '../../src/report/schema.js';
import { readReport, ReportReadError, ReportWriteError, writeReports } from '../../src/report/write.js';
import { parseXml } from './xml.js';

let dir: string;
const savedSummary = process.env['GITHUB_STEP_SUMMARY'];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-report-'));
  delete process.env['GITHUB_STEP_SUMMARY'];
});

afterEach(async () => {
  if (savedSummary === undefined) delete process.env['GITHUB_STEP_SUMMARY'];
  else process.env['GITHUB_STEP_SUMMARY'] = savedSummary;
  await rm(dir, { recursive: true, force: true });
});

describe('writeReports', () => {
  it('writes all four reports into a new folder and returns their paths', async () => {
    const out = join(dir, 'nested', 'reports');
    const paths = await writeReports(sampleReport(), { outDir: out, reporters: ['json', 'junit', 'md', 'html'] });
    expect(paths).toEqual(['ekso-conformance.json', 'junit.xml', 'report.md', 'report.html'].map((f) => join(out, f)));
    expect((await readdir(out)).sort()).toEqual(['ekso-conformance.json', 'junit.xml', 'report.html', 'report.md']);
    expect(JSON.parse(await readFile(paths[0]!, 'utf8'))).toEqual(sampleReport());
    expect(parseXml(await readFile(paths[1]!, 'utf8')).name).toBe('testsuites');
  });

  it('writes exactly the selected reports and leaves no temporary file behind', async () => {
    const paths = await writeReports(sampleReport(), { outDir: dir, reporters: ['junit', 'md', 'junit'] });
    expect(paths).toEqual([join(dir, 'junit.xml'), join(dir, 'report.md')]);
    expect((await readdir(dir)).sort()).toEqual(['junit.xml', 'report.md']);
  });

  it('replaces an existing report whole', async () => {
    await writeFile(join(dir, 'report.md'), 'old content that is longer than nothing'.repeat(1000));
    await writeReports(sampleReport(), { outDir: dir, reporters: ['md'] });
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toMatch(/^# ekso-conformance: FAILED/);
  });

  it('appends the Markdown to $GITHUB_STEP_SUMMARY when md is selected', async () => {
    const summary = join(dir, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    process.env['GITHUB_STEP_SUMMARY'] = summary;
    await writeReports(sampleReport(), { outDir: join(dir, 'out'), reporters: ['md'] });
    const text = await readFile(summary, 'utf8');
    expect(text.startsWith('# earlier step\n# ekso-conformance: FAILED (exit 1)')).toBe(true);
    expect(text).toBe(`# earlier step\n${await readFile(join(dir, 'out', 'report.md'), 'utf8')}\n`);
  });

  it('does not touch $GITHUB_STEP_SUMMARY when md is not selected', async () => {
    const summary = join(dir, 'summary.md');
    await writeFile(summary, 'untouched');
    process.env['GITHUB_STEP_SUMMARY'] = summary;
    await writeReports(sampleReport(), { outDir: join(dir, 'out'), reporters: ['json', 'html'] });
    expect(await readFile(summary, 'utf8')).toBe('untouched');
  });

  it('ignores a $GITHUB_STEP_SUMMARY it cannot append to', async () => {
    const notAFile = join(dir, 'a-directory');
    await mkdir(notAFile);
    process.env['GITHUB_STEP_SUMMARY'] = notAFile;
    await expect(writeReports(sampleReport(), { outDir: join(dir, 'out'), reporters: ['md'] })).resolves.toHaveLength(1);
  });

  it('still writes the other reports when one cannot be rendered, then says which failed', async () => {
    const report = sampleReport();
    const broken = { ...report, checks: report.checks.map((c, i) => (i === 0 ? { ...c, status: 'exploded' } : c)) } as unknown as Report;
    const error = await writeReports(broken, { outDir: dir, reporters: ['json', 'junit', 'md', 'html'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportWriteError);
    const failure = error as ReportWriteError;
    expect(failure.failures.map((f) => f.reporter)).toEqual(['json']);
    expect(failure.message).toContain('ekso-conformance.json');
    expect(failure.message).toContain('checks[0].status');
    expect((await readdir(dir)).sort()).toEqual(['junit.xml', 'report.html', 'report.md']);
  });
});

describe('writeReports with an unknown reporter', () => {
  it('writes the known ones and names the unknown one', async () => {
    const reporters = ['md', 'pdf'] as unknown as ('md' | 'json')[];
    const error = await writeReports(sampleReport(), { outDir: dir, reporters }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('unknown reporter "pdf"');
    expect(await readdir(dir)).toEqual(['report.md']);
  });
});

describe('readReport', () => {
  it('reads back what writeReports wrote', async () => {
    const [path] = await writeReports(sampleReport(), { outDir: dir, reporters: ['json'] });
    expect(await readReport(path!)).toEqual(sampleReport());
  });

  async function readError(path: string): Promise<ReportReadError> {
    const error = await readReport(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportReadError);
    expect((error as Error).message).not.toMatch(/[\r\n]/);
    return error as ReportReadError;
  }

  it('names a missing file', async () => {
    const path = join(dir, 'missing.json');
    expect((await readError(path)).message).toBe(`cannot read report ${path}: no such file`);
  });

  it('names a folder given as a file', async () => {
    expect((await readError(dir)).message).toBe(`cannot read report ${dir}: it is a directory`);
  });

  it('names bad JSON on one line', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{\n  "schemaVersion": 1,\n  oops\n}');
    expect((await readError(path)).message).toMatch(/^cannot read report .*bad\.json: not valid JSON \(/);
  });

  it('names the fields that do not match the schema', async () => {
    const path = join(dir, 'wrong.json');
    const report = sampleReport();
    await writeFile(path, JSON.stringify({ ...report, schemaVersion: 2, checks: [{ ...report.checks[0], status: 'exploded' }] }, null, 2));
    const message = (await readError(path)).message;
    expect(message).toContain('not an ekso-conformance report (schema v1)');
    expect(message).toContain('schemaVersion');
    expect(message).toContain('checks[0].status');
  });
});
