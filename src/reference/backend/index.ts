/**
 * The reference Ekso auth backend: public API.
 *
 * ```ts
 * const backend = createReferenceBackend({ testHooks: true });
 * const { baseUrl } = await backend.listen(0);
 * // … backend.bootstrap.adminKey …
 * await backend.close();
 * ```
 *
 * Mutants subclass `ReferenceBackend` and override one protected method each.
 */
import { ReferenceBackend } from './backend.js';
import type { ReferenceBackendOptions } from './types.js';

export { ReferenceBackend } from './backend.js';
export { parsePolicy } from './policy.js';
export { parseDateTime } from './datetime.js';
export { RETENTION_MS } from './tokens.js';
export type {
  AccessTokenCheck,
  AccessTokenClaims,
  ApiKeyUsability,
  ApiKeyView,
  AuthResult,
  BootstrapKeys,
  Credential,
  DeviceAuthorization,
  ErrorKind,
  FieldError,
  FieldOperation,
  ListFieldUpdate,
  Principal,
  ReferenceBackendOptions,
  RefreshPolicy,
  Rejection,
  RequestContext,
  TokenOutcome,
  TokenPair,
  Area,
  Handler,
  Route,
} from './types.js';
export { SystemClock, ManualClock, type Clock } from './clock.js';
export {
  InMemoryBackendStore,
  type ApiKeyRecord,
  type AuthCodeClaimResult,
  type AuthorizationCodeRecord,
  type BackendStore,
  type ClientRecord,
  type ConsumeResult,
  type DeviceClaimResult,
  type DeviceCodeRecord,
  type DeviceCodeStatus,
  type DeviceDecisionResult,
  type FamilyMarker,
  type FamilyRecord,
  type FieldCollectionRecord,
  type ListFieldRecord,
  type ListValue,
  type Marker,
  type RefreshTokenRecord,
  type SeedData,
  type TextFieldRecord,
  type UserRecord,
} from './store.js';
export { MAX_BODY_BYTES } from './http-util.js';

export function createReferenceBackend(options: ReferenceBackendOptions = {}): ReferenceBackend {
  return new ReferenceBackend(options);
}
