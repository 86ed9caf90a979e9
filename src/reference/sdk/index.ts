/**
 * The reference TypeScript Ekso SDK: public surface. Written from the requirements alone; it
 * imports nothing from the models, the engine, the targets or the checks.
 */
export {
  EksoException,
  EksoAuthException,
  EksoRateLimitException,
  EksoValidationException,
  EksoNetworkException,
  EksoApiException,
  type AuthFailureReason,
  type EksoExceptionOptions,
} from './errors.js';
export {
  ApiKeyAuth,
  RefreshableBearerAuth,
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_EXPIRES_IN_S,
  DEFAULT_RETRY_AFTER_MS,
  type IEksoAuth,
  type Credential,
  type TokenPair,
  type TokensRefreshedEvent,
  type TokensRefreshedListener,
  type RefreshableBearerAuthOptions,
  type RefreshFailure,
} from './auth.js';
export { EksoClient, defaultBaseUrl, resolveBaseUrl, type EksoClientOptions, type EksoResponse, type PendingCall } from './client.js';
export {
  FileTokenStore,
  MemoryTokenStore,
  DEFAULT_ENVIRONMENT,
  entryName,
  type TokenStore,
  type TokenStoreKey,
  type StoredTokens,
} from './token-store.js';
export { createAdapter, acceptsInjection, describeError, SDK_NAME, SDK_VERSION, type ReferenceAdapterOptions, type AuthFactories, type RefreshableAuthLike } from './adapter.js';
export { serveAdapterOverStdio, runStdioAdapterProcess, type StdioStreams } from './stdio-server.js';
export type { FetchLike, ReadResponse } from './http.js';
