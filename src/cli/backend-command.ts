/**
 * `ekso-conformance [backend]`: flags → options → the backend run (src/run/backend.ts) → console
 * and report files → exit code (src/cli/command.ts).
 */
import { executeBackendRun, type BackendOptions } from '../run/backend.js';
import { runAsCommand } from './command.js';

export type { BackendOptions } from '../run/backend.js';
export { replayCommand } from '../run/backend.js';

export function runBackendCommand(options: BackendOptions): Promise<number> {
  return runAsCommand(options, executeBackendRun);
}
