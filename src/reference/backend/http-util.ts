/**
 * Small HTTP helpers of the reference backend (node:http only): bounded body reading, JSON and
 * form parsing, and JSON responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies larger than this get 413 (read no further than one byte past it). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Requests whose body was read to the end: their connection can be kept alive. */
const fullyRead = new WeakSet<IncomingMessage>();

/** Below this, node may drain an unread body itself to keep the connection; above, we close it. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * When we answer without having read the body (401 before a large upload, 413 mid-stream), ask
 * node to close the connection after the response instead of draining the rest of the upload:
 * a huge body is never read in full.
 */
function closeIfBodyUnread(res: ServerResponse): void {
  const req = res.req;
  if (!req || fullyRead.has(req) || !hasBody(req)) return;
  const length = req.headers['content-length'];
  const small = length !== undefined && /^\d+$/.test(length) && Number(length) <= DRAIN_LIMIT;
  if (!small) res.setHeader('Connection', 'close');
}

export type BodyResult = { ok: true; bytes: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/** Whether the request announces a body at all. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined && length !== '0') return true;
  return req.headers['transfer-encoding'] !== undefined;
}

/** The declared Content-Length when it is over the limit: answered before reading anything. */
export function declaresTooLarge(req: IncomingMessage, limit = MAX_BODY_BYTES): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && /^\d+$/.test(length) && Number(length) > limit;
}

/**
 * Reads the body, stopping as soon as it passes `limit` (never buffering more than that), so that
 * a huge upload costs one MiB of memory and then the connection.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<BodyResult> {
  if (declaresTooLarge(req, limit)) return Promise.resolve({ ok: false, reason: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (!result.ok) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) finish({ ok: false, reason: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      fullyRead.add(req);
      finish({ ok: true, bytes: Buffer.concat(chunks, total) });
    };
    const onError = (): void => finish({ ok: false, reason: 'aborted' });
    const onAborted = (): void => finish({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** The media type of the request without parameters, lower case ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? '';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; reason: 'empty' | 'malformed' };

export function parseJson(bytes: Buffer): JsonParse {
  const text = decodeUtf8(bytes);
  if (text === null) return { ok: false, reason: 'malformed' };
  if (text.trim() === '') return { ok: false, reason: 'empty' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** Strict UTF-8 decoding: invalid sequences make the body malformed instead of U+FFFD noise. */
export function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

export type FormParse = { ok: true; params: Map<string, string> } | { ok: false; duplicate?: string };

/**
 * `application/x-www-form-urlencoded` (RFC 6749 appendix B). Repeated parameters are refused:
 * RFC 6749 §3.1/§3.2 "parameters MUST NOT be included more than once".
 */
export function parseForm(bytes: Buffer): FormParse {
  const text = decodeUtf8(bytes);
  if (text === null) return { ok: false };
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name)) return { ok: false, duplicate: name };
    params.set(name, value);
  }
  return { ok: true, params };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** `sendJson` of a body already serialized. */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  closeIfBodyUnread(res);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  closeIfBodyUnread(res);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end();
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  closeIfBodyUnread(res);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
