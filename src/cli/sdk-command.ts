/**
 * `ekso-conformance sdk`: flags → options → the SDK run (src/run/sdk.ts) → console and report
 * files → exit code. A bad configuration (or an adapter module that cannot be loaded) is one line
 * and exit 2, never a stack trace.
 */
import { Redactor } from '../engine/redact.js';
import { oneLine, UsageError } from '../run/common.js';
import { ConsoleOutput } from '../run/console.js';
import { executeSdkRun, type SdkOptions } from '../run/sdk.js';
import { AdapterLoadError } from '../targets/adapters/errors.js';

export type { SdkOptions } from '../run/sdk.js';
export { replayCommand } from '../run/sdk.js';

export async function runSdkCommand(options: SdkOptions): Promise<number> {
  const redactor = new Redactor();
  const output = new ConsoleOutput({ quiet: options.quiet, verbose: options.verbose, color: options.color, redactor });
  try {
    const outcome = await executeSdkRun(options, { output: () => output, writeReports: true, handleSignals: true, redactor });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof UsageError || error instanceof AdapterLoadError) {
      output.line(`ekso-conformance: ${oneLine(error.message)}`);
      return 2;
    }
    throw error;
  }
}
