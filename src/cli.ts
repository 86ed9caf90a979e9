#!/usr/bin/env node
// The `ekso-conformance` executable (dist/cli.js loads it): everything lives in src/cli/main.ts.

function fail(error: unknown): void {
  // Last resort: a bug of the harness itself. One line, never a stack trace (set DEBUG for it).
  const message = error instanceof Error ? error.message : String(error);
  // The message may quote a target: no control character of it reaches the terminal.
  // eslint-disable-next-line no-control-regex
  const safe = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stderr.write(`ekso-conformance: internal error: ${safe}\n`);
  if (process.env.DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  process.exitCode = 70;
}

try {
  const { main } = await import('./cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  fail(error);
}
