/**
 * The mutant catalogue: named broken variants of the reference backend and SDK, each departing
 * from exactly one behaviour, with the requirement(s) that must catch it. The kill-rate tests run
 * the harness against every one of them.
 */
import type { ReferenceBackend, ReferenceBackendOptions } from '../reference/backend/index.js';
import type { SdkAdapter, InProcessAdapterOptions } from '../spec/adapter-protocol.js';

export interface BackendMutant {
  readonly name: string;
  readonly description: string;
  /** The requirement(s) this mutant violates: the harness must fail exactly these. */
  readonly breaks: readonly string[];
  /** Real-world bug it is modelled on, if any. */
  readonly modelledOn?: string;
  /** Options the harness run needs to see the break (e.g. a grace policy). */
  readonly runWith?: { policy?: string; checkRateLimit?: boolean };
  create(options: ReferenceBackendOptions): ReferenceBackend;
}

export interface SdkMutant {
  readonly name: string;
  readonly description: string;
  readonly breaks: readonly string[];
  readonly modelledOn?: string;
  createAdapter(options?: InProcessAdapterOptions): SdkAdapter;
}
