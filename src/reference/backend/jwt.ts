/**
 * Minimal HS256 JWT signing and verification (RFC 7519 / RFC 7515), node:crypto only.
 *
 * Verification is deliberately narrow: exactly `alg: "HS256"` (so `none`, `HS512`, `RS256` and
 * friends are refused before any key is touched), canonical base64url only, and a constant-time
 * comparison of the signature *as encoded*, so that a tampered last character that decodes to the
 * same bytes (unused low bits) is still refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type JwtPayload = Record<string, unknown>;

export type JwtVerifyResult = { ok: true; payload: JwtPayload } | { ok: false; reason: string };

const B64URL = /^[A-Za-z0-9_-]*$/;

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function decodeCanonical(part: string): Buffer | null {
  if (!B64URL.test(part) || part.length % 4 === 1) return null;
  const bytes = Buffer.from(part, 'base64url');
  // Refuse non-canonical encodings: the same bytes must encode back to the same text.
  return bytes.toString('base64url') === part ? bytes : null;
}

function decodeJsonObject(part: string): Record<string, unknown> | null {
  const bytes = decodeCanonical(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function sign(input: string, key: Buffer): string {
  return createHmac('sha256', key).update(input, 'ascii').digest('base64url');
}

export function signHs256(payload: JwtPayload, key: Buffer): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  return `${header}.${body}.${sign(`${header}.${body}`, key)}`;
}

/** Checks structure, algorithm and signature only; claims are the caller's business. */
export function verifyHs256(token: string, key: Buffer): JwtVerifyResult {
  if (token.length > 8192) return { ok: false, reason: 'token too long' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWS compact serialization' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJsonObject(headerPart);
  if (!header) return { ok: false, reason: 'malformed header' };
  if (header.alg !== 'HS256') return { ok: false, reason: 'algorithm not accepted' };
  if (header.typ !== undefined && header.typ !== 'JWT') return { ok: false, reason: 'unexpected typ' };
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (header.crit !== undefined) return { ok: false, reason: 'critical header not understood' };
  if (!decodeCanonical(signaturePart) || signaturePart.length === 0) return { ok: false, reason: 'malformed signature' };
  const expected = Buffer.from(sign(`${headerPart}.${payloadPart}`, key), 'ascii');
  const presented = Buffer.from(signaturePart, 'ascii');
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
    return { ok: false, reason: 'bad signature' };
  }
  const payload = decodeJsonObject(payloadPart);
  if (!payload) return { ok: false, reason: 'malformed payload' };
  return { ok: true, payload };
}
