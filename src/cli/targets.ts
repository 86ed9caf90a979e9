/**
 * Targets the harness starts itself: `--server-cmd CMD` (a process) and `--image IMAGE`
 * (a container). The harness waits until the target answers, runs, and stops it; the target's
 * log tail (redacted) goes into the report when a check fails or the target dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Redactor } from '../engine/redact.js';
import { sleep } from '../engine/limits.js';
import { killGroup } from '../targets/shell.js';
import type { ConsoleOutput } from './console.js';
import { TargetUnusableError, UsageError } from './run-common.js';

export interface StartedTarget {
  baseUrl: string;
  description: string;
  /** Redacted last lines of the target's output, when worth reporting. */
  logTail(always: boolean): string[];
  stop(): Promise<void>;
}

export interface ServerTargetOptions {
  baseUrl?: string;
  serverCmd?: string;
  readyUrl?: string;
  readyTimeout: number;
  image?: string;
  imagePort?: number;
  imageEnv?: Record<string, string>;
}

const TAIL_LINES = 40;

export async function startServerTarget(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  if (options.serverCmd) return startProcess(options, redactor, output, signal);
  if (options.image) {
    const { startContainer } = await import('./container.js');
    return startContainer(options, redactor, output, signal);
  }
  throw new UsageError('no target to start');
}

async function startProcess(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  const command = options.serverCmd!;
  const readyUrl = options.readyUrl ?? options.baseUrl!;
  const baseUrl = options.baseUrl ?? new URL(readyUrl).origin;
  const lines: string[] = [];
  const child: ChildProcess = spawn(command, { shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) if (line.trim()) lines.push(line);
    if (lines.length > TAIL_LINES * 4) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const kill = () => killGroup(child.pid);
  process.once('exit', kill);
  output.info(`starting the target: ${command}`);
  const tail = () => lines.slice(-TAIL_LINES).map((l) => redactor.text(l));
  const deadline = Date.now() + options.readyTimeout * 1000;
  for (;;) {
    if (exited !== undefined) throw new TargetUnusableError(`--server-cmd exited (${exited}) before answering at ${readyUrl}: ${tail().slice(-3).join(' | ')}`);
    if (await answers(readyUrl)) break;
    if (Date.now() > deadline || signal.aborted) {
      kill();
      throw new TargetUnusableError(`--server-cmd did not answer at ${readyUrl} within ${options.readyTimeout} s: ${tail().slice(-3).join(' | ')}`);
    }
    await sleep(200, signal);
  }
  return {
    baseUrl,
    description: `started by --server-cmd`,
    logTail: (always) => (always || exited !== undefined ? [`target log (last lines):`, ...tail()] : []),
    async stop() {
      process.off('exit', kill);
      if (exited !== undefined) return;
      killGroup(child.pid, 'SIGTERM');
      const until = Date.now() + 3000;
      while (exited === undefined && Date.now() < until) await sleep(50);
      if (exited === undefined) kill();
    },
  };
}

/** Any HTTP answer counts as ready (a 404 at the root is still a server). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}
