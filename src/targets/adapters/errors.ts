/**
 * Why driving an adapter failed, as opposed to what the SDK did (an SDK failure is a CallOutcome,
 * never an exception). Every message is one line: it goes into reports as a diagnosis.
 */
export { AdapterRpcError } from '../../spec/adapter-protocol.js';

/** The adapter broke the protocol: a result of the wrong shape, a non-JSON line, an answer to an unknown id. */
export class AdapterProtocolError extends Error {
  override readonly name = 'AdapterProtocolError';
  constructor(message: string) {
    super(oneLine(message));
  }
}

/** No answer within the per-request timeout. */
export class AdapterTimeoutError extends Error {
  override readonly name = 'AdapterTimeoutError';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`adapter did not answer "${method}" within ${timeoutMs} ms`);
  }
}

/** The adapter process exited (or could not be talked to) while requests were pending. */
export class AdapterCrashedError extends Error {
  override readonly name = 'AdapterCrashedError';
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** The last stderr lines at the time of the crash, raw: the harness redacts before reporting. */
    readonly stderrTail: string[],
    message?: string,
  ) {
    super(oneLine(message ?? `adapter exited${exitCode !== null ? ` with code ${exitCode}` : ''}${signal ? ` by signal ${signal}` : ''} while requests were pending`));
  }
}

/** The adapter could not be loaded (in-process module) or started (process). */
export class AdapterLoadError extends Error {
  override readonly name = 'AdapterLoadError';
  constructor(message: string) {
    super(oneLine(message));
  }
}

import { oneLine as foldLine } from '../../engine/text.js';

/** Diagnoses of adapters are one line of at most 300 characters. */
export function oneLine(text: string, max = 300): string {
  return foldLine(text, max);
}
