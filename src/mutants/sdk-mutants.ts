/** Broken variants of the reference SDK (filled in by the mutant catalogue work). */
import type { SdkMutant } from './registry.js';

export const SDK_MUTANT_LIST: readonly SdkMutant[] = [];
