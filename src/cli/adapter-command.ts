/**
 * `adapter`: the reference TypeScript SDK (or a named mutant of it) served over stdio with the
 * adapter protocol (CONTRACT §5) — the worked example an SDK author copies.
 *
 * `--no-clock` serves it the way most SDKs in other languages are served: on the platform clock,
 * without the `clock` capability, so the harness lets real time pass (CONTRACT §5.5).
 */
import { createAdapter } from '../reference/sdk/index.js';
import { runStdioAdapterProcess } from '../reference/sdk/stdio-server.js';
import { sdkMutant } from '../mutants/index.js';
import type { SdkAdapter } from '../spec/adapter-protocol.js';
import type { Io } from './main.js';

export async function runAdapterCommand(options: { mutant?: string; clock?: boolean }, io: Io): Promise<number> {
  const mutant = options.mutant ? sdkMutant(options.mutant) : undefined;
  if (options.mutant && !mutant) {
    io.stderr.write(`ekso-conformance: unknown SDK mutant ${options.mutant} (see list --mutants)\n`);
    return 2;
  }
  const adapter = mutant ? mutant.createAdapter() : createAdapter();
  // Exits the process when the protocol says so (shutdown or end of stdin).
  return runStdioAdapterProcess(options.clock === false ? withoutClock(adapter) : adapter);
}

/**
 * The same adapter without the `clock` capability: `initialize` declares `clock: false` and
 * `advanceClock` is gone (the stdio server answers it -32601), so the SDK runs on real time.
 */
export function withoutClock(adapter: SdkAdapter): SdkAdapter {
  const { advanceClock: _dropped, ...rest } = adapter;
  return {
    ...rest,
    async initialize(params) {
      const result = await adapter.initialize(params);
      return { ...result, capabilities: { ...result.capabilities, clock: false } };
    },
  };
}
