/**
 * Formats and small helpers of the reference backend, shared by its endpoint groups. Its own
 * SHA-256 helper on purpose: the reference imports nothing of the harness (an independent witness).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'ek_live_';
export const API_KEY_RE = /^ek_live_[A-Za-z0-9_-]{43}$/;
export const REFRESH_PREFIX = 'ekso_rt_';
export const REFRESH_RE = /^ekso_rt_[A-Za-z0-9_-]{43}$/;
export const DEVICE_PREFIX = 'ekso_dc_';
export const AUTH_CODE_PREFIX = 'ekso_ac_';
export const JWT_ISSUER = 'Ekso';
export const JWT_AUDIENCE = 'Ekso';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §6.1: no vowels (no words), no easily confused characters. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** Choice: authorization codes live 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes). */
export const AUTH_CODE_TTL_MS = 60_000;
export const PKCE_VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
export const PKCE_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
export const HOST_RE = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function stringsEqualConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
