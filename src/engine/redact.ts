/**
 * Redaction (H-01): no secret of the target ever reaches a report, the console or a log.
 *
 * Two nets, because either alone leaks: every secret the harness sees is registered and replaced
 * by its fingerprint wherever it appears, and anything shaped like a secret (ek_live_ keys, JWTs,
 * values of secret-named JSON/form fields, Bearer/Basic credentials) is fingerprinted even if
 * nobody registered it — e.g. a key a broken target leaks in an unexpected field.
 *
 * By meaning, not by spelling: a target may carry a registered secret JSON-escaped (`\/`, any
 * `\uXXXX`), percent- or form-encoded, split over lines, or inside base64 (`id:secret` of a Basic
 * header). The text is read once through a decoding view (escapes, percent sequences and line
 * breaks undone, each decoded character remembering where it came from); registered secrets are
 * found in that view and their original spans replaced. Base64 runs are decoded and searched the
 * same way.
 *
 * Cost: one pass per string whatever the number of registered secrets. Secrets are indexed by
 * their last 16 characters (8 for shorter ones: the minimum length is 8); at each position of the
 * view one substring is looked up. Tails, not heads, because heads are shared (every JWT of one
 * issuer starts alike, every API key with `ek_live_`) while tails are the random part — a bucket
 * holds one secret. (The previous redactor scanned the text once per registered secret: a long
 * run spent most of its time there, issue 13.)
 */
import { sha256Hex } from './text.js';

export { sha256Hex };

/** `ek_live_…(len=48, sha256:1a2b3c4d)`: a short prefix, the length, 8 hex digits of SHA-256. */
export function fingerprint(secret: string): string {
  const prefix = secret.startsWith('ek_live_') ? 'ek_live_' : secret.startsWith('eyJ') ? 'eyJ' : secret.slice(0, Math.min(3, Math.floor(secret.length / 4)));
  return `${prefix}…(len=${secret.length}, sha256:${sha256Hex(secret).slice(0, 8)})`;
}

const FINGERPRINT_RE = /…\(len=\d+, sha256:[0-9a-f]{8}\)/;

/** Field names whose values are always secrets. */
const SECRET_NAMES = 'raw_?key|api_?key|access_?token|refresh_?token|id_?token|device_?code|code_verifier|client_secret|secret|password|authorization|accessToken|refreshToken|deviceCode|clientSecret';
const SECRET_FIELD = new RegExp(`^(${SECRET_NAMES})$`, 'i');

/**
 * `"access_token": "…"` inside text, the closing quote optional (the text may be clipped); the
 * value may hold JSON escapes (`at\/18c2…`).
 */
const SECRET_JSON_FIELD = new RegExp(`"(${SECRET_NAMES})"(\\s*:\\s*)"((?:[^"\\\\]|\\\\.){8,})("?)`, 'gi');

/** `access_token=…` in a form body or a query string (as some servers answer token requests). */
const SECRET_FORM_FIELD = new RegExp(`(^|[?&\\s;,])(${SECRET_NAMES})=([^&\\s"'<>]{8,})`, 'gi');

/** `Bearer <token>` / `Basic <base64>` in text (a header quoted in a message or a transcript). */
const CREDENTIAL = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/\-]{8,}=*)/g;

const SHAPES: RegExp[] = [
  /ek_live_[A-Za-z0-9_\-]{4,}/g, // Ekso API keys
  // JWTs (also alg:none with an empty signature, and the head of one cut short by a clip).
  /eyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]*){0,2}/g,
  /ekso_(?:at|rt|dc)_[A-Za-z0-9_\-]{4,}/g, // opaque Ekso-style handles
];

/** Base64 runs long enough to hide a secret of 8 characters with something around it. */
const BASE64_RUN = /[A-Za-z0-9+/]{16,}={0,2}/g;

const MIN_SECRET = 8;
const MIN_DECLARED = 6;

