/**
 * Forged credentials for ERR-01: tokens an attacker could make without the target's signing key.
 * Works on any JWT the target issued (keeping its claims) and synthesises a plausible Ekso JWT
 * when the target's access tokens are opaque.
 */
import { createHmac, randomBytes } from 'node:crypto';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function claimsOf(token: string | null): Record<string, unknown> {
  if (token && looksLikeJwt(token)) {
    try {
      return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      // fall through to synthetic claims
    }
  }
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'Ekso', aud: 'Ekso', sub: 'u-admin', iat: now, exp: now + 600, EksoClient: 'Cli', jti: randomBytes(8).toString('hex') };
}

/** HS256 over the same (or synthetic) claims with a key the target never saw. */
export function signedWithAnotherKey(real: string | null): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claimsOf(real)));
  const signature = createHmac('sha256', randomBytes(32)).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** `alg: none` with an empty signature (RFC 7519 §6). */
export function unsigned(real: string | null): string {
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claimsOf(real)))}.`;
}

/** The real token with its claims changed (a later expiry, another subject) and the old signature kept. */
export function tamperedClaims(real: string): string {
  if (!looksLikeJwt(real)) return flipChar(real, Math.floor(real.length / 2));
  const [header, , signature] = real.split('.');
  const claims = claimsOf(real);
  const changed = { ...claims, exp: Number(claims.exp ?? 0) + 86_400 * 365, sub: `${String(claims.sub ?? 'x')}-admin` };
  return `${header}.${b64url(JSON.stringify(changed))}.${signature}`;
}

export function flipChar(text: string, at: number): string {
  const i = Math.max(0, Math.min(text.length - 1, at));
  const ch = text[i] === 'A' ? 'B' : 'A';
  return text.slice(0, i) + ch + text.slice(i + 1);
}
