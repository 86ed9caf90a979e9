/**
 * The redactor as it was before the one-pass rewrite (issue 13), kept only as the oracle of
 * test/engine/redact-corpus.test.ts: on text it fully redacted, the new one must give the same
 * output, character for character.
 */
import { createHash } from 'node:crypto';

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** `ek_live_…(len=48, sha256:1a2b3c4d)`: a short prefix, the length, 8 hex digits of SHA-256. */
function fingerprint(secret: string): string {
  const prefix = secret.startsWith('ek_live_') ? 'ek_live_' : secret.startsWith('eyJ') ? 'eyJ' : secret.slice(0, Math.min(3, Math.floor(secret.length / 4)));
  return `${prefix}…(len=${secret.length}, sha256:${sha256Hex(secret).slice(0, 8)})`;
}

const FINGERPRINT_RE = /…\(len=\d+, sha256:[0-9a-f]{8}\)/;

/** Field names whose values are always secrets. */
const SECRET_NAMES = 'raw_?key|api_?key|access_?token|refresh_?token|id_?token|device_?code|code_verifier|client_secret|secret|password|authorization|accessToken|refreshToken|deviceCode|clientSecret';
const SECRET_FIELD = new RegExp(`^(${SECRET_NAMES})$`, 'i');

/** `"access_token": "…"` inside text, the closing quote optional (the text may be clipped). */
const SECRET_JSON_FIELD = new RegExp(`"(${SECRET_NAMES})"(\\s*:\\s*)"([^"\\\\]{8,})("?)`, 'gi');

const SHAPES: RegExp[] = [
  /ek_live_[A-Za-z0-9_\-]{4,}/g, // Ekso API keys
  // JWTs (also alg:none with an empty signature, and the head of one cut short by a clip).
  /eyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]*){0,2}/g,
  /ekso_(?:at|rt|dc)_[A-Za-z0-9_\-]{4,}/g, // opaque Ekso-style handles
];

export class LegacyRedactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] | null = null;

  /** Registers a secret (ignores values too short to be secrets, which would shred ordinary text). */
  add(secret: string | undefined | null): void {
    if (typeof secret !== 'string' || secret.length < 8 || FINGERPRINT_RE.test(secret)) return;
    if (this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.sorted = null;
  }

  has(secret: string): boolean {
    return this.secrets.has(secret);
  }

  /** Every registered secret (for tests that scan outputs for leaks). */
  all(): string[] {
    return [...this.secrets];
  }

  /** Redacts a string: registered secrets first (longest first), then secret-shaped substrings. */
  text(input: string): string {
    if (!input) return input;
    let out = input;
    if (this.secrets.size) {
      this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
      for (const secret of this.sorted) {
        if (out.includes(secret)) out = out.split(secret).join(fingerprint(secret));
        const encoded = encodeURIComponent(secret);
        if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(fingerprint(secret));
      }
    }
    for (const shape of SHAPES) out = out.replace(shape, (m) => fingerprint(m));
    // A secret-named JSON field in text (a body quoted in a message), even when cut short.
    out = out.replace(SECRET_JSON_FIELD, (_m, name: string, colon: string, value: string, end: string) => `"${name}"${colon}"${FINGERPRINT_RE.test(value) ? value : fingerprint(value)}${end}`);
    return out;
  }

  /** Deep-redacts a JSON-like value: secret-named fields are fingerprinted whatever their shape. */
  value<T>(input: T): T {
    return this.walk(input, undefined) as T;
  }

  private walk(input: unknown, key: string | undefined): unknown {
    if (typeof input === 'string') {
      if (key !== undefined && SECRET_FIELD.test(key) && input.length >= 8 && !FINGERPRINT_RE.test(input)) {
        return fingerprint(input);
      }
      return this.text(input);
    }
    if (Array.isArray(input)) return input.map((v) => this.walk(v, undefined));
    if (input && typeof input === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(input as Record<string, unknown>)) out[k] = this.walk(v, k);
      return out;
    }
    return input;
  }
}