/**
 * Words a broken target or source may hand over where a secret belongs (`"access_token":
 * "undefined"`): registered, they would be fingerprinted in every message that says them
 * (issue 9 point 6: "expected string, received un…(len=9, …)").
 */
const NOT_SECRETS = new Set(['undefined', '[object Object]', 'function', 'Infinity', '-Infinity']);

/** One way a registered secret can be spelt in the decoded view. */
interface Spelling {
  text: string;
  secret: string;
}
const LONG_TAIL = 16;

/** A text read through its decodings: `text[i]` came from `source.slice(starts[i], starts[i + 1])`. */
interface DecodedView {
  text: string;
  /** Original index of each decoded character, and the original length at the end; null: identity. */
  starts: number[] | null;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Undoes JSON escapes (`\/`, `\"`, `\\`, `\uXXXX`) and percent sequences, and drops line breaks. */
function decodedView(source: string): DecodedView {
  if (!/[\\%\r\n]/.test(source)) return { text: source, starts: null };
  const chars: string[] = [];
  const starts: number[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\r' || c === '\n') {
      i += 1;
      continue;
    }
    if (c === '\\' && i + 1 < source.length) {
      const next = source[i + 1]!;
      if (next === '/' || next === '"' || next === '\\') {
        chars.push(next);
        starts.push(i);
        i += 2;
        continue;
      }
      if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(source.slice(i + 2, i + 6))) {
        chars.push(String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16)));
        starts.push(i);
        i += 6;
        continue;
      }
    }
    if (c === '%' && HEX.test(source.slice(i + 1, i + 3))) {
      const byte = parseInt(source.slice(i + 1, i + 3), 16);
      // One character per UTF-8 sequence: its length follows from the lead byte.
      const length = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
      const bytes: number[] = [];
      let j = i;
      for (let k = 0; k < length && source[j] === '%' && HEX.test(source.slice(j + 1, j + 3)); k++, j += 3) bytes.push(parseInt(source.slice(j + 1, j + 3), 16));
      if (length > 0 && bytes.length === length) {
        const decoded = Buffer.from(bytes).toString('utf8');
        if (!decoded.includes('\ufffd')) {
          for (const unit of decoded.split('')) {
            chars.push(unit);
            starts.push(i);
          }
          i = j;
          continue;
        }
      }
    }
    chars.push(c);
    starts.push(i);
    i += 1;
  }
  starts.push(source.length);
  return { text: chars.join(''), starts };
}

export class Redactor {
  private readonly secrets = new Set<string>();
  /**
   * Secrets of 16 characters or more, by their last 16; shorter ones by their last 8. An entry is
   * a spelling the view can hold (the secret itself, or its form encoding, where a space becomes
   * `+` — which the view cannot undo, `+` being literal elsewhere) and the secret it spells.
   */
  private readonly byLongTail = new Map<string, Spelling[]>();
  private readonly byShortTail = new Map<string, Spelling[]>();
  /** Declared secrets of 6 or 7 characters, by their last 6. */
  private readonly byTinyTail = new Map<string, Spelling[]>();

  /**
   * Registers a secret (ignores values too short to be secrets, which would shred ordinary text).
   * `declared`: the user named it a secret (`IDP_PASSWORD=…`), so 6 characters are enough.
   */
  add(secret: string | undefined | null, declared = false): void {
    if (typeof secret !== 'string' || secret.length < (declared ? MIN_DECLARED : MIN_SECRET) || FINGERPRINT_RE.test(secret) || NOT_SECRETS.has(secret)) return;
    if (this.secrets.has(secret)) return;
    this.secrets.add(secret);
    this.index({ text: secret, secret });
    if (secret.includes(' ')) this.index({ text: secret.replace(/ /g, '+'), secret });
  }

  private index(spelling: Spelling): void {
    const { text } = spelling;
    const [index, tail] = text.length >= LONG_TAIL ? [this.byLongTail, text.slice(-LONG_TAIL)] : text.length >= MIN_SECRET ? [this.byShortTail, text.slice(-MIN_SECRET)] : [this.byTinyTail, text.slice(-MIN_DECLARED)];
    const bucket = index.get(tail);
    if (bucket) bucket.push(spelling);
    else index.set(tail, [spelling]);
  }

