/**
 * Targets the harness starts itself: `--server-cmd CMD` (a process) and `--image IMAGE`
 * (a container). The harness waits until the target answers, runs, and stops it; the target's
 * log tail (redacted) goes into the report when a check fails or the target dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fingerprint, type Redactor } from '../engine/redact.js';
import { sleep } from '../engine/limits.js';
import { groupAlive, killGroup } from './process-group.js';
import type { ConsoleOutput } from '../run/console.js';
import { TargetUnusableError, UsageError } from '../run/common.js';

export interface StartedTarget {
  baseUrl: string;
  description: string;
  /**
   * Redacted last lines of the target's output, headed by one line saying whose they are; empty
   * unless `always` (a check failed) or the target died during the run.
   */
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

export const TAIL_LINES = 40;

export async function startServerTarget(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  registerTargetSecrets(options, redactor);
  if (options.serverCmd) return startProcess(options, redactor, output, signal);
  if (options.image) {
    const { startContainer } = await import('./container.js');
    return startContainer(options, redactor, output, signal);
  }
  throw new UsageError('no target to start');
}

/**
 * The last lines a target printed, kept whole (a chunk may end mid-line) and redacted when read:
 * besides the harness's own secrets and anything secret-shaped, a target's log may print its own
 * secrets as `NAME=value` (its API keys, passwords, connection strings), so the values of
 * secret-named variables are fingerprinted too.
 */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(
    private readonly redactor: Redactor,
    private readonly keep = TAIL_LINES,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const parts = text.split(/\r?\n/);
    this.partial = (parts.pop() ?? '').slice(-10_000);
    for (const line of parts) if (line.trim()) this.lines.push(line.slice(0, 2_000));
    if (this.lines.length > this.keep * 4) this.lines.splice(0, this.lines.length - this.keep);
  }

  tail(count = this.keep): string[] {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.slice(-count).map((line) => redactLogLine(line, this.redactor));
  }
}

const SECRET_ASSIGNMENT = /\b([A-Za-z0-9_.-]*(?:key|token|secret|passw(?:or)?d|pwd|credential|auth)[A-Za-z0-9_.-]*)(["']?\s*[=:]\s*["']?)([^\s"',;]{8,})/gi;
/** Names that merely mention a secret (`token_endpoint`, `API_KEY_FILE`, `auth_url`): their values are not secrets. */
const NOT_A_SECRET_NAME = /(?:endpoint|url|uri|path|file|dir|type|name|id|count|len|length|ttl|expiry|expires(?:_?in|_?at)?|method|header|prefix)$/i;

function isSecretAssignment(name: string, value: string): boolean {
  return !NOT_A_SECRET_NAME.test(name) && !/^https?:\/\//i.test(value) && !value.includes('…(len=');
}

/**
 * A command line may carry the target's secrets inline (`DB_PASSWORD=… npm start`), and so may
 * `--image-env`: they are registered with the redactor, so that the recorded options, the replay
 * command, the console and the log tail show only fingerprints.
 */
export function registerTargetSecrets(options: Pick<ServerTargetOptions, 'serverCmd' | 'imageEnv'>, redactor: Redactor): void {
  registerCommandSecrets(options.serverCmd, redactor);
  for (const [name, value] of Object.entries(options.imageEnv ?? {})) {
    const match = new RegExp(SECRET_ASSIGNMENT.source, 'i').exec(`${name}=${value}`);
    if (match && isSecretAssignment(match[1]!, match[3]!)) redactor.add(value);
  }
}

/**
 * Secrets inline in a command the user gave (`--server-cmd`, `--token-command`,
 * `--device-approve-command`: `IDP_PASSWORD=… ./tok.sh`, `--client-secret …`): each secret-named
 * value is registered — with its name when it is too short to be registered on its own (the
 * redactor ignores values under 8 characters), so that it never appears next to its name.
 */
export function registerCommandSecrets(command: string | undefined, redactor: Redactor): void {
  for (const pattern of [INLINE_ASSIGNMENT, INLINE_FLAG]) {
    for (const match of (command ?? '').matchAll(pattern)) {
      if (!isSecretAssignment(match[1]!, match[3]!)) continue;
      // The value alone keeps the name readable (`API_TOKEN=s3c…(len=19, …)`); one too short to be
      // registered alone is registered with its name.
      redactor.add(match[3], true);
      if (match[3]!.length < 8) redactor.add(match[0].trim());
    }
  }
}

const SECRET_NAME = '[A-Za-z0-9_.-]*(?:key|token|secret|passw(?:or)?d|pwd|credential|auth)[A-Za-z0-9_.-]*';
/** `NAME=value` (or `name: value`) with a secret-looking name, a value of any length. */
const INLINE_ASSIGNMENT = new RegExp(`\\b(${SECRET_NAME})(["']?\\s*[=:]\\s*["']?)([^\\s"',;]+)`, 'gi');
/** `--name value` with a secret-looking flag name (not a path like `./get-token.sh --client …`). */
const INLINE_FLAG = new RegExp(`(?:^|\\s)--?(${SECRET_NAME})(\\s+["']?)([^\\s"',;-][^\\s"',;]*)`, 'gi');

