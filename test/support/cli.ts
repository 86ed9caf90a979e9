/**
 * Runs the built CLI (`node dist/cli.js`) in a child process, the way a user or a CI job does:
 * exit code, stdout and stderr as they really are (`npm test` builds first; otherwise run
 * `npm run build`). Also starts `serve` as a child process and reads the keys it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_FILES } from '../../src/report/write.js';
import { ReportSchema, type Report } from '../../src/report/schema.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The CLI under test: `dist/cli.js`, or another build named by EKSO_TEST_CLI (e.g. a private
 * `tsc --outDir` copy, when others rebuild dist/ while these tests run).
 */
export const CLI = process.env.EKSO_TEST_CLI ? resolve(process.env.EKSO_TEST_CLI) : join(ROOT, 'dist', 'cli.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once the process exited (killed with SIGKILL after `timeoutMs`). */
  done: Promise<CliResult>;
  /** Resolves when stderr or stdout matches (rejects if the process ends first). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

/** Environment of a child CLI: no EKSO_* or NO_COLOR from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EKSO_') && k !== 'GITHUB_STEP_SUMMARY') env[k] = v;
  return { ...env, ...extra };
}

export function spawnCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): CliRun {
  requireBuiltCli();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const watchers: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }> = [];
  const check = () => {
    for (const w of [...watchers]) {
      const m = w.pattern.exec(err) ?? w.pattern.exec(out);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    check();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    check();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 240_000);
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const w of watchers.splice(0)) w.reject(new Error(`process ended before ${w.pattern} appeared:\n${err}\n${out}`));
      resolveDone({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitFor: (pattern) =>
      new Promise<RegExpExecArray>((resolveWait, reject) => {
        watchers.push({ pattern, resolve: resolveWait, reject });
        check();
      }),
  };
}

export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** Lines of a stream's text, without the empty last one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

/** Stack frames ("    at f (file:1:2)") anywhere in the text. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+/m.test(text) || /\n\s+at /.test(text);
}

export interface Serve {
  baseUrl: string;
  adminKey: string;
  userKey: string;
  run: CliRun;
  stop(): Promise<void>;
}

/** `serve --test-hooks --port 0 --rate-limit 0` (plus `extra`) as a child process. */
export async function startServe(extra: string[] = []): Promise<Serve> {
  const run = spawnCli(['serve', '--test-hooks', '--port', '0', '--rate-limit', '0', ...extra], { timeoutMs: 600_000 });
  await run.waitFor(/EKSO_USER_API_KEY=\S+\n/);
  const printed = run.stdout();
  const get = (name: string) => {
    const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(printed)?.[1];
    if (!value) throw new Error(`serve did not print ${name}:\n${printed}`);
    return value;
  };
  return {
    baseUrl: get('EKSO_BASE_URL'),
    adminKey: get('EKSO_ADMIN_API_KEY'),
    userKey: get('EKSO_USER_API_KEY'),
    run,
    async stop() {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
      await run.done;
    },
  };
}

/** Reads every report file of a run folder; the JSON one parsed and validated against the schema. */
export async function readReports(outDir: string): Promise<{ report: Report; files: Record<string, string> }> {
  const files: Record<string, string> = {};
  for (const name of Object.values(REPORT_FILES)) files[name] = await readFile(join(outDir, name), 'utf8');
  const parsed = ReportSchema.safeParse(JSON.parse(files[REPORT_FILES.json]!));
  if (!parsed.success) throw new Error(`the JSON report does not match ReportSchema: ${parsed.error.message}`);
  return { report: parsed.data, files };
}

/** The JSON report of a run folder, validated against the schema (when only json was asked for). */
export async function readJsonReport(outDir: string): Promise<Report> {
  const parsed = ReportSchema.safeParse(JSON.parse(await readFile(join(outDir, REPORT_FILES.json), 'utf8')));
  if (!parsed.success) throw new Error(`the JSON report does not match ReportSchema: ${parsed.error.message}`);
  return parsed.data;
}
