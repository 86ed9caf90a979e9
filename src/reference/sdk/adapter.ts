/**
 * The reference SDK as an adapter (CONTRACT §5): the object the harness drives, in-process or
 * through `stdio-server.ts`. It does what an application following the SDK's guidance does:
 * build a client per `createClient`, run `call`s through the client's own pipeline, and on every
 * `TokensRefreshed` tell the harness and save the pair in the token store.
 *
 * Mutants reuse this adapter with other SDK classes through the `auth`, `client` and `store`
 * factories.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AdapterRpcError,
  PROTOCOL_VERSION,
  REQUEST_PARAMS,
  RPC_ERRORS,
  type CallOutcome,
  type CallParams,
  type Capabilities,
  type CreateClientParams,
  type InitializeResult,
  type InProcessAdapterOptions,
  type SdkAdapter,
  type Tokens,
  type TokensRefreshedParams,
} from '../../spec/adapter-protocol.js';
import { ApiKeyAuth, DEFAULT_REFRESH_MARGIN_MS, RefreshableBearerAuth, type IEksoAuth, type RefreshableBearerAuthOptions, type TokensRefreshedListener } from './auth.js';
import { EksoClient, resolveBaseUrl, type EksoClientOptions } from './client.js';
import { EksoAuthException, EksoException, EksoRateLimitException, EksoValidationException } from './errors.js';
import { DEFAULT_ENVIRONMENT, FileTokenStore, type TokenStore } from './token-store.js';
import type { FetchLike } from './http.js';

export const SDK_NAME = 'ekso-reference-sdk-ts';
export const SDK_VERSION = '0.1.0';

/** A refreshable auth as the adapter needs it: a credential source with the TokensRefreshed event. */
export type RefreshableAuthLike = IEksoAuth & { onTokensRefreshed(listener: TokensRefreshedListener): unknown };

/** What a client's auth may need besides its own options (its transport and where it sends). */
export interface AuthContext {
  fetch?: FetchLike;
  baseUrl?: string;
}

export interface AuthFactories {
  apiKey?: (key: string, context: AuthContext) => IEksoAuth;
  refreshable?: (options: RefreshableBearerAuthOptions) => RefreshableAuthLike;
}

export interface ReferenceAdapterOptions extends InProcessAdapterOptions {
  /** Directory of the token store file (`tokens.json`); default a fresh temp dir, removed at shutdown. */
  storeDir?: string;
  /** Proactive refresh margin declared in the capabilities and given to every refreshable auth. */
  refreshMarginMs?: number;
  /** Factories of the SDK classes, for mutants. */
  auth?: AuthFactories;
  client?: (options: EksoClientOptions) => EksoClient;
  store?: (path: string) => TokenStore;
  /** Adapter name reported by `initialize` (mutants name themselves). */
  name?: string;
  /** Diagnostics; default stderr. Never stdout, which belongs to the protocol. */
  log?: (line: string) => void;
}

interface ClientEntry {
  client: EksoClient;
}

function invalidParams(message: string): AdapterRpcError {
  return new AdapterRpcError(RPC_ERRORS.invalidParams, message);
}

/** Validates params with the protocol's schema (an in-process harness gets the same -32602 as stdio). */
function parseParams<M extends keyof typeof REQUEST_PARAMS>(method: M, params: unknown): void {
  const result = REQUEST_PARAMS[method].safeParse(params ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidParams(`${method}: ${issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'invalid params'}`);
  }
}

/** Tells the in-process loader that `createAdapter(options)` takes the harness's `{fetch, now}`. */
export const acceptsInjection = true;

/**
 * `createAdapter(options)`: `fetch` and `now` (CONTRACT §5.4) are used for every request and as
 * the base of the adapter's clock. The parameter is optional without a default so that
 * `createAdapter.length` is 1 (the loader's other injection signal besides `acceptsInjection`).
 */