/**
 * The password of a URL's userinfo (`https://user:pass@host`), and the userinfo itself, are
 * secrets: registered so that nothing prints them.
 */
export function registerUrlSecrets(url: string | undefined, redactor: Redactor): void {
  if (!url) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (!parsed.password) return;
  redactor.add(parsed.password, true);
  redactor.add(decodeURIComponent(parsed.password), true);
  redactor.add(`${parsed.username}:${parsed.password}@`);
}

/** Whether `--image-env NAME=VALUE` carries a secret (a secret-named variable). */
export function isSecretEnv(name: string, value: string): boolean {
  const match = new RegExp(SECRET_ASSIGNMENT.source, 'i').exec(`${name}=${value}`);
  return Boolean(match && match[1] === name && isSecretAssignment(match[1], match[3]!));
}

export function redactLogLine(line: string, redactor: Redactor): string {
  return redactor.text(line).replace(SECRET_ASSIGNMENT, (match, name: string, sep: string, value: string) => (isSecretAssignment(name, value) ? `${name}${sep}${fingerprint(value)}` : match));
}

/** Any HTTP answer counts as ready (a 404 at the root is still a server). */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    // The status line is the answer; the body is not read (it could be of any size).
    await response.body?.cancel().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

/**
 * Choice: a ready URL that already answers before the target is started is refused (exit 3):
 * the run would test whatever is listening there (typically a server left over from an earlier
 * run) while the one just started fails on a port in use.
 */
export async function refuseIfAlreadyAnswering(readyUrl: string, flag: string): Promise<void> {
  if (await answers(readyUrl)) {
    throw new TargetUnusableError(`something already answers at ${readyUrl} before ${flag} started the target (a server left running?): stop it or use another port`);
  }
}

async function startProcess(options: ServerTargetOptions, redactor: Redactor, output: ConsoleOutput, signal: AbortSignal): Promise<StartedTarget> {
  const command = options.serverCmd!;
  const readyUrl = options.readyUrl ?? options.baseUrl!;
  const baseUrl = options.baseUrl ?? new URL(readyUrl).origin;
  await refuseIfAlreadyAnswering(readyUrl, '--server-cmd');
  const log = new LogTail(redactor);
  // detached: the command gets its own process group, so that stopping it also stops what it
  // started (`npx` → `sh` → `node`, `npm start` → …).
  const child: ChildProcess = spawn(command, { shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk));
  let exit: string | undefined;
  let stopping = false;
  child.on('exit', (code, sig) => (exit = sig ? `signal ${sig}` : `code ${code}`));
  child.on('error', (error) => (exit ??= `error ${error.message}`));
  const kill = () => killGroup(child.pid);
  process.once('exit', kill);
  output.info(`starting the target: ${redactor.text(command)}`);
  const lastWords = () => log.tail(3).join(' | ') || '(no output)';
  const deadline = Date.now() + options.readyTimeout * 1000;
  // Choice: a command that exits 0 before the target answers is a launcher (`docker compose up
  // -d`, `npm run start:background`): the harness keeps waiting for the ready URL. Any other exit
  // before answering ends the wait at once (exit 3).
  let launcher = false;
  for (;;) {
    if (exit !== undefined && !launcher) {
      if (exit === 'code 0') {
        launcher = true;
        output.info(`the --server-cmd command exited 0: waiting for ${readyUrl} (what it started keeps running)`);
      } else {
        process.off('exit', kill);
        kill();
        throw new TargetUnusableError(`--server-cmd exited (${exit}) before answering at ${readyUrl}: ${lastWords()}`);
      }
    }
    if (await answers(readyUrl)) break;
    if (Date.now() > deadline || signal.aborted) {
      process.off('exit', kill);
      kill();
      const why = signal.aborted ? 'interrupted while waiting' : `did not answer within ${options.readyTimeout} s`;
      throw new TargetUnusableError(`--server-cmd ${why} at ${readyUrl} (--ready-timeout): ${lastWords()}`);
    }
    await sleep(200, signal);
  }
  return {
    baseUrl,
    description: 'started by --server-cmd',
    logTail(always) {
      const died = exit !== undefined && !stopping && !launcher;
      if (!always && !died) return [];
      return [died ? `the target (--server-cmd) exited during the run (${exit}); its last lines:` : 'target log (--server-cmd, last lines):', ...log.tail()];
    },
    async stop() {
      stopping = true;
      process.off('exit', kill);
      // SIGTERM to the whole group, then SIGKILL to whatever is left after a grace period.
      killGroup(child.pid, 'SIGTERM');
      const until = Date.now() + 5000;
      while (groupAlive(child.pid) && Date.now() < until) await sleep(50);
      kill();
    },
  };
}

