/**
 * `ekso-conformance sdk`: flags → options → the SDK run (src/run/sdk.ts) → console and report
 * files → exit code (src/cli/command.ts).
 */
import { executeSdkRun, type SdkOptions } from '../run/sdk.js';
import { runAsCommand } from './command.js';

export type { SdkOptions } from '../run/sdk.js';
export { replayCommand } from '../run/sdk.js';

export function runSdkCommand(options: SdkOptions): Promise<number> {
  return runAsCommand(options, executeSdkRun);
}
