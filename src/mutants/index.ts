/** The mutant catalogue: every named broken variant, backend and SDK. */
import { BACKEND_MUTANT_LIST } from './backend-mutants.js';
import type { BackendMutant, SdkMutant } from './registry.js';
import { SDK_MUTANT_LIST } from './sdk-mutants.js';
import { BACKEND_VARIANTS } from './backend/variants.js';

export type { BackendMutant, SdkMutant } from './registry.js';

export const BACKEND_MUTANTS: readonly BackendMutant[] = BACKEND_MUTANT_LIST;
export const SDK_MUTANTS: readonly SdkMutant[] = SDK_MUTANT_LIST;

/** Conformant alternatives of the reference backend (they break nothing: no failure allowed). */
export { BACKEND_VARIANTS };

/** A broken variant (or a conformant one, `breaks: []`) by name. */
export function backendMutant(name: string): BackendMutant | undefined {
  return BACKEND_MUTANTS.find((m) => m.name === name) ?? BACKEND_VARIANTS.find((m) => m.name === name);
}

export function sdkMutant(name: string): SdkMutant | undefined {
  return SDK_MUTANTS.find((m) => m.name === name);
}
