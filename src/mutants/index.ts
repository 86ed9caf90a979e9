/** The catalogue (filled in by backend-mutants.ts and sdk-mutants.ts). */
import type { BackendMutant, SdkMutant } from './registry.js';

export type { BackendMutant, SdkMutant } from './registry.js';

export const BACKEND_MUTANTS: readonly BackendMutant[] = [];
export const SDK_MUTANTS: readonly SdkMutant[] = [];

export function backendMutant(name: string): BackendMutant | undefined {
  return BACKEND_MUTANTS.find((m) => m.name === name);
}

export function sdkMutant(name: string): SdkMutant | undefined {
  return SDK_MUTANTS.find((m) => m.name === name);
}
