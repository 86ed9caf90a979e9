/**
 * The embedded target: the reference backend (or a named mutant of it) started in-process on a
 * free loopback port, with its test hooks on. This is what `npx ekso-conformance` tests when no
 * target is given.
 */
import { createReferenceBackend, parsePolicy as parseReferencePolicy, type ReferenceBackend } from '../../reference/backend/index.js';
import { backendMutant } from '../../mutants/index.js';

export interface EmbeddedTarget {
  baseUrl: string;
  backend: ReferenceBackend;
  description: string;
  close(): Promise<void>;
}

export async function startEmbeddedBackend(options: { mutant?: string; policy?: string } = {}): Promise<EmbeddedTarget> {
  const refreshPolicy = options.policy ? parseReferencePolicy(options.policy) : undefined;
  // Choice: the embedded target polls its device flow with interval 0 (legal in RFC 8628, where
  // interval is a minimum) so that a default run does not spend seconds sleeping between polls.
  const backendOptions = { testHooks: true, deviceIntervalSeconds: 0, ...(refreshPolicy ? { refreshPolicy } : {}) };
  const mutant = options.mutant ? backendMutant(options.mutant) : undefined;
  if (options.mutant && !mutant) throw new Error(`unknown mutant ${options.mutant}`);
  const backend = mutant ? mutant.create(backendOptions) : createReferenceBackend(backendOptions);
  const { baseUrl } = await backend.listen(0, '127.0.0.1');
  return {
    baseUrl,
    backend,
    description: mutant ? `embedded reference backend, mutant ${mutant.name}` : 'embedded reference backend',
    close: () => backend.close(),
  };
}
