/**
 * Small HTTP helpers shared by the client pipeline and the refresh exchange: fetching with a
 * timeout, reading a body once, and parsing the headers the SDK interprets.
 */
import { EksoNetworkException } from './errors.js';
import type { AuthFailureReason } from './errors.js';

export type FetchLike = typeof globalThis.fetch;

/** A response whose body has been read (so that a reset mid-body is a transport failure, not a crash later). */
export interface ReadResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, the text otherwise, `undefined` when empty. */
  body: unknown;
}

/**
 * Sends one request and reads its body. Any failure of the transport — refused, reset, DNS, the
 * timeout firing while waiting for headers or while reading the body — becomes an
 * `EksoNetworkException` wrapping the original error.
 */
export async function fetchAndRead(fetchImpl: FetchLike, url: string, init: RequestInit, timeoutMs: number | undefined): Promise<ReadResponse> {
  const signal = timeoutMs !== undefined && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  try {
    // The race makes the timeout hold even for an injected fetch that ignores `signal`.
    return await raceAbort(signal, async () => {
      const res = await fetchImpl(url, signal ? { ...init, signal } : init);
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: parseBody(text) };
    });
  } catch (error) {
    const timedOut = isTimeout(error) || (signal?.aborted ?? false);
    const what = timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${describe(error)}`;
    throw new EksoNetworkException(`${init.method ?? 'GET'} ${redactUrl(url)} ${what}`, error);
  }
}

function raceAbort<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
  if (!signal) return run();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    run().then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    // undici hides the socket error (ECONNRESET, ECONNREFUSED) in `cause`.
    const cause = (error as { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
    return code ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** Messages name the endpoint but never a query string (which could carry anything). */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

export function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) in milliseconds: delay-seconds or an HTTP date.
 * Returns undefined when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The auth-params of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3), lower-cased names. */
export function parseBearerChallenge(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const m of header.matchAll(re)) {
    const name = m[1]!.toLowerCase();
    params[name] ??= m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return params;
}

/**
 * What a 401 says about the credential, from its `WWW-Authenticate` error_description.
 * Choice: only the header is read (the reference backend sends `expired`, `revoked` or `invalid`
 * there); free-text bodies are not guessed at, so an unclear 401 is `undefined` (callers default
 * to `Invalid`).
 */
export function reasonFromChallenge(header: string | null): AuthFailureReason | undefined {
  const description = (parseBearerChallenge(header)['error_description'] ?? '').toLowerCase();
  if (/\bexpired\b/.test(description)) return 'Expired';
  if (/\brevoked\b/.test(description)) return 'Revoked';
  if (/\binvalid\b/.test(description)) return 'Invalid';
  return undefined;
}

/**
 * Choice: Ekso documents no request-id header; the common names are read, first found wins.
 */
export function requestIdOf(headers: Headers): string | undefined {
  return headers.get('x-request-id') ?? headers.get('request-id') ?? headers.get('x-correlation-id') ?? undefined;
}
