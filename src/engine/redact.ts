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
 * view one rolling hash of the window ending there is looked up (see `TailIndex`). Tails, not
 * heads, because heads are shared (every JWT of one issuer starts alike, every API key with
 * `ek_live_`) while tails are the random part — a bucket holds one secret. (The previous redactor scanned the text once per registered secret: a long
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

const LONG_TAIL = 16;

/**
 * The index keeps no secret, only numbers (issue 13: a deep run registers 100,000+ secrets, 20 MB
 * of them as strings). A spelling is found by the hash of its last characters (a rolling hash,
 * so that sliding along the text allocates nothing) and confirmed by a second, independent hash of
 * the whole spelling together with its exact length: a text holding the spelling always matches
 * (no secret is ever missed); a text that only collides on both hashes and the length (odds about
 * 2^-60 per position) is fingerprinted as if it were one — over-redaction, never a leak. The
 * fingerprint of a match is computed from the matched text, which is the secret.
 */
const ROLL = 0x01000193;
/** Masked to 30 bits: small integers stay unboxed as Map keys. */
const TAIL_MASK = 0x3fffffff;
/** Spellings are packed as `confirmHash * 2^21 + length` (exact in a double). */
const LENGTH_LIMIT = 2 ** 21;

/** Rolling hash of `text.slice(from, from + width)`, before masking. */
function windowHash(text: string, from: number, width: number): number {
  let h = 0;
  for (let i = from; i < from + width; i++) h = (Math.imul(h, ROLL) + text.charCodeAt(i)) | 0;
  return h;
}

/** FNV-1a of `text.slice(from, to)`, with the length: what confirms a candidate. */
function spellingCode(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) * LENGTH_LIMIT + (to - from);
}

/**
 * Spellings by the hash of their last `width` characters, in an open-addressing table of typed
 * arrays (12 bytes a slot, at most half full): a `Map` of boxed numbers took twice that. Slots
 * hold the tail hash + 1 (0: empty) and the spelling's code; spellings sharing a tail hash take
 * neighbouring slots (linear probing), all of them looked at.
 */
class TailIndex {
  private tails = new Int32Array(256);
  private codes = new Float64Array(256);
  /** `32 - log2(capacity)`: a slot number is the top bits of a 32-bit product. */
  private shift = 24;
  private used = 0;
  /** Slots looked at by `scan` so far (the cost test counts them). */
  probes = 0;
  /** `ROLL^(width - 1)`, to drop the character leaving the window. */
  private readonly dropFactor: number;

  constructor(readonly width: number) {
    let f = 1;
    for (let i = 1; i < width; i++) f = Math.imul(f, ROLL);
    this.dropFactor = f;
  }

  /** First slot of a tail (multiplicative hashing: the rolling hash's low bits are its weakest). */
  private home(tail: number): number {
    return Math.imul(tail, 0x9e3779b1) >>> this.shift;
  }

  /** Whether the spelling is indexed (by its hashes: equal hashes are equal spellings here). */
  has(spelling: string): boolean {
    const tail = (windowHash(spelling, spelling.length - this.width, this.width) & TAIL_MASK) + 1;
    const code = spellingCode(spelling, 0, spelling.length);
    const mask = this.tails.length - 1;
    for (let i = this.home(tail); this.tails[i] !== 0; i = (i + 1) & mask) if (this.tails[i] === tail && this.codes[i] === code) return true;
    return false;
  }

  add(spelling: string): void {
    if (2 * (this.used + 1) > this.tails.length) this.grow();
    this.put((windowHash(spelling, spelling.length - this.width, this.width) & TAIL_MASK) + 1, spellingCode(spelling, 0, spelling.length));
  }

  private put(tail: number, code: number): void {
    const mask = this.tails.length - 1;
    let i = this.home(tail);
    while (this.tails[i] !== 0) i = (i + 1) & mask;
    this.tails[i] = tail;
    this.codes[i] = code;
    this.used += 1;
  }

  private grow(): void {
    const { tails, codes } = this;
    this.tails = new Int32Array(tails.length * 2);
    this.codes = new Float64Array(tails.length * 2);
    this.shift -= 1;
    this.used = 0;
    for (let i = 0; i < tails.length; i++) if (tails[i] !== 0) this.put(tails[i]!, codes[i]!);
  }

