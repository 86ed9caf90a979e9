/**
 * The SDK adapter protocol, version 1 (CONTRACT §5): zod schemas of every message the harness
 * reads from an adapter, and the TypeScript shape of an adapter (the in-process form of §5.4,
 * which the stdio transport also presents to the checks).
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** JSON-RPC error codes used by the protocol. */
export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** `auth: {type: "stored"}` with no entry in the store. */
  noStoredTokens: -32001,
} as const;

export const Capabilities = z
  .object({
    apiKey: z.boolean(),
    refreshable: z.boolean(),
    clock: z.boolean(),
    tokenStore: z.boolean(),
    refreshMarginMs: z.number().nonnegative().optional(),
    storePath: z.string().optional(),
  })
  .loose();
export type Capabilities = z.infer<typeof Capabilities>;

export const InitializeResult = z
  .object({
    name: z.string(),
    version: z.string(),
    protocolVersion: z.literal(PROTOCOL_VERSION),
    capabilities: Capabilities,
  })
  .loose();
export type InitializeResult = z.infer<typeof InitializeResult>;

export const Tokens = z.object({ accessToken: z.string(), refreshToken: z.string(), expiresAt: z.string() }).loose();
export type Tokens = z.infer<typeof Tokens>;

export type AuthConfig =
  | { type: 'apiKey'; key: string }
  | {
      type: 'refreshable';
      accessToken: string;
      refreshToken: string;
      tokenEndpoint: string;
      clientId: string;
      expiresAt: string;
      clientSecret?: string;
      scope?: string;
    }
  | { type: 'stored'; tokenEndpoint: string; clientId: string };

export interface CreateClientParams {
  client: string;
  tenant: string;
  baseUrl?: string;
  environment?: string;
  timeoutMs?: number;
  auth: AuthConfig;
}

export interface CallParams {
  client: string;
  method: string;
  path: string;
  body?: unknown;
}

export const ERROR_TYPES = [
  'EksoAuthException',
  'EksoRateLimitException',
  'EksoValidationException',
  'EksoNetworkException',
  'EksoApiException',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export const AUTH_FAILURE_REASONS = ['Expired', 'Invalid', 'Revoked', 'FlowTimeout', 'AccessDenied'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export const CallOutcome = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('response'), status: z.number().int(), body: z.unknown().optional() }).loose(),
  z
    .object({
      outcome: z.literal('error'),
      error: z
        .object({
          // Unknown type names are kept (and judged by the checks), not rejected as protocol faults.
          type: z.string(),
          reason: z.string().optional(),
          statusCode: z.number().int().optional(),
          retryAfterMs: z.number().optional(),
          fieldErrors: z.record(z.string(), z.array(z.string())).optional(),
          message: z.string().optional(),
        })
        .loose(),
    })
    .loose(),
]);
export type CallOutcome = z.infer<typeof CallOutcome>;

export const ResolveBaseUrlResult = z.object({ baseUrl: z.string() }).loose();
export const StoreLoadResult = z.object({ tokens: Tokens.nullable() }).loose();
export const EmptyResult = z.object({}).loose();

export const TokensRefreshedParams = z
  .object({ client: z.string(), accessToken: z.string(), refreshToken: z.string(), expiresAt: z.string() })
  .loose();
export type TokensRefreshedParams = z.infer<typeof TokensRefreshedParams>;

