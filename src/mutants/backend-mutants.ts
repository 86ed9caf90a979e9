/** Broken variants of the reference backend (filled in by the mutant catalogue work). */
import type { BackendMutant } from './registry.js';

export const BACKEND_MUTANT_LIST: readonly BackendMutant[] = [];
