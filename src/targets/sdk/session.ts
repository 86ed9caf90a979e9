/**
 * Everything an SDK check can use: the adapter (in-process or over stdio), its capabilities, the
 * model server it talks to, the shared clock, the record of `tokensRefreshed` notifications, and
 * the run-level helpers (fresh client ids, token families, time passing).
 *
 * Two transports. `scheduled`: an in-process adapter that accepts `{fetch, now}` gets the model
 * server's promise-only `fetch` and a frozen virtual clock, so fast-check's scheduler decides the
 * interleaving of concurrent calls and every run replays exactly. `http`: a stdio adapter (or an
 * in-process one without injection) talks to the model server over loopback HTTP with real
 * concurrency; race windows are widened with server-side delays.
 *
 * Real time (an `http` transport without the clock capability) is where the waits are: there the
 * runs of a check go concurrently, each through a run view (`openRun`) with a model server of its
 * own, so that N runs waiting for a token to near its expiry cost one wait, and no run's traffic,
 * faults or notifications can be judged as another's.
 */
import { extname } from 'node:path';
import { Skip } from '../../engine/outcomes.js';
import { sleep } from '../../engine/limits.js';
import type { Redactor } from '../../engine/redact.js';
import type { ExchangeSink } from '../../engine/transcript.js';
import {
  PROTOCOL_VERSION,
  type CallOutcome,
  type Capabilities,
  type CreateClientParams,
  type InProcessAdapterOptions,
  type SdkAdapter,
  type TokensRefreshedParams,
} from '../../spec/adapter-protocol.js';
import { adoptInProcessAdapter, loadInProcessAdapter, type InProcessAdapterModule } from '../adapters/in-process.js';
import { AdapterTimeoutError } from '../adapters/errors.js';
import { StdioAdapter } from '../adapters/stdio.js';
import { HarnessClock, ModelServer, type IssuedTokens } from './model-server.js';

export type AdapterSource =
  | { kind: 'factory'; name: string; create: (options: InProcessAdapterOptions) => SdkAdapter }
  | { kind: 'module'; path: string }
  /** An adapter object handed over in-process (the library API), validated like a module's. */
  | { kind: 'object'; name: string; module: InProcessAdapterModule }
  | { kind: 'command'; command: string };

/** `--adapter` is a module path when it names an existing .js/.mjs/.cjs/.ts file, else a command. */
export function adapterSourceOf(text: string): AdapterSource {
  const ext = extname(text.trim()).toLowerCase();
  if (['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'].includes(ext) && !/\s/.test(text.trim())) return { kind: 'module', path: text.trim() };
  return { kind: 'command', command: text };
}

export interface RecordedEvent extends TokensRefreshedParams {
  seq: number;
  at: number;
}

/** One `call` the harness made: when it was sent and when its outcome came back (harness time). */
export interface CallSpan {
  client: string;
  startedAt: number;
  endedAt?: number;
}

export interface CallResult {
  outcome: CallOutcome;
  /** Position in the shared sequence when the call's answer reached the harness. */
  seq: number;
}

export interface RefreshableClient {
  client: string;
  family: string;
  tokens: IssuedTokens;
  clientId: string;
  tenant: string;
  environment: string;
}

/**
 * Real time: how long a fresh access token stays clear of the declared refresh margin (or lives,
 * without one). Choice: 4 s — a token just rotated may wait that long (plus the tolerance) inside
 * a loaded SDK before it is sent without looking inside the margin, and letting a token fall due
 * still costs seconds (CONTRACT §5.5: "a few seconds beyond").
 */
export const REAL_TIME_SLACK_MS = 4_000;

/**
 * Real time: how far apart an SDK's decision and its request's arrival may be ("at the same
 * instant" on the timeline). Choice: 2.5 s — runs go side by side on machines that may be
 * loaded (the harness's own tests run on 2 shared cores), and a decision made just outside the
 * margin must not be judged, after a stall, as one made inside it. 1.5 s with the clock
 * capability, 0 in-process (a virtual clock).
 */
export const REAL_TIME_TOLERANCE_MS = 2_500;

