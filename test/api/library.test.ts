/**
 * The library API (issue 12): `runBackendConformance` and `runSdkConformance` from the package
 * root resolve to the report object, with every requirement listed; `{}` runs the embedded
 * defaults; nothing is printed and no file written unless asked; a bad configuration rejects with
 * `ConformanceConfigError` before anything starts; the caller's AbortSignal stops a run as Ctrl-C
 * does; an in-process adapter object is tested like a module's.
 */
import { statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConformanceConfigError,
  createReferenceSdkAdapter,
  formatReport,
  eksoRequirements,
  ReportSchema,
  runBackendConformance,
  runSdkConformance,
  type InProcessAdapterOptions,
  type Report,
} from '../../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function verdicts(report: Report, status: string): string[] {
  return report.requirements.filter((r) => r.status === status).map((r) => `${r.id}${r.reason ? `: ${r.reason}` : ''}`);
}

describe('runBackendConformance', () => {
  it('{} runs the embedded reference: every requirement listed, none failed, nothing printed or written', async () => {
    // The CLI's default report folder, relative to the working directory: untouched by the API.
    const defaultReport = (): number | undefined => statSync(join(process.cwd(), 'reports', 'ekso-conformance.json'), { throwIfNoEntry: false })?.mtimeMs;
    const before = defaultReport();
    const stderr = process.stderr.write;
    let printed = '';
    process.stderr.write = ((chunk: string) => ((printed += String(chunk)), true)) as typeof process.stderr.write;
    let report: Report;
    try {
      report = await runBackendConformance({ seed: 1 });
    } finally {
      process.stderr.write = stderr;
    }
    expect(ReportSchema.safeParse(report).success).toBe(true);
    expect(report.mode).toBe('backend');
    expect(report.requirements.map((r) => r.id).sort()).toEqual(eksoRequirements().map((r) => r.id).sort());
    expect(verdicts(report, 'failed')).toEqual([]);
    expect(verdicts(report, 'inconclusive')).toEqual([]);
    expect(report.requirements.filter((r) => r.side === 'backend' && r.status === 'passed').length).toBeGreaterThan(30);
    expect(report.exitCode).toBe(0);
    expect(report.cleanup.leaked).toBe(0);
    expect(printed).toBe('');
    expect(defaultReport()).toBe(before);
  });

  it('finds a broken target: a mutant of the reference fails the requirement it breaks', async () => {
    const report = await runBackendConformance({ seed: 1, mutant: 'listing-shows-raw-key', check: ['ak.*'] });
    expect(verdicts(report, 'failed').map((v) => v.split(':')[0])).toEqual(['AK-02', 'AK-03']);
    expect(report.exitCode).toBe(1);
  });

  it('writes the reports and prints progress only when asked', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ekso-api-'));
    dirs.push(out);
    let progress = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        progress += String(chunk);
        done();
      },
    });
    const report = await runBackendConformance({ seed: 2, check: 'AK-01', out, reporters: ['json', 'md'], progress: stream });
    expect((await readdir(out)).sort()).toEqual(['ekso-conformance.json', 'report.md']);
    expect(progress).toMatch(/ekso-conformance backend: conformant/);
    expect(formatReport(report, 'md')).toMatch(/AK-01/);
  });

  it('a bad configuration rejects with ConformanceConfigError before anything runs', async () => {
    await expect(runBackendConformance({ check: 'no.such.check' })).rejects.toBeInstanceOf(ConformanceConfigError);
    await expect(runBackendConformance({ policy: 'lenient' })).rejects.toThrow(/strict.*grace/);
    await expect(runBackendConformance({ profile: '/nonexistent/profile.json' })).rejects.toThrow(ConformanceConfigError);
    await expect(runBackendConformance({ baseUrl: 'http://conformance.example.invalid' })).rejects.toThrow(/plain http|loopback/i);
  });

  it('the caller’s AbortSignal stops the run as Ctrl-C does: interrupted, every key revoked', async () => {
    const controller = new AbortController();
    controller.abort();
    const report = await runBackendConformance({ seed: 1, signal: controller.signal });
    expect(report.interrupted).toBe(true);
    expect(verdicts(report, 'passed')).toEqual([]);
    expect(report.cleanup.leaked).toBe(0);
  });
});

describe('runSdkConformance', () => {
  it('{} runs the reference SDK in-process: every requirement listed, none failed', async () => {
    const report = await runSdkConformance({ seed: 1 });
    expect(report.mode).toBe('sdk');
    expect(report.requirements.map((r) => r.id).sort()).toEqual(eksoRequirements().map((r) => r.id).sort());
    expect(verdicts(report, 'failed')).toEqual([]);
    expect(report.requirements.filter((r) => r.side === 'sdk' && r.status === 'passed').length).toBeGreaterThan(15);
    expect(report.exitCode).toBe(0);
  });

  it('an adapter factory in this process is tested like a module, and its faults are the SDK’s', async () => {
    // A factory that drops every TokensRefreshed event: SDK-08 must fail.
    const silent = (options: InProcessAdapterOptions) => {
      const adapter = createReferenceSdkAdapter(options);
      return { ...adapter, initialize: adapter.initialize.bind(adapter), onTokensRefreshed: () => undefined };
    };
    const report = await runSdkConformance({ adapter: silent, adapterName: 'silent SDK', seed: 1, check: 'SDK-08' });
    expect(report.target.adapter).toMatch(/silent SDK/);
    expect(verdicts(report, 'failed').map((v) => v.split(':')[0])).toContain('SDK-08');
  });

  it('an object that is not an adapter is a configuration error', async () => {
    await expect(runSdkConformance({ adapter: { createAdapter: () => ({}) as never } })).rejects.toThrow(/lacks initialize/);
    await expect(runSdkConformance({ adapter: 'x', mutant: 'no-single-flight' })).rejects.toBeInstanceOf(ConformanceConfigError);
  });
});
