/**
 * `adapter`: the reference TypeScript SDK (or a named mutant of it) served over stdio with the
 * adapter protocol (CONTRACT §5) — the worked example an SDK author copies.
 */
import { createAdapter } from '../reference/sdk/index.js';
import { runStdioAdapterProcess } from '../reference/sdk/stdio-server.js';
import { sdkMutant } from '../mutants/index.js';
import type { Io } from './main.js';

export async function runAdapterCommand(options: { mutant?: string }, io: Io): Promise<number> {
  const mutant = options.mutant ? sdkMutant(options.mutant) : undefined;
  if (options.mutant && !mutant) {
    io.stderr.write(`ekso-conformance: unknown SDK mutant ${options.mutant} (see list --mutants)\n`);
    return 2;
  }
  const adapter = mutant ? mutant.createAdapter() : createAdapter();
  // Exits the process when the protocol says so (shutdown or end of stdin).
  return runStdioAdapterProcess(adapter);
}