export class SdkSession {
  readonly events: RecordedEvent[] = [];
  /** Every call made through this session (or run view), in the order they were sent. */
  readonly calls: CallSpan[] = [];
  private clientCounter = 0;
  private readonly live = new Set<string>();
  /** The session whose adapter this view drives (itself, for the session opened on the adapter). */
  private readonly root: SdkSession;
  /** Root only: the run view that created each live client, for routing its notifications. */
  private readonly owners = new Map<string, SdkSession>();
  private runCounter = 0;
  /** Set by scheduled checks for the duration of one run. */
  scheduler: { schedule<T>(p: Promise<T>, label?: string): Promise<T> } | undefined;

  private constructor(
    readonly adapter: SdkAdapter,
    readonly capabilities: Capabilities,
    readonly info: { name: string; version: string },
    readonly server: ModelServer,
    readonly clock: HarnessClock,
    readonly transport: 'scheduled' | 'http',
    readonly description: string,
    readonly redactor: Redactor,
    private readonly stdio: StdioAdapter | undefined,
    /** Per-request timeout the harness asks SDK clients to apply (`timeoutMs`). */
    readonly sdkTimeoutMs: number,
    /** The adapter runs in this process (its HTTP can be intercepted with nock). */
    readonly inProcess: boolean,
    root?: SdkSession,
    /** A run view's number, unique in the session (undefined for the session itself). */
    readonly runId?: number,
  ) {
    this.root = root ?? this;
    if (root) return;
    adapter.onTokensRefreshed((event) => {
      redactor.add(event.accessToken);
      redactor.add(event.refreshToken);
      (this.owners.get(event.client) ?? this).record(event);
    });
  }

  private record(event: TokensRefreshedParams): void {
    this.events.push({ ...event, seq: this.server.nextSeq(), at: this.clock.now() });
  }

  /**
   * Whether property runs go concurrently, each in a run view of its own: real time, where runs
   * mostly wait. With a virtual clock or the clock capability runs share one timeline (moving it
   * moves every run's tokens), so they go one at a time, as before.
   */
  get concurrentRuns(): boolean {
    return !this.canAdvance;
  }

  /**
   * What one property run works with. Real time: a view with a model server of its own (its
   * requests, faults and families), its own notifications and clients, recording into `sink`;
   * otherwise the session itself. Pair with `closeRun`.
   */
  async openRun(sink: ExchangeSink): Promise<SdkSession> {
    if (!this.concurrentRuns || this.root !== this) return this;
    const server = new ModelServer(this.clock, this.redactor);
    server.sink = sink;
    await server.listen();
    this.runCounter += 1;
    return new SdkSession(this.adapter, this.capabilities, this.info, server, this.clock, this.transport, this.description, this.redactor, this.stdio, this.sdkTimeoutMs, this.inProcess, this, this.runCounter);
  }

  /** Ends a run: disposes its clients (and, for a run view, stops its model server). */
  async closeRun(): Promise<void> {
    await this.disposeClients();
    if (this.root !== this) await this.server.close();
  }

