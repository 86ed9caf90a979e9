/**
 * What every SDK mutant is built from: the reference adapter (CONTRACT §5) with one SDK class
 * swapped through its factories, so a mutant is driven exactly like the reference — in-process
 * with the harness's `{fetch, now}`, or over stdio by `adapter --mutant NAME`.
 */
import { createAdapter, type ReferenceAdapterOptions } from '../../reference/sdk/index.js';
import type { InProcessAdapterOptions, SdkAdapter } from '../../spec/adapter-protocol.js';
import type { SdkMutant } from '../registry.js';

/** The factories (and nothing else) a mutant may replace. */
export type MutantFactories = Pick<ReferenceAdapterOptions, 'auth' | 'client' | 'store'>;

export interface MutantSpec {
  name: string;
  description: string;
  breaks: readonly string[];
  modelledOn?: string;
}

/** The reference adapter, reporting `mutant NAME` from `initialize`, with `factories` swapped in. */
export function referenceWith(name: string, factories: MutantFactories, options?: InProcessAdapterOptions): SdkAdapter {
  return createAdapter({ ...(options ?? {}), ...factories, name: `mutant ${name}` });
}

/** A mutant that swaps SDK classes through the adapter's factories. */
export function factoryMutant(spec: MutantSpec, factories: () => MutantFactories): SdkMutant {
  return {
    ...spec,
    createAdapter: (options?: InProcessAdapterOptions) => referenceWith(spec.name, factories(), options),
  };
}

/** A mutant that needs to change the adapter object itself (the SDK surface it exposes, e.g. resolveBaseUrl). */
export function adapterMutant(spec: MutantSpec, build: (options: InProcessAdapterOptions | undefined) => SdkAdapter): SdkMutant {
  return { ...spec, createAdapter: (options?: InProcessAdapterOptions) => build(options) };
}
