import type { CommonOptions } from './run-common.js';

export interface SdkOptions extends CommonOptions {
  adapter?: string;
  mutant?: string;
  timeout: number;
}

export async function runSdkCommand(_options: SdkOptions): Promise<number> {
  process.stderr.write('ekso-conformance: sdk mode is being built (issue #4)\n');
  return 2;
}
