#!/usr/bin/env node
// The `ekso-conformance` executable: everything lives in src/cli/main.ts.
import { main } from './src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Last resort: a bug of the harness itself. One line, never a stack trace (set DEBUG for it).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ekso-conformance: internal error: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    process.exitCode = 70;
  },
);