export function createAdapter(opts?: ReferenceAdapterOptions): SdkAdapter {
  const options: ReferenceAdapterOptions = opts ?? {};
  const baseNow = options.now ?? Date.now;
  let offsetMs = 0;
  // §5.5: the adapter's clock = the injected (or real) clock + every advanceClock so far.
  // Choice: an injected `now` is a *base* clock and `advanceClock` still adds to it; a harness
  // that injects a clock it moves itself should not also call advanceClock (or it counts twice).
  const now = (): number => baseNow() + offsetMs;
  const fetchImpl = options.fetch;
  const refreshMarginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const makeApiKeyAuth = options.auth?.apiKey ?? ((key: string) => new ApiKeyAuth(key));
  const makeRefreshable = options.auth?.refreshable ?? ((o: RefreshableBearerAuthOptions) => new RefreshableBearerAuth(o));
  const makeClient = options.client ?? ((o: EksoClientOptions) => new EksoClient(o));
  const makeStore = options.store ?? ((path: string) => new FileTokenStore(path));

  const ownsStoreDir = options.storeDir === undefined;
  const storeDir = resolve(options.storeDir ?? join(tmpdir(), `ekso-reference-sdk-${process.pid}-${randomBytes(4).toString('hex')}`));
  const storePath = join(storeDir, 'tokens.json');
  let store: TokenStore | null = null;
  const getStore = async (): Promise<TokenStore> => {
    if (!store) {
      await mkdir(storeDir, { recursive: true, mode: 0o700 });
      store = makeStore(storePath);
    }
    return store;
  };

  const clients = new Map<string, ClientEntry>();
  const disposed = new Set<string>();
  const listeners: Array<(event: TokensRefreshedParams) => void> = [];

  const notify = (event: TokensRefreshedParams): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        log(`tokensRefreshed listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  const entryOf = (id: string): ClientEntry => {
    const entry = clients.get(id);
    if (!entry) throw invalidParams(disposed.has(id) ? `client "${id}" was disposed` : `unknown client "${id}"`);
    return entry;
  };

  const capabilities: Capabilities = { apiKey: true, refreshable: true, clock: true, tokenStore: true, refreshMarginMs, storePath };

  const adapter: SdkAdapter = {
    async initialize(params): Promise<InitializeResult> {
      parseParams('initialize', params);
      return { name: options.name ?? SDK_NAME, version: SDK_VERSION, protocolVersion: PROTOCOL_VERSION, capabilities: { ...capabilities } };
    },

    async createClient(params: CreateClientParams): Promise<object> {
      parseParams('createClient', params);
      // Choice: a client id already in use (or disposed: ids are never reused) is -32602.
      if (clients.has(params.client) || disposed.has(params.client)) throw invalidParams(`client id "${params.client}" is already in use`);
      const environment = params.environment ?? DEFAULT_ENVIRONMENT;
      let auth: IEksoAuth;
      try {
        if (params.auth.type === 'apiKey') {
          auth = makeApiKeyAuth(params.auth.key, { ...(fetchImpl ? { fetch: fetchImpl } : {}), ...(params.baseUrl !== undefined ? { baseUrl: params.baseUrl } : {}) });
        } else {
          let tokens: { accessToken: string; refreshToken: string; expiresAt: string };
          const clientId = params.auth.clientId;
          if (params.auth.type === 'stored') {
            const found = await (await getStore()).load({ tenant: params.tenant, clientId, environment });
            if (!found) {
              throw new AdapterRpcError(RPC_ERRORS.noStoredTokens, `no stored tokens for (${params.tenant}, ${clientId}, ${environment})`);
            }
            tokens = found;
          } else {
            tokens = params.auth;
          }
          const refreshable = makeRefreshable({
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            expiresAt: tokens.expiresAt,
            tokenEndpoint: params.auth.tokenEndpoint,
            clientId,
            ...(params.auth.type === 'refreshable' && params.auth.clientSecret !== undefined ? { clientSecret: params.auth.clientSecret } : {}),
            ...(params.auth.type === 'refreshable' && params.auth.scope !== undefined ? { scope: params.auth.scope } : {}),
            refreshMarginMs,
            ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}),
            ...(fetchImpl ? { fetch: fetchImpl } : {}),
            now,
            onListenerError: (error) => log(`TokensRefreshed handler failed: ${error instanceof Error ? error.message : String(error)}`),
          });
          // What an application following the seed does: persist every rotated pair. Both the
          // notification and the save happen before the triggering call may proceed.
          refreshable.onTokensRefreshed(async (event) => {
            const pair: Tokens = { accessToken: event.accessToken, refreshToken: event.refreshToken, expiresAt: event.expiresAt.toISOString() };
            notify({ client: params.client, ...pair });
            await (await getStore()).save({ tenant: params.tenant, clientId, environment }, pair);
          });
          auth = refreshable;
        }
        const client = makeClient({
          tenant: params.tenant,
          ...(params.baseUrl !== undefined ? { baseUrl: params.baseUrl } : {}),
          auth,
          ...(fetchImpl ? { fetch: fetchImpl } : {}),
          now,
          ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}),
        });
        clients.set(params.client, { client });
      } catch (error) {
        if (error instanceof AdapterRpcError) throw error;
        // Constructor refusals (bad tenant, bad URL, unparseable expiresAt) are bad params.
        throw invalidParams(`createClient: ${error instanceof Error ? error.message : String(error)}`);
      }
      return {};
    },

    async resolveBaseUrl(params) {
      parseParams('resolveBaseUrl', params);
      try {
        return { baseUrl: resolveBaseUrl(params.tenant, params.baseUrl) };
      } catch (error) {
        throw invalidParams(`resolveBaseUrl: ${error instanceof Error ? error.message : String(error)}`);
      }
    },

    async call(params: CallParams): Promise<CallOutcome> {
      parseParams('call', params);
      const { client } = entryOf(params.client);
      try {
        const response = await client.request(params.method, params.path, params.body);
        return response.body === undefined ? { outcome: 'response', status: response.status } : { outcome: 'response', status: response.status, body: response.body };
      } catch (error) {
        return { outcome: 'error', error: describeError(error) };
      }
    },

    async advanceClock(params) {
      parseParams('advanceClock', params);
      if (!Number.isFinite(params.ms)) throw invalidParams('advanceClock: ms must be a finite, non-negative number');
      offsetMs += params.ms;
      return {};
    },

    async storeSave(params) {
      parseParams('storeSave', params);
      const { tenant, clientId, environment, tokens } = params;
      await (await getStore()).save({ tenant, clientId, environment }, { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt });
      return {};
    },

    async storeLoad(params) {
      parseParams('storeLoad', params);
      const { tenant, clientId, environment } = params;
      return { tokens: await (await getStore()).load({ tenant, clientId, environment }) };
    },

    async disposeClient(params) {
      parseParams('disposeClient', params);
      if (clients.delete(params.client)) {
        disposed.add(params.client);
        return {};
      }
      // Choice: disposing twice is harmless; only a never-created id is an error.
      if (disposed.has(params.client)) return {};
      throw invalidParams(`unknown client "${params.client}"`);
    },

    async shutdown() {
      for (const id of clients.keys()) disposed.add(id);
      clients.clear();
      // Choice: a store in a temp dir of our own is removed; a caller-given storeDir is left alone.
      if (ownsStoreDir) await rm(storeDir, { recursive: true, force: true }).catch(() => undefined);
      return {};
    },

    onTokensRefreshed(listener) {
      listeners.push(listener);
    },
  };
  return adapter;
}

/**
 * An SDK exception as the OUTCOME's `error` (§5.2). Choice: an exception that is not an
 * `EksoException` (an SDK bug) is still reported as an outcome, with its own name as `type`, so
 * the checks judge it instead of the run treating it as a protocol fault.
 */
export function describeError(error: unknown): Extract<CallOutcome, { outcome: 'error' }>['error'] {
  if (!(error instanceof Error)) return { type: 'Error', message: String(error) };
  const out: Extract<CallOutcome, { outcome: 'error' }>['error'] = { type: error.name || 'Error', message: error.message };
  if (error instanceof EksoException && error.statusCode !== undefined) out.statusCode = error.statusCode;
  if (error instanceof EksoAuthException) out.reason = error.reason;
  if (error instanceof EksoRateLimitException) out.retryAfterMs = error.retryAfterMs;
  if (error instanceof EksoValidationException) out.fieldErrors = error.fieldErrors;
  return out;
}