  /** Adds `[start, end)` of every indexed spelling in `view` to `found`. */
  scan(view: string, found: Array<{ start: number; end: number }>): void {
    const { width, dropFactor, tails, codes } = this;
    if (!this.used || view.length < width) return;
    const mask = tails.length - 1;
    let h = windowHash(view, 0, width);
    for (let end = width; ; end++) {
      const tail = (h & TAIL_MASK) + 1;
      for (let i = this.home(tail); ; i = (i + 1) & mask) {
        this.probes += 1;
        const t = tails[i]!;
        if (t === 0) break;
        if (t !== tail) continue;
        const code = codes[i]!;
        const start = end - (code % LENGTH_LIMIT);
        if (start >= 0 && spellingCode(view, start, end) === code) found.push({ start, end });
      }
      if (end === view.length) return;
      h = (Math.imul((h - Math.imul(view.charCodeAt(end - width), dropFactor)) | 0, ROLL) + view.charCodeAt(end)) | 0;
    }
  }
}

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
  /** How many secrets are registered. */
  private count = 0;
  /**
   * Spellings of 16 characters or more, by their last 16; shorter ones by their last 8; declared
   * secrets of 6 or 7 characters by their last 6. A spelling is a form the decoded view can hold:
   * the secret itself, or its form encoding, where a space becomes `+` (which the view cannot
   * undo, `+` being literal elsewhere).
   */
  private readonly byLongTail = new TailIndex(LONG_TAIL);
  private readonly byShortTail = new TailIndex(MIN_SECRET);
  private readonly byTinyTail = new TailIndex(MIN_DECLARED);
  /** The secret a `+` spelling stands for (declared passwords with spaces: few), by spelling. */
  private readonly plusSpellings = new Map<string, string>();
  /** Secrets of 2^21 characters or more (none in practice): kept whole, searched with indexOf. */
  private readonly huge: string[] = [];

  /**
   * Registers a secret (ignores values too short to be secrets, which would shred ordinary text).
   * `declared`: the user named it a secret (`IDP_PASSWORD=…`), so 6 characters are enough.
   */
  add(secret: string | undefined | null, declared = false): void {
    if (typeof secret !== 'string' || secret.length < (declared ? MIN_DECLARED : MIN_SECRET) || FINGERPRINT_RE.test(secret) || NOT_SECRETS.has(secret)) return;
    if (this.has(secret)) return;
    this.count += 1;
    if (secret.length >= LENGTH_LIMIT) {
      this.huge.push(secret);
      return;
    }
    this.indexFor(secret).add(secret);
    if (secret.includes(' ')) {
      const plus = secret.replace(/ /g, '+');
      this.indexFor(plus).add(plus);
      this.plusSpellings.set(plus, secret);
    }
  }

  private indexFor(spelling: string): TailIndex {
    return spelling.length >= LONG_TAIL ? this.byLongTail : spelling.length >= MIN_SECRET ? this.byShortTail : this.byTinyTail;
  }

  has(secret: string): boolean {
    if (secret.length >= LENGTH_LIMIT) return this.huge.includes(secret);
    return secret.length >= MIN_DECLARED && this.indexFor(secret).has(secret);
  }

  /** How many secrets are registered. */
  get size(): number {
    return this.count;
  }

  /** Index slots looked at so far by every `text` call: cost accounting, for tests. */
  get probes(): number {
    return this.byLongTail.probes + this.byShortTail.probes + this.byTinyTail.probes;
  }

  /** Redacts a string: registered secrets in any encoding first, then secret-shaped substrings. */
  text(input: string): string {
    if (!input) return input;
    let out = input;
    if (this.count) {
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
  private matches(view: string): Array<{ start: number; end: number }> {
    const found: Array<{ start: number; end: number }> = [];
    this.byLongTail.scan(view, found);
    this.byShortTail.scan(view, found);
    this.byTinyTail.scan(view, found);
    for (const secret of this.huge) {
      for (let at = view.indexOf(secret); at >= 0; at = view.indexOf(secret, at + 1)) found.push({ start: at, end: at + secret.length });
    }
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
    found.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
    const taken: Array<{ start: number; end: number }> = [];
    for (const m of found) if (!taken.some((t) => m.start < t.end && t.start < m.end)) taken.push(m);
    taken.sort((a, b) => a.start - b.start);
    const at = (i: number): number => (view.starts ? view.starts[i]! : i);
    const parts: string[] = [];
    let cursor = 0;
    for (const m of taken) {
      // The matched spelling is the secret (or its `+` form, which names its secret).
      const spelling = view.text.slice(m.start, m.end);
      parts.push(source.slice(cursor, at(m.start)), fingerprint(this.plusSpellings.get(spelling) ?? spelling));
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
