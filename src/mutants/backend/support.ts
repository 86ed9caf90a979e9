/**
 * Shared pieces of the backend mutants: the reference's token formats (module-private there, so
 * repeated here), a sleep for the racy variants, and builders that turn a subclass or a store
 * into a registry entry.
 */
import { ReferenceBackend, type BackendStore, type ReferenceBackendOptions } from '../../reference/backend/index.js';
import type { BackendMutant } from '../registry.js';

/** The reference's refresh-token format (`ekso_rt_` + 256 bits, base64url). */
export const REFRESH_RE = /^ekso_rt_[A-Za-z0-9_-]{43}$/;

export { sha256Hex } from '../../engine/text.js';
export { sleep } from '../../engine/limits.js';

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

type Description = Omit<BackendMutant, 'create'>;

/** A mutant that is a subclass of the reference overriding one protected method. */
export function subclassMutant(description: Description, Backend: new (options: ReferenceBackendOptions) => ReferenceBackend): BackendMutant {
  return { ...description, create: (options) => new Backend(options) };
}

/** A mutant that is the reference on a store overriding one store method. */
export function storeMutant(description: Description, makeStore: () => BackendStore): BackendMutant {
  return { ...description, create: (options) => new ReferenceBackend({ ...options, store: makeStore() }) };
}
