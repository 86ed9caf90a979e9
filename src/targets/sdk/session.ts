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
 */
import { extname } from 'node:path';
import { Skip } from '../../engine/outcomes.js';
import { sleep } from '../../engine/limits.js';
import type { Redactor } from '../../engine/redact.js';
import {
  PROTOCOL_VERSION,
  type CallOutcome,
  type Capabilities,
  type CreateClientParams,
  type InProcessAdapterOptions,
  type SdkAdapter,
  type TokensRefreshedParams,
} from '../../spec/adapter-protocol.js';
import { loadInProcessAdapter } from '../adapters/in-process.js';
import { AdapterTimeoutError } from '../adapters/errors.js';
import { StdioAdapter } from '../adapters/stdio.js';
import { HarnessClock, ModelServer, type IssuedTokens } from './model-server.js';

export type AdapterSource =
  | { kind: 'factory'; name: string; create: (options: InProcessAdapterOptions) => SdkAdapter }
  | { kind: 'module'; path: string }
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

export class SdkSession {
  readonly events: RecordedEvent[] = [];
  private clientCounter = 0;
  private readonly live = new Set<string>();
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
  ) {
    adapter.onTokensRefreshed((event) => {
      redactor.add(event.accessToken);
      redactor.add(event.refreshToken);
      this.events.push({ ...event, seq: server.nextSeq(), at: clock.now() });
    });
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
      session = new SdkSession(adapter, init.capabilities, { name: init.name, version: init.version }, server, clock, transport, description, redactor, stdio, Math.min(5_000, options.timeoutMs * 1000), !stdio);
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
    return (this.refreshMarginMs ?? 0) + 3_000;
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
    this.clientCounter += 1;
    return `c${this.clientCounter}`;
  }

  async createClient(params: Omit<CreateClientParams, 'client'> & { client?: string }): Promise<string> {
    const client = params.client ?? this.newClientId();
    await this.adapter.createClient({ timeoutMs: this.sdkTimeoutMs, ...params, client });
    this.live.add(client);
    return client;
  }

  /** A client with RefreshableBearerAuth over a fresh family of the model server. */
  async refreshableClient(options: { lifetimeMs?: number; clientId?: string; tenant?: string; environment?: string } = {}): Promise<RefreshableClient> {
    const clientId = options.clientId ?? 'ekso-sdk';
    const issued = this.server.issueFamily(clientId, options.lifetimeMs ?? this.tokenLifetimeMs());
    const tenant = options.tenant ?? 'acme';
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
    return { client, family: issued.family, tokens: issued, clientId, tenant, environment };
  }

  async apiKeyClient(): Promise<{ client: string; key: string }> {
    const key = this.server.issueApiKey();
    const client = await this.createClient({ tenant: 'acme', baseUrl: this.server.baseUrl, auth: { type: 'apiKey', key } });
    return { client, key };
  }

  async call(client: string, method: string, path: string, body?: unknown): Promise<CallResult> {
    const outcome = await this.adapter.call({ client, method, path, ...(body !== undefined ? { body } : {}) });
    return { outcome, seq: this.server.nextSeq() };
  }

  /** Disposes every client created since the last call (end of a property run). */
  async disposeClients(): Promise<void> {
    for (const client of [...this.live]) {
      this.live.delete(client);
      await this.adapter.disposeClient({ client }).catch(() => undefined);
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
