/**
 * The exception hierarchy of the Ekso SDK (public docs §6.2, `Ekso.Sdk.Exceptions`), in TypeScript.
 *
 * Each class sets `name` to the documented type name: the adapter reports `error.type` from it, so
 * the names are part of the wire (CONTRACT §5.2 OUTCOME).
 */
import type { AuthFailureReason } from '../../spec/adapter-protocol.js';

export type { AuthFailureReason };

export interface EksoExceptionOptions {
  statusCode?: number;
  requestId?: string;
  cause?: unknown;
}

/** Base of every SDK failure. Abstract in .NET; here a plain class so that `instanceof` works. */
export class EksoException extends Error {
  override name = 'EksoException';
  /** The HTTP status that caused the failure, when there was one. */
  readonly statusCode?: number;
  /** Server-side correlation id, when the server sent one. */
  readonly requestId?: string;

  constructor(message: string, options: EksoExceptionOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options.requestId !== undefined) this.requestId = options.requestId;
  }
}

/** Credentials rejected, or a refresh failed: auth that cannot be recovered automatically. */
export class EksoAuthException extends EksoException {
  override name = 'EksoAuthException';
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    options: EksoExceptionOptions = {},
  ) {
    super(message, options);
  }
}

/** HTTP 429. `retryAfterMs` is always populated (docs: "always populated"). */
export class EksoRateLimitException extends EksoException {
  override name = 'EksoRateLimitException';
  constructor(
    readonly retryAfterMs: number,
    message: string,
    options: EksoExceptionOptions = {},
  ) {
    super(message, options);
  }
}

/** HTTP 400/422 with an Ekso validation body: field name → codes (or messages). */
export class EksoValidationException extends EksoException {
  override name = 'EksoValidationException';
  constructor(
    readonly fieldErrors: Record<string, string[]>,
    message: string,
    options: EksoExceptionOptions = {},
  ) {
    super(message, options);
  }
}

/** DNS/TCP/TLS failure or timeout; the transport's own error is `cause`. */
export class EksoNetworkException extends EksoException {
  override name = 'EksoNetworkException';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** Any other non-2xx response. */
export class EksoApiException extends EksoException {
  override name = 'EksoApiException';
  override readonly statusCode: number;
  constructor(
    statusCode: number,
    readonly body: unknown,
    message: string,
    options: Omit<EksoExceptionOptions, 'statusCode'> = {},
  ) {
    super(message, { ...options, statusCode });
    this.statusCode = statusCode;
  }
}