/** A JSON-RPC error answered by an adapter (protocol fault, never an SDK outcome). */
export class AdapterRpcError extends Error {
  override readonly name = 'AdapterRpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/**
 * An adapter as the checks see it: the in-process module's object (§5.4) or the stdio transport's
 * proxy. Methods an adapter lacks the capability for reject with AdapterRpcError(-32601).
 */
export interface SdkAdapter {
  initialize(params: { protocolVersion: number }): Promise<InitializeResult>;
  createClient(params: CreateClientParams): Promise<Record<string, never> | object>;
  resolveBaseUrl(params: { tenant: string; baseUrl?: string }): Promise<{ baseUrl: string }>;
  call(params: CallParams): Promise<CallOutcome>;
  advanceClock?(params: { ms: number }): Promise<object>;
  storeSave?(params: { tenant: string; clientId: string; environment: string; tokens: Tokens }): Promise<object>;
  storeLoad?(params: { tenant: string; clientId: string; environment: string }): Promise<{ tokens: Tokens | null }>;
  disposeClient(params: { client: string }): Promise<object>;
  shutdown(params?: Record<string, never>): Promise<object>;
  onTokensRefreshed(listener: (event: TokensRefreshedParams) => void): void;
}

/** What `createAdapter(options)` of an in-process module may receive (§5.4). */
export interface InProcessAdapterOptions {
  /** The harness's transport: every HTTP request of the SDK goes through it. */
  fetch?: typeof globalThis.fetch;
  /** The harness's clock, in epoch milliseconds. */
  now?: () => number;
}

// ---------------------------------------------------------------------------------------------
// Additions: request-side schemas (what an adapter reads), JSON-RPC envelopes and the method table
// shared by both ends of the stdio transport.
// ---------------------------------------------------------------------------------------------

/** AUTH of `createClient` (§5.2). `loose` so that a future harness may add fields. */
export const AuthConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey'), key: z.string() }).loose(),
  z
    .object({
      type: z.literal('refreshable'),
      accessToken: z.string(),
      refreshToken: z.string(),
      tokenEndpoint: z.string(),
      clientId: z.string(),
      expiresAt: z.string(),
      clientSecret: z.string().optional(),
      scope: z.string().optional(),
    })
    .loose(),
  z.object({ type: z.literal('stored'), tokenEndpoint: z.string(), clientId: z.string() }).loose(),
]);

const StoreKeyParams = { tenant: z.string(), clientId: z.string(), environment: z.string() };

/** The params schema of every request method of the protocol (§5.2), by method name. */
export const REQUEST_PARAMS = {
  initialize: z.object({ protocolVersion: z.number() }).loose(),
  createClient: z
    .object({
      client: z.string(),
      tenant: z.string(),
      baseUrl: z.string().optional(),
      environment: z.string().optional(),
      timeoutMs: z.number().positive().optional(),
      auth: AuthConfigSchema,
    })
    .loose(),
  resolveBaseUrl: z.object({ tenant: z.string(), baseUrl: z.string().optional() }).loose(),
  call: z.object({ client: z.string(), method: z.string().min(1), path: z.string(), body: z.unknown().optional() }).loose(),
  advanceClock: z.object({ ms: z.number().nonnegative() }).loose(),
  storeSave: z.object({ ...StoreKeyParams, tokens: Tokens }).loose(),
  storeLoad: z.object(StoreKeyParams).loose(),
  disposeClient: z.object({ client: z.string() }).loose(),
  shutdown: z.object({}).loose(),
} as const;
export type AdapterMethod = keyof typeof REQUEST_PARAMS;
export const ADAPTER_METHODS = Object.keys(REQUEST_PARAMS) as AdapterMethod[];

export function isAdapterMethod(name: string): name is AdapterMethod {
  return Object.prototype.hasOwnProperty.call(REQUEST_PARAMS, name);
}

/** The result schema of every request method (what the harness validates). */
export const RESULT_SCHEMAS: Record<AdapterMethod, z.ZodType> = {
  initialize: InitializeResult,
  createClient: EmptyResult,
  resolveBaseUrl: ResolveBaseUrlResult,
  call: CallOutcome,
  advanceClock: EmptyResult,
  storeSave: EmptyResult,
  storeLoad: StoreLoadResult,
  disposeClient: EmptyResult,
  shutdown: EmptyResult,
};

/** Methods that exist only with a capability (§5.2): without it they are `-32601`. */
export const CAPABILITY_OF: Partial<Record<AdapterMethod, 'clock' | 'tokenStore'>> = {
  advanceClock: 'clock',
  storeSave: 'tokenStore',
  storeLoad: 'tokenStore',
};

/** The one notification of the protocol (§5.3). */
export const TOKENS_REFRESHED = 'tokensRefreshed';

const RpcId = z.union([z.string(), z.number()]);

export const JsonRpcErrorObject = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }).loose();

/** A message the harness writes: a request (an absent `id` would make it a notification). */
export const JsonRpcToAdapter = z
  .object({ jsonrpc: z.literal('2.0'), id: RpcId.optional(), method: z.string(), params: z.unknown().optional() })
  .loose();
export type JsonRpcToAdapter = z.infer<typeof JsonRpcToAdapter>;
