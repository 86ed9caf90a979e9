/**
 * What the `backend` and `sdk` commands share around their run: the console (stderr, or a stream
 * of the caller's) and the redactor it writes through, report files written, Ctrl-C handled —
 * and a bad configuration printed as one line with exit 2, never a stack trace.
 */
import { Redactor } from '../engine/redact.js';
import { isConfigurationError, oneLine, type CommonOptions, type RunEnvironment, type RunOutcome } from '../run/common.js';
import { ConsoleOutput } from '../run/console.js';

type ConsoleChoice = Pick<CommonOptions, 'quiet' | 'verbose' | 'color'>;

/** The CLI's environment of a run: its console on `stream` (default stderr), reports written, signals handled. */
export function commandEnvironment(options: ConsoleChoice, stream?: NodeJS.WritableStream): RunEnvironment {
  const redactor = new Redactor();
  const output = new ConsoleOutput({ quiet: options.quiet, verbose: options.verbose, color: options.color, redactor, ...(stream ? { stream } : {}) });
  return { redactor, output, writeReports: true, handleSignals: true };
}

/** Runs `execute` as a command: its exit code, or 2 with one line for a bad configuration. */
export async function runAsCommand<O extends ConsoleChoice>(options: O, execute: (options: O, env: RunEnvironment) => Promise<RunOutcome>, env: RunEnvironment = commandEnvironment(options)): Promise<number> {
  try {
    return (await execute(options, env)).exitCode;
  } catch (error) {
    if (!isConfigurationError(error)) throw error;
    env.output.line(`ekso-conformance: ${oneLine(error.message)}`);
    return 2;
  }
}
