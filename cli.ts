#!/usr/bin/env node
// The `ekso-conformance` executable: everything lives in src/cli/main.ts.

function fail(error: unknown): void {
  // Last resort: a bug of the harness itself. One line, never a stack trace (set DEBUG for it).
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`ekso-conformance: internal error: ${message}\n`);
  if (process.env.DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  process.exitCode = 70;
}

try {
  const { main } = await import('./src/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  fail(error);
}
