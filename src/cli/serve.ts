/**
 * `ekso-conformance serve`: runs the reference backend until SIGINT/SIGTERM (CONTRACT §1).
 *
 * It prints the base URL and the bootstrap API keys on stdout. Printing raw keys is the point of
 * this command (the operator needs them to point a harness or an SDK at the backend); they are
 * throw-away keys of a loopback test server and live only as long as the process.
 */
import { createReferenceBackend, parsePolicy, type ReferenceBackend, type ReferenceBackendOptions } from '../reference/backend/index.js';

export interface ServeOptions {
  /** 0 picks a free port (the real one is printed). */
  port: number;
  host: string;
  testHooks: boolean;
  /** With testHooks: name them in discovery (default true). */
  advertiseHooks?: boolean;
  /** With testHooks: serve the clock hook (default true). */
  clockHook?: boolean;
  /** Requests per second per IP; default 50 (Ekso's documented limit); 0 turns it off. */
  rateLimit?: number;
  /** `strict` (default) or `grace=<seconds>`. */
  policy?: string;
  /** List revoked keys in `GET /api/admin/api-key` (audit-style); default false (hidden). */
  listRevokedKeys?: boolean;
}

export interface ServeIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Optional controls, for tests and for the `--mutant` wiring. */
export interface ServeControl {
  /** Stops the server as SIGINT would. */
  signal?: AbortSignal;
  /** Builds the backend (e.g. a mutant subclass); default `createReferenceBackend`. */
  createBackend?: (options: ReferenceBackendOptions) => ReferenceBackend;
  /** Called once listening, with what was printed. */
  onListening?: (info: { baseUrl: string; backend: ReferenceBackend }) => void;
  /** Listen for SIGINT/SIGTERM on the process; default true. */
  handleSignals?: boolean;
}

export const DEFAULT_SERVE_RATE_LIMIT = 50;

export async function runServe(opts: ServeOptions, io: ServeIo, control: ServeControl = {}): Promise<number> {
  let refreshPolicy: ReferenceBackendOptions['refreshPolicy'];
  try {
    refreshPolicy = parsePolicy(opts.policy ?? 'strict');
  } catch (error) {
    io.stderr.write(`ekso-conformance serve: ${(error as Error).message}\n`);
    return 2;
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535) {
    io.stderr.write(`ekso-conformance serve: invalid port ${String(opts.port)}\n`);
    return 2;
  }
  const rateLimitPerSecond = opts.rateLimit ?? DEFAULT_SERVE_RATE_LIMIT;
  const backend = (control.createBackend ?? createReferenceBackend)({
    testHooks: opts.testHooks,
    advertiseTestHooks: opts.advertiseHooks ?? true,
    clockHook: opts.clockHook ?? true,
    rateLimitPerSecond,
    refreshPolicy,
    listRevokedKeys: opts.listRevokedKeys ?? false,
  });

  let baseUrl: string;
  try {
    ({ baseUrl } = await backend.listen(opts.port, opts.host));
  } catch (error) {
    // Choice: every listen failure (in use, permission, bad address) is exit 3, "the target
    // could not be used at all", with one line on stderr.
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${opts.port} on ${opts.host} is already in use`
        : `cannot listen on ${opts.host}:${opts.port} (${code ?? (error as Error).message})`;
    io.stderr.write(`ekso-conformance serve: ${why}\n`);
    return 3;
  }

  // Choice: lines of the form NAME=value, named like the harness's environment variables
  // (CONTRACT §1), so that a script can read them or `export` them directly.
  const policyText = refreshPolicy.kind === 'strict' ? 'strict' : `grace=${refreshPolicy.seconds}`;
  const hooksText = !opts.testHooks
    ? 'off'
    : `on at /__conformance${opts.advertiseHooks === false ? ' (not advertised in discovery)' : ''}${opts.clockHook === false ? ' (without the clock hook)' : ''}`;
  io.stdout.write(
    `Ekso reference backend listening (policy ${policyText}, test hooks ${hooksText}, ` +
      `rate limit ${rateLimitPerSecond > 0 ? `${rateLimitPerSecond}/s per IP` : 'off'}` +
      `${opts.listRevokedKeys ? ', revoked keys listed' : ''})\n` +
      `EKSO_BASE_URL=${baseUrl}\n` +
      `EKSO_ADMIN_API_KEY=${backend.bootstrap.adminKey}\n` +
      `EKSO_USER_API_KEY=${backend.bootstrap.userKey}\n`,
  );
  control.onListening?.({ baseUrl, backend });

  await new Promise<void>((resolve) => {
    const handleSignals = control.handleSignals ?? true;
    const stop = (): void => {
      if (handleSignals) {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      control.signal?.removeEventListener('abort', stop);
      resolve();
    };
    if (handleSignals) {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
    if (control.signal?.aborted) stop();
    else control.signal?.addEventListener('abort', stop, { once: true });
  });

  await backend.close();
  io.stderr.write('ekso-conformance serve: stopped\n');
  return 0;
}
