/**
 * The harness end of the stdio adapter protocol (CONTRACT §5.1): starts `--adapter CMD` through
 * the shell in its own process group and presents it to the checks as an `SdkAdapter`.
 *
 * Failure semantics (each pending request rejects with one of these, never hangs):
 * - a result that fails the protocol's schema → `AdapterProtocolError` for that request;
 * - a line on stdout that is not JSON, not a JSON-RPC message, or an answer to an id never sent →
 *   recorded in `protocolFaults()`, and every request pending at that moment rejects with
 *   `AdapterProtocolError`. Choice: the stream can no longer be trusted to pair answers with
 *   requests, so every pending request is failed at once instead of waiting for its timeout;
 *   later requests are sent normally (the adapter may recover);
 * - no answer within the timeout → `AdapterTimeoutError` (a late answer is then ignored);
 * - the process exits → `AdapterCrashedError` with the exit code and the stderr tail;
 * - a line on stdout longer than `maxLineBytes` → a protocol fault as above (the line is never
 *   held whole: an adapter printing hundreds of megabytes on one line cannot exhaust the harness);
 *   a stderr line longer than `STDERR_MAX_LINE_BYTES` is cut in the stderr tail;
 * - a JSON-RPC error answer → `AdapterRpcError` with the adapter's code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BoundedLines } from './lines.js';
import {
  AdapterRpcError,
  CAPABILITY_OF,
  JsonRpcErrorObject,
  RPC_ERRORS,
  TOKENS_REFRESHED,
  TokensRefreshedParams,
  type AdapterMethod,
  type CallOutcome,
  type CallParams,
  type Capabilities,
  type CreateClientParams,
  type InitializeResult,
  type SdkAdapter,
  type Tokens,
} from '../../spec/adapter-protocol.js';
import { AdapterCrashedError, AdapterLoadError, AdapterProtocolError, AdapterTimeoutError, oneLine } from './errors.js';
import { describeIssues, validateResult } from './validate.js';
import { sleep } from '../../engine/limits.js';
import { groupAlive, signalGroup } from '../process-group.js';

export interface StdioAdapterOptions {
  cwd?: string;
  /** Choice: extra environment variables, merged over the harness's own (so PATH and HOME stay). */
  env?: NodeJS.ProcessEnv;
  /** Per-request timeout, default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Timeout of `initialize`, which also covers the adapter's boot (an `npx`-started adapter may
   * take seconds), default 30 s. Choice: `start` itself only waits for the process to spawn;
   * a command that cannot run (not found → the shell exits 127) surfaces on the first request
   * as `AdapterCrashedError` with that exit code.
   */
  startTimeoutMs?: number;
  /** Longest line accepted on stdout (one JSON-RPC message), default `DEFAULT_MAX_LINE_BYTES`. */
  maxLineBytes?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/**
 * Choice: 4 MiB per message, as for a response body from a backend (src/targets/http.ts); the
 * protocol's largest messages (call outcomes with a body) are far smaller.
 */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
/** stderr lines are kept for the tail (2000 characters each); longer ones are not even scanned whole. */
const STDERR_MAX_LINE_BYTES = 64 * 1024;
const STDERR_TAIL_LINES = 50;
const MAX_FAULTS = 100;
/** How long after the process exits we wait for the rest of its stdout before failing pending requests. */
const EXIT_DRAIN_MS = 500;
const KILL_GRACE_MS = 1000;

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

// Every adapter process group still alive, killed if the harness exits without cleaning up.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: no grace period here, SIGKILL straight away.
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}