  has(secret: string): boolean {
    return this.secrets.has(secret);
  }

  /** Every registered secret (for tests that scan outputs for leaks). */
  all(): string[] {
    return [...this.secrets];
  }

  /** Redacts a string: registered secrets in any encoding first, then secret-shaped substrings. */
  text(input: string): string {
    if (!input) return input;
    let out = input;
    if (this.secrets.size) {
      out = this.replaceRegistered(out);
      out = out.replace(BASE64_RUN, (run) => (this.hidesRegistered(run) ? fingerprint(run) : run));
    }
    for (const shape of SHAPES) out = out.replace(shape, (m) => fingerprint(m));
    // A secret-named JSON field in text (a body quoted in a message), even when cut short.
    out = out.replace(SECRET_JSON_FIELD, (_m, name: string, colon: string, value: string, end: string) => `"${name}"${colon}"${FINGERPRINT_RE.test(value) ? value : fingerprint(value)}${end}`);
    out = out.replace(SECRET_FORM_FIELD, (m, lead: string, name: string, value: string) => (value.includes('…') ? m : `${lead}${name}=${fingerprint(value)}`));
    // Only credential-looking values: "a Bearer challenge" is prose, "Bearer 9f86d08…" a token.
    out = out.replace(CREDENTIAL, (m, scheme: string, space: string, value: string) => (value.includes('…') || (!/\d/.test(value) && value.length < 24) ? m : `${scheme}${space}${fingerprint(value)}`));
    return out;
  }

  /** Deep-redacts a JSON-like value: secret-named fields are fingerprinted whatever their shape. */
  value<T>(input: T): T {
    return this.walk(input, undefined) as T;
  }

  /** Occurrences of registered secrets in the decoded view of `text`: [start, end) of the view. */
  private matches(view: string): Array<{ start: number; end: number; secret: string }> {
    const found: Array<{ start: number; end: number; secret: string }> = [];
    const scan = (index: Map<string, Spelling[]>, width: number): void => {
      if (!index.size) return;
      for (let end = width; end <= view.length; end++) {
        const bucket = index.get(view.slice(end - width, end));
        if (!bucket) continue;
        for (const { text, secret } of bucket) {
          const start = end - text.length;
          if (start >= 0 && view.startsWith(text, start)) found.push({ start, end, secret });
        }
      }
    };
    scan(this.byLongTail, LONG_TAIL);
    scan(this.byShortTail, MIN_SECRET);
    scan(this.byTinyTail, MIN_DECLARED);
    return found;
  }

  /**
   * Replaces every registered secret: the longest first, then left to right, an occurrence that
   * overlaps one already chosen is left (the order the one-scan-per-secret redactor had).
   */
  private replaceRegistered(source: string): string {
    const view = decodedView(source);
    const found = this.matches(view.text);
    if (!found.length) return source;
    found.sort((a, b) => b.secret.length - a.secret.length || a.start - b.start);
    const taken: Array<{ start: number; end: number; secret: string }> = [];
    for (const m of found) if (!taken.some((t) => m.start < t.end && t.start < m.end)) taken.push(m);
    taken.sort((a, b) => a.start - b.start);
    const at = (i: number): number => (view.starts ? view.starts[i]! : i);
    const parts: string[] = [];
    let cursor = 0;
    for (const m of taken) {
      parts.push(source.slice(cursor, at(m.start)), fingerprint(m.secret));
      cursor = at(m.end);
    }
    parts.push(source.slice(cursor));
    return parts.join('');
  }

  /** Whether a base64 run decodes to text holding a registered secret (`id:secret`, say). */
  private hidesRegistered(run: string): boolean {
    const decoded = Buffer.from(run, 'base64').toString('latin1');
    return decoded.length >= MIN_DECLARED && this.matches(decodedView(decoded).text).length > 0;
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