  static async open(source: AdapterSource, redactor: Redactor, options: { timeoutMs: number }): Promise<SdkSession> {
    // Real time plus advances, frozen below where the harness injects the clock.
    const clock = new HarnessClock();
    const server = new ModelServer(clock, redactor);
    await server.listen();
    let session: SdkSession | undefined;
    const schedule = () => session?.scheduler ? <T,>(p: Promise<T>, label: string) => session!.scheduler!.schedule(p, label) : undefined;
    const fetch = server.fetchFor({ schedule });
    const now = () => clock.now();
    let adapter: SdkAdapter;
    let transport: 'scheduled' | 'http' = 'http';
    let description: string;
    let stdio: StdioAdapter | undefined;
    try {
      if (source.kind === 'factory') {
        adapter = source.create({ fetch, now });
        transport = 'scheduled';
        description = source.name;
      } else if (source.kind === 'object') {
        const adopted = await adoptInProcessAdapter(source.module, source.name, { fetch, now });
        adapter = adopted.adapter;
        transport = adopted.acceptsInjection ? 'scheduled' : 'http';
        description = `in-process adapter ${source.name}`;
      } else if (source.kind === 'module') {
        const loaded = await loadInProcessAdapter(source.path, { fetch, now });
        adapter = loaded.adapter;
        transport = loaded.acceptsInjection ? 'scheduled' : 'http';
        description = `in-process adapter ${source.path}`;
      } else {
        // `sdk --timeout` bounds every request, `initialize` included (it also covers the
        // adapter's boot: an adapter that needs longer to start needs a larger --timeout).
        stdio = await StdioAdapter.start(source.command, { requestTimeoutMs: options.timeoutMs * 1000, startTimeoutMs: options.timeoutMs * 1000 });
        adapter = stdio;
        description = `stdio adapter: ${source.command}`;
      }
    } catch (error) {
      await server.close();
      throw error;
    }
    if (transport === 'scheduled') clock.freeze();
    try {
      // A stdio adapter times its own requests; an in-process one gets the same bound here.
      const init = stdio
        ? await adapter.initialize({ protocolVersion: PROTOCOL_VERSION })
        : await withTimeout(adapter.initialize({ protocolVersion: PROTOCOL_VERSION }), 'initialize', options.timeoutMs * 1000);
      // Choice: SDK clients time a request out after 5 s (no check simulates a hanging server
      // for long) — 15 s in real time, where many runs share the adapter and a loaded machine
      // must not turn a slow answer into a failed call (still under the harness's own --timeout).
      const realTime = transport === 'http' && !init.capabilities.clock;
      const sdkTimeoutMs = Math.min(realTime ? 15_000 : 5_000, (options.timeoutMs * 1000) / (realTime ? 2 : 1));
      session = new SdkSession(adapter, init.capabilities, { name: init.name, version: init.version }, server, clock, transport, description, redactor, stdio, sdkTimeoutMs, !stdio);
      return session;
    } catch (error) {
      await stdio?.kill();
      await server.close();
      throw error;
    }
  }

  /** The adapter's stderr tail (stdio adapters), raw: redact before reporting. */
  stderrTail(): string[] {
    return this.stdio?.stderrTail() ?? [];
  }

  /** Whether time can be moved instantly (virtual clock or the clock capability). */
  get canAdvance(): boolean {
    return this.transport === 'scheduled' || this.capabilities.clock;
  }

  get refreshMarginMs(): number | undefined {
    return this.capabilities.refreshMarginMs;
  }

  /**
   * Access-token lifetime for new families: ten minutes when time can be moved; otherwise a few
   * seconds beyond the declared refresh margin, so that real waits stay short (CONTRACT §5.5).
   */
  tokenLifetimeMs(): number {
    if (this.canAdvance) return Math.max(10 * 60_000, (this.refreshMarginMs ?? 0) * 4);
    return (this.refreshMarginMs ?? 0) + REAL_TIME_SLACK_MS;
  }

  /**
   * How long from now until a token expiring at `expiresAt` is due for a refresh by the SDK's
   * contract, `extraMs` beyond: its expiry, or — in real time, where the adapter declares a
   * margin — well inside that margin (SDK-04 holds the SDK to it alike), which comes a margin's
   * length sooner. Choice: "well inside" is the timeline tolerance plus 500 ms, so that an SDK
   * that ignores its margin is caught (SDK-04 allows the tolerance) and a correct one refreshes.
   */
  msUntilDue(expiresAt: number, extraMs: number): number {
    const margin = this.refreshMarginMs;
    if (this.canAdvance || !margin) return Math.max(0, expiresAt - this.clock.now()) + extraMs;
    return Math.max(0, expiresAt - margin + this.timelineToleranceMs + 500 - this.clock.now());
  }

  /** Tolerance for "at the same instant" on the shared timeline (real time flows outside scheduled runs). */
  get timelineToleranceMs(): number {
    if (this.transport === 'scheduled') return 0;
    return this.canAdvance ? 1_500 : REAL_TIME_TOLERANCE_MS;
  }