export class StdioAdapter implements SdkAdapter {
  private readonly pending = new Map<number, Pending>();
  private readonly timedOut = new Set<number>();
  private readonly faults: string[] = [];
  private readonly stderrLines: string[] = [];
  private readonly listeners: Array<(event: TokensRefreshedParams) => void> = [];
  private nextId = 1;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private stdoutClosed = false;
  private crash: AdapterCrashedError | null = null;
  private capabilities: Capabilities | null = null;
  private killing: Promise<void> | null = null;
  private shutdownRequested = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly command: string,
    private readonly requestTimeoutMs: number,
    private readonly startTimeoutMs: number,
    maxLineBytes: number,
  ) {
    const pgid = child.pid!;
    liveGroups.add(pgid);
    installExitHook();

    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolveExit();
        if (this.stdoutClosed) this.finalize();
        else setTimeout(() => this.finalize(), EXIT_DRAIN_MS).unref();
      });
    });
    child.on('error', (error) => this.recordFault(`adapter process error: ${error.message}`));
    // Writing to a dead adapter raises EPIPE here; the exit handler reports the crash.
    child.stdin.on('error', () => undefined);

    const out = new BoundedLines(maxLineBytes, {
      line: (line) => this.onStdoutLine(line),
      // The content is not quoted: it may hold a secret, and this message goes into reports.
      overlong: (_head, bytes) => this.streamFault(`adapter wrote a line of more than ${maxLineBytes} bytes on stdout (${bytes} bytes so far, dropped); one protocol message must stay under that`),
    });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stdout.on('close', () => {
      out.end();
      this.stdoutClosed = true;
      if (this.exitInfo) this.finalize();
    });
    const keepStderr = (line: string) => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > STDERR_TAIL_LINES) this.stderrLines.shift();
    };
    const err = new BoundedLines(STDERR_MAX_LINE_BYTES, {
      line: (line) => keepStderr(line.length > 2000 ? `${line.slice(0, 2000)}…` : line),
      overlong: (head) => keepStderr(`${head.slice(0, 2000)}… (a line of more than ${STDERR_MAX_LINE_BYTES} bytes, cut)`),
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stderr.on('close', () => err.end());
  }

  /** Spawns `command` through the shell, detached into its own process group. */
  static async start(command: string, options: StdioAdapterOptions = {}): Promise<StdioAdapter> {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(command, {
        shell: true,
        detached: true,
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      throw new AdapterLoadError(`could not start adapter "${command}": ${error instanceof Error ? error.message : String(error)}`);
    }
    await new Promise<void>((resolveSpawn, rejectSpawn) => {
      child.once('spawn', () => resolveSpawn());
      child.once('error', (error) => rejectSpawn(new AdapterLoadError(`could not start adapter "${command}": ${error.message}`)));
    });
    return new StdioAdapter(
      child,
      command,
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last 50 stderr lines, raw (the harness redacts before reporting them). */
  stderrTail(): string[] {
    return [...this.stderrLines];
  }

  /** Every protocol fault seen so far, one line each. */
  protocolFaults(): string[] {
    return [...this.faults];
  }

  /** How the process ended, once it has. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo ? { ...this.exitInfo } : null;
  }

  // ----- SdkAdapter -------------------------------------------------------------------------

  async initialize(params: { protocolVersion: number }): Promise<InitializeResult> {
    const result = await this.request<InitializeResult>('initialize', params, this.startTimeoutMs);
    this.capabilities = result.capabilities;
    return result;
  }

  createClient(params: CreateClientParams): Promise<object> {
    return this.request('createClient', params);
  }

  resolveBaseUrl(params: { tenant: string; baseUrl?: string }): Promise<{ baseUrl: string }> {
    return this.request('resolveBaseUrl', params);
  }

  call(params: CallParams): Promise<CallOutcome> {
    return this.request('call', params);
  }

  advanceClock(params: { ms: number }): Promise<object> {
    return this.request('advanceClock', params);
  }

  storeSave(params: { tenant: string; clientId: string; environment: string; tokens: Tokens }): Promise<object> {
    return this.request('storeSave', params);
  }

  storeLoad(params: { tenant: string; clientId: string; environment: string }): Promise<{ tokens: Tokens | null }> {
    return this.request('storeLoad', params);
  }

  disposeClient(params: { client: string }): Promise<object> {
    return this.request('disposeClient', params);
  }

  /**
   * Asks the adapter to shut down, waits briefly for it to exit, then ends the whole group (an
   * adapter's helpers may outlive it). Choice: an adapter that already exited is just cleaned up.
   */
  async shutdown(): Promise<object> {
    this.shutdownRequested = true;
    if (this.exitInfo) {
      await this.kill();
      return {};
    }
    try {
      return await this.request<object>('shutdown', {}, Math.min(this.requestTimeoutMs, 5000));
    } finally {
      await Promise.race([this.exited, sleep(2000)]);
      await this.kill();
    }
  }

  onTokensRefreshed(listener: (event: TokensRefreshedParams) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Sends any request and returns the raw result, unvalidated (diagnostics and protocol tests:
   * unknown methods, bad params).
   */
  rawRequest(method: string, params?: unknown, timeoutMs?: number): Promise<unknown> {
    return this.send(method, params, timeoutMs ?? this.requestTimeoutMs);
  }

  /**
   * Ends the adapter's process group: SIGTERM, then SIGKILL if anything of it is still alive
   * after 1 s. Idempotent; resolves once done.
   */
  kill(): Promise<void> {
    this.killing ??= (async () => {
      const pgid = this.child.pid;
      if (pgid === undefined) return;
      if (signalGroup(pgid, 'SIGTERM')) {
        const deadline = Date.now() + KILL_GRACE_MS;
        while (Date.now() < deadline && groupAlive(pgid)) await sleep(20);
        if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
      }
      await Promise.race([this.exited, sleep(KILL_GRACE_MS)]);
      liveGroups.delete(pgid);
      this.child.stdin.destroy();
      this.child.stdout.destroy();
      this.child.stderr.destroy();
    })();
    return this.killing;
  }

  // ----- transport --------------------------------------------------------------------------

  private async request<T>(method: AdapterMethod, params: unknown, timeoutMs = this.requestTimeoutMs): Promise<T> {
    const capability = CAPABILITY_OF[method];
    if (capability && this.capabilities && !this.capabilities[capability]) {
      throw new AdapterRpcError(RPC_ERRORS.methodNotFound, `adapter lacks the ${capability} capability needed by "${method}"`);
    }
    const raw = await this.send(method, params, timeoutMs);
    try {
      return validateResult<T>(method, raw);
    } catch (error) {
      if (error instanceof AdapterProtocolError) this.recordFault(error.message);
      throw error;
    }
  }

  private send(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.crash) return Promise.reject(this.crash);
    if (this.exitInfo) return Promise.reject(this.crashError(0));
    const id = this.nextId++;
    return new Promise((resolveRequest, rejectRequest) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.timedOut.add(id);
        rejectRequest(new AdapterTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolveRequest, reject: rejectRequest, timer });
      const line = JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} });
      this.child.stdin.write(`${line}\n`);
    });
  }

  private onStdoutLine(line: string): void {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      // The content is not quoted: it may hold a secret, and this message goes into reports.
      this.streamFault(`adapter wrote a non-JSON line on stdout (${line.length} chars); adapters must log to stderr only`);
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message) || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.streamFault('adapter wrote a JSON value on stdout that is not a JSON-RPC 2.0 message');
      return;
    }
    const msg = message as Record<string, unknown>;
    const hasId = 'id' in msg && msg['id'] !== null && msg['id'] !== undefined;
    if (typeof msg['method'] === 'string') {
      if (hasId) {
        this.streamFault(`adapter sent a request ("${oneLine(msg['method'], 60)}"); the protocol has none from adapter to harness`);
        return;
      }
      this.onNotification(msg['method'], msg['params']);
      return;
    }
    if (!hasId) {
      // An error answer with id null: the adapter could not parse one of our requests.
      const parsedError = JsonRpcErrorObject.safeParse(msg['error']);
      this.streamFault(parsedError.success ? `adapter reported an error without a request id: ${parsedError.data.code} ${parsedError.data.message}` : 'adapter wrote a JSON-RPC message with neither method nor id');
      return;
    }
    const id = msg['id'];
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!pending) {
      if (typeof id === 'number' && this.timedOut.delete(id)) return; // a late answer to a timed-out request
      this.streamFault(`adapter answered an unknown request id ${oneLine(JSON.stringify(id), 40)}`);
      return;
    }
    this.pending.delete(id as number);
    clearTimeout(pending.timer);
    if ('error' in msg && msg['error'] !== undefined) {
      const parsedError = JsonRpcErrorObject.safeParse(msg['error']);
      if (parsedError.success) {
        pending.reject(new AdapterRpcError(parsedError.data.code, oneLine(parsedError.data.message), parsedError.data.data));
      } else {
        const fault = `malformed error answer to "${pending.method}": ${describeIssues(parsedError.error)}`;
        this.recordFault(fault);
        pending.reject(new AdapterProtocolError(fault));
      }
      return;
    }
    if (!('result' in msg)) {
      const fault = `answer to "${pending.method}" has neither result nor error`;
      this.recordFault(fault);
      pending.reject(new AdapterProtocolError(fault));
      return;
    }
    pending.resolve(msg['result']);
  }

  private onNotification(method: string, params: unknown): void {
    // Choice: unknown notifications are ignored (the contract only grows by addition).
    if (method !== TOKENS_REFRESHED) return;
    const parsed = TokensRefreshedParams.safeParse(params);
    if (!parsed.success) {
      this.streamFault(`invalid ${TOKENS_REFRESHED} notification: ${describeIssues(parsed.error)}`);
      return;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(parsed.data);
      } catch {
        // a check's listener failing must not break the transport
      }
    }
  }

  private recordFault(fault: string): void {
    if (this.faults.length < MAX_FAULTS) this.faults.push(oneLine(fault));
  }

  /** A fault of the stream itself: recorded, and every pending request fails with it. */
  private streamFault(fault: string): void {
    this.recordFault(fault);
    const error = new AdapterProtocolError(fault);
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private crashError(pendingCount: number): AdapterCrashedError {
    const code = this.exitInfo?.code ?? null;
    const signal = this.exitInfo?.signal ?? null;
    const how = `${code !== null ? `with code ${code}` : ''}${signal ? `by signal ${signal}` : ''}`.trim();
    const context = this.shutdownRequested ? 'after shutdown' : pendingCount > 0 ? `while ${pendingCount} request(s) were pending` : 'earlier';
    const last = this.stderrLines.at(-1);
    return new AdapterCrashedError(code, signal, this.stderrTail(), `adapter exited ${how} ${context}${last ? ` (last stderr line: ${oneLine(last, 120)})` : ''}`);
  }

  private finalize(): void {
    if (this.crash) return;
    this.crash = this.crashError(this.pending.size);
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(this.crash);
    }
  }
}

