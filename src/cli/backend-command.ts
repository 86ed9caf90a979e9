/**
 * `ekso-conformance [backend]`: flags → options → the backend run (src/run/backend.ts) → console
 * and report files → exit code. A bad configuration is one line and exit 2, never a stack trace.
 */
import { Redactor } from '../engine/redact.js';
import { executeBackendRun, type BackendOptions } from '../run/backend.js';
import { oneLine, UsageError } from '../run/common.js';
import { ConsoleOutput } from '../run/console.js';
import { ProfileError } from '../targets/backend/profile.js';

export type { BackendOptions } from '../run/backend.js';
export { replayCommand } from '../run/backend.js';

export async function runBackendCommand(options: BackendOptions): Promise<number> {
  const redactor = new Redactor();
  const output = new ConsoleOutput({ quiet: options.quiet, verbose: options.verbose, color: options.color, redactor });
  try {
    const outcome = await executeBackendRun(options, { output: () => output, writeReports: true, handleSignals: true, redactor });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof ProfileError || error instanceof UsageError) {
      output.line(`ekso-conformance: ${oneLine(error.message)}`);
      return 2;
    }
    throw error;
  }
}