  /** Lets `ms` pass on the shared timeline (instantly when possible, else in real time). */
  async advance(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return;
    if (this.transport === 'scheduled') {
      // Choice: the harness injected `now`, so it moves its own clock and never calls
      // advanceClock (which would move the adapter's clock a second time).
      this.clock.advance(ms);
      return;
    }
    if (this.capabilities.clock && this.adapter.advanceClock) {
      await this.adapter.advanceClock({ ms });
      this.clock.advance(ms);
      return;
    }
    if (ms > 15_000) throw new Skip(`needs the adapter's clock capability to let ${Math.round(ms / 1000)} s pass`);
    await sleep(ms, signal);
  }

  newClientId(): string {
    if (this.root !== this) return this.root.newClientId();
    this.clientCounter += 1;
    return `c${this.clientCounter}`;
  }

  async createClient(params: Omit<CreateClientParams, 'client'> & { client?: string }): Promise<string> {
    const client = params.client ?? this.newClientId();
    // Owned before it exists: a notification may arrive before createClient's answer.
    this.root.owners.set(client, this);
    try {
      await this.adapter.createClient({ timeoutMs: this.sdkTimeoutMs, ...params, client });
    } catch (error) {
      this.root.owners.delete(client);
      throw error;
    }
    this.live.add(client);
    return client;
  }

  /**
   * A client with RefreshableBearerAuth over a fresh family of the model server, whose tokens live
   * `lifetimeMs`. `expiresInMs`: its first access token has only that long left (negative:
   * expired that long ago) — in real time issued so, at no wait (the SDK cannot tell tokens an
   * application kept from tokens it held while time passed); otherwise issued fresh and the
   * timeline moved on (instantly).
   */
  async refreshableClient(options: { lifetimeMs?: number; clientId?: string; tenant?: string; environment?: string; expiresInMs?: number; signal?: AbortSignal } = {}): Promise<RefreshableClient> {
    const clientId = options.clientId ?? 'ekso-sdk';
    const lifetime = options.lifetimeMs ?? this.tokenLifetimeMs();
    const backdated = options.expiresInMs !== undefined && !this.canAdvance;
    const issued = this.server.issueFamily(clientId, lifetime, backdated ? this.clock.now() + options.expiresInMs! : undefined);
    // A run view's own tenant: the adapter may persist every rotation in its token store (the
    // reference does), and concurrent runs must not write each other's (or STORE-01's) entries.
    const tenant = options.tenant ?? (this.runId === undefined ? 'acme' : `acme-r${this.runId}`);
    const environment = options.environment ?? 'default';
    const client = await this.createClient({
      tenant,
      baseUrl: this.server.baseUrl,
      environment,
      auth: {
        type: 'refreshable',
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        tokenEndpoint: this.server.tokenEndpoint,
        clientId,
        expiresAt: new Date(issued.expiresAt).toISOString(),
      },
    });
    if (options.expiresInMs !== undefined && !backdated) await this.advance(issued.expiresAt - this.clock.now() - options.expiresInMs, options.signal);
    return { client, family: issued.family, tokens: issued, clientId, tenant, environment };
  }

  async apiKeyClient(): Promise<{ client: string; key: string }> {
    const key = this.server.issueApiKey();
    const client = await this.createClient({ tenant: 'acme', baseUrl: this.server.baseUrl, auth: { type: 'apiKey', key } });
    return { client, key };
  }

  async call(client: string, method: string, path: string, body?: unknown): Promise<CallResult> {
    const span: CallSpan = { client, startedAt: this.clock.now() };
    this.calls.push(span);
    const outcome = await this.adapter.call({ client, method, path, ...(body !== undefined ? { body } : {}) });
    span.endedAt = this.clock.now();
    return { outcome, seq: this.server.nextSeq() };
  }

  /** Disposes every client created since the last call (end of a property run). */
  async disposeClients(): Promise<void> {
    for (const client of [...this.live]) {
      this.live.delete(client);
      await this.adapter.disposeClient({ client }).catch(() => undefined);
      this.root.owners.delete(client);
    }
    this.server.clearFaults();
  }

  async close(): Promise<void> {
    await this.disposeClients();
    await this.adapter.shutdown({}).catch(() => undefined);
    await this.stdio?.kill();
    await this.server.close();
  }
}

/** Rejects with `AdapterTimeoutError` when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, method: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AdapterTimeoutError(method, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
