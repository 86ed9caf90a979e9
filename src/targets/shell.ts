/** Runs a user-supplied shell command (token source, device approver) with a time limit. */
import { spawn } from 'node:child_process';
import { killGroup } from './process-group.js';

export interface ShellResult {
  code: number | null;
  /** The last `STDOUT_KEPT_BYTES` of stdout (a token command's answer is its last line). */
  stdout: string;
  /** The last `STDERR_KEPT_BYTES` of stderr. */
  stderr: string;
  timedOut: boolean;
  /** Set when the last line of stdout is longer than what is kept: it cannot be read whole. */
  overlongLastLine?: string;
}

export const STDOUT_KEPT_BYTES = 1_000_000;
const STDERR_KEPT_BYTES = 20_000;

/**
 * The last `max` bytes of a stream, kept in chunks (no copy per chunk: a command printing
 * hundreds of megabytes costs a pass over them, not a copy of the tail for each chunk).
 */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  cut = false;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) {
      this.size -= this.chunks.shift()!.length;
      this.cut = true;
    }
  }
  text(): string {
    const all = Buffer.concat(this.chunks, this.size);
    if (all.length <= this.max) return all.toString('utf8');
    this.cut = true;
    return all.subarray(all.length - this.max).toString('utf8');
  }
}

/** `signal` (Ctrl-C, --max-time) ends the command at once, as its time limit would. */
export function runShell(command: string, env: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = spawn(command, { shell: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = new Tail(STDOUT_KEPT_BYTES);
    const err = new Tail(STDERR_KEPT_BYTES);
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const result = (code: number | null, extraStderr = ''): ShellResult => {
      const stdout = out.text();
      // Cut, and no line break left in what was kept: the last line alone is over the bound.
      const overlong = out.cut && !stdout.trimEnd().includes('\n');
      return {
        code,
        stdout: overlong ? '' : stdout,
        stderr: err.text() + extraStderr,
        timedOut,
        ...(overlong ? { overlongLastLine: `printed a line of more than ${STDOUT_KEPT_BYTES} bytes on stdout (not read)` } : {}),
      };
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    const onAbort = () => killGroup(child.pid);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      settle();
      resolve(result(null, String(error)));
    });
    child.on('close', (code) => {
      settle();
      resolve(result(code));
    });
  });
}


export function lastLines(text: string, count = 5): string {
  return text.trim().split(/\r?\n/).slice(-count).join(' | ');
}
