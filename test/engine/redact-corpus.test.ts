/**
 * The one-pass redactor (issue 13) against the one it replaced, and against encodings the old one
 * missed (issue 11 point 2).
 *
 * 1. Identical output on a corpus of what the harness redacts — messages, steps, request lines,
 *    JSON bodies, URLs with registered secrets raw or URL-encoded, secret-shaped and secret-named
 *    values: the same fingerprints in the same places, character for character (the speed-up
 *    changes nothing a user sees).
 * 2. A registered secret in any encoding a response can carry it — JSON `\/` and `\uXXXX`
 *    escapes, percent and form encoding, base64 of `id:secret`, split over lines — never comes out
 *    raw, nor in that encoding.
 * 3. Cost independent of the number of registered secrets (counted, not timed: index slots per string).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, fingerprint } from '../../src/engine/redact.js';
import { LegacyRedactor } from '../support/legacy-redactor.js';
import { prop } from '../support/prop.js';

const tokenChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));
const special = fc.constantFrom('+', '/', '=', '.', '~', '!', '*', ' ', 'é');
/** Secrets as targets issue them: opaque handles, API keys, JWT-like triples, ones with specials. */
const secret = fc.oneof(
  fc.string({ unit: tokenChar, minLength: 12, maxLength: 48 }),
  fc.string({ unit: tokenChar, minLength: 24, maxLength: 40 }).map((s) => `ek_live_${s}`),
  fc.string({ unit: tokenChar, minLength: 16, maxLength: 32 }).map((s) => `ekso_rt_${s}`),
  fc.tuple(fc.string({ unit: tokenChar, minLength: 10, maxLength: 30 }), fc.string({ unit: tokenChar, minLength: 10, maxLength: 40 })).map(([p, s]) => `eyJhbGciOiJIUzI1NiJ9.eyJ${p}.${s}`),
  fc.tuple(fc.string({ unit: tokenChar, minLength: 6, maxLength: 20 }), special, fc.string({ unit: tokenChar, minLength: 4, maxLength: 20 })).map(([a, s, b]) => `${a}${s}${b}`),
);

const prose = fc.constantFrom('GET /api/items → 200', 'the SDK presented a refresh token', 'expected: a 2xx response', '#12 POST /token (refresh generation 3) → 400', 'invalid_grant', 'EksoAuthException Expired status 400', 'family #0 with generation 1 (current)', 'Bearer realm="ekso"', ' ', ', ', ': ', '\n');

/** One fragment of harness text around the registered secrets (the kinds legacy redacted). */
function fragment(secrets: readonly string[]): fc.Arbitrary<string> {
  const one = fc.constantFrom(...secrets);
  return fc.oneof(
    prose,
    one,
    one.map((s) => encodeURIComponent(s)),
    one.map((s) => `Authorization: Bearer ${s}`),
    one.map((s) => JSON.stringify({ access_token: s, token_type: 'Bearer', expires_in: 300 })),
    one.map((s) => `POST /token?grant_type=refresh_token&refresh_token=${encodeURIComponent(s)}`),
    one.map((s) => `{"message":"unknown key ${s}"}`),
    fc.string({ unit: tokenChar, minLength: 4, maxLength: 30 }).map((s) => `ek_live_${s}`),
    fc.string({ unit: tokenChar, minLength: 8, maxLength: 30 }).map((s) => `{"refresh_token":"${s}"}`),
  );
}

const corpus = fc.uniqueArray(secret, { minLength: 1, maxLength: 6 }).chain((secrets) =>
  fc.tuple(fc.constant(secrets), fc.array(fragment(secrets), { minLength: 1, maxLength: 12 }).map((parts) => parts.join(' '))),
);

describe('the one-pass redactor', () => {
  prop([corpus])('gives the old redactor\'s output on the corpus, character for character', ([secrets, text]) => {
    const now = new Redactor();
    const before = new LegacyRedactor();
    for (const s of secrets) {
      now.add(s);
      before.add(s);
    }
    expect(now.text(text)).toBe(before.text(text));
    expect(now.value({ body: text, access_token: secrets[0] })).toEqual(before.value({ body: text, access_token: secrets[0] }));
  }, { numRuns: 300 });

  it('gives the old output on a fixed corpus of report lines', () => {
    const secrets = ['ek_live_Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkw', 'ekso_rt_c2VjcmV0LXJlZnJlc2gtdG9rZW4', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl', 'p@ss w/rd+value'];
    const lines = [
      `#3 GET /api/keys (the API key) → 200 {"items":[{"id":"k1","raw_key":"${secrets[0]}"}]}`,
      `POST /token grant_type=refresh_token&refresh_token=${encodeURIComponent(secrets[1]!)}&client_id=ekso-cli`,
      `authorization: Bearer ${secrets[2]}`,
      `password ${secrets[3]} and ${encodeURIComponent(secrets[3]!)}`,
      '{"access_token":"unregistered-but-named-1234","token_type":"Bearer"}',
      'ek_live_unregisteredKey99 and eyJ0eXAiOiJKV1QifQ.e30.',
    ];
    const now = new Redactor();
    const before = new LegacyRedactor();
    for (const s of secrets) (now.add(s), before.add(s));
    for (const line of lines) expect(now.text(line)).toBe(before.text(line));
  });
});

/** The encodings a target may put a secret in (issue 11 point 2). */
const encodings: Record<string, (s: string) => string> = {
  'JSON \\/ escapes': (s) => JSON.stringify({ access_token: s }).replace(/\//g, '\\/'),
  'JSON \\uXXXX escapes, every character': (s) => `{"token":"${[...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`,
  'JSON \\uXXXX escapes, some characters': (s) => `{"t":"${[...s].map((c, i) => (i % 3 === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')}"}`,
  'percent encoding of every byte': (s) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  'form encoding': (s) => new URLSearchParams({ access_token: s, token_type: 'Bearer' }).toString(),
  'base64 of id:secret (a Basic header)': (s) => `Authorization: Basic ${Buffer.from(`ekso-cli:${s}`).toString('base64')}`,
  'split over lines': (s) => `${s.slice(0, Math.floor(s.length / 2))}\r\n${s.slice(Math.floor(s.length / 2))}`,
  'inside an error text': (s) => `upstream said: refresh token ${s} is unknown`,
};

describe('a registered secret in any encoding', () => {
  for (const [name, encode] of Object.entries(encodings)) {
    prop([secret, prose, prose])(`never comes out raw or encoded: ${name}`, (s, before, after) => {
      const r = new Redactor();
      r.add(s);
      const encoded = encode(s);
      const out = r.text(`${before}${encoded}${after}`);
      expect(out).not.toContain(s);
      if (encoded.length >= 8 && encoded !== s) expect(out).not.toContain(encoded);
      // The middle of the secret, whatever surrounded it (a leak of most of it is a leak).
      expect(out).not.toContain(s.slice(2, -2));
    }, { numRuns: 100 });
  }

  it('fingerprints the registered secret itself (the same fingerprint as a raw occurrence)', () => {
    const r = new Redactor();
    const s = 'at/18c2+secret=value';
    r.add(s);
    expect(r.text(JSON.stringify({ access_token: s }).replace(/\//g, '\\/'))).toBe(`{"access_token":"${fingerprint(s)}"}`);
    expect(r.text(`x=${encodeURIComponent(s)}&y=1`)).toBe(`x=${fingerprint(s)}&y=1`);
  });

  it('fingerprints unregistered tokens in form bodies and Bearer headers by meaning', () => {
    const r = new Redactor();
    const out = r.text('access_token=opaque0123456789&refresh_token=opaque9876543210&token_type=Bearer\nauthorization: Bearer 9f86d081884c7d659a2f');
    expect(out).not.toContain('opaque0123456789');
    expect(out).not.toContain('opaque9876543210');
    expect(out).not.toContain('9f86d081884c7d659a2f');
    expect(out).toContain('token_type=Bearer');
    // Prose stays prose.
    expect(r.text('expected a Bearer challenge')).toBe('expected a Bearer challenge');
  });
});

describe('words that are not secrets', () => {
  it('"undefined" handed over as a token is not registered: messages that say it stay readable', () => {
    const r = new Redactor();
    r.add('undefined');
    r.add('[object Object]');
    expect(r.size).toBe(0);
    expect(r.text('expected string, received undefined')).toBe('expected string, received undefined');
  });
});

describe('cost per string', () => {
  it('does not depend on how many secrets are registered (index slots looked at, counted)', () => {
    const text = `${'GET /api/items → 200 '.repeat(50)}`;
    const probes = (n: number): number => {
      const r = new Redactor();
      for (let i = 0; i < n; i++) r.add(`opaque-secret-${i.toString().padStart(8, '0')}-tail`);
      const before = r.probes;
      r.text(text);
      return r.probes - before;
    };
    // One window per position and index in use (secrets of 16+ characters: one index); a table
    // at most half full looks at a couple of slots per window, however many secrets it holds.
    const positions = text.length - 16 + 1;
    for (const n of [10, 1_000, 50_000]) {
      expect(probes(n)).toBeGreaterThanOrEqual(positions);
      expect(probes(n)).toBeLessThanOrEqual(3 * positions);
    }
  });
});

describe('what the index keeps (issue 13: memory flat in deep runs)', () => {
  /** Every string reachable from `root` through objects, arrays and maps. */
  function stringsIn(root: unknown): string[] {
    const seen = new Set<unknown>();
    const out: string[] = [];
    const visit = (value: unknown): void => {
      if (typeof value === 'string') out.push(value);
      if (!value || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (value instanceof Map) for (const [k, v] of value) (visit(k), visit(v));
      else if (value instanceof Set) for (const v of value) visit(v);
      else for (const v of Object.values(value)) visit(v);
    };
    visit(root);
    return out;
  }

  prop([fc.uniqueArray(secret.filter((s) => !s.includes(' ')), { minLength: 1, maxLength: 20 })])('no registered secret, nor any piece of one, is kept as a string', (secrets) => {
    const r = new Redactor();
    for (const s of secrets) r.add(s);
    expect(r.size).toBe(secrets.length);
    const kept = stringsIn(r);
    for (const s of secrets) expect(kept.filter((k) => k.length >= 4 && s.includes(k))).toEqual([]);
    // …and yet every one of them is found.
    for (const s of secrets) expect(r.text(`x ${s} y`)).toBe(`x ${fingerprint(s)} y`);
  }, { numRuns: 50 });

  it('finds secrets at either end of the text, and a secret that is the whole text', () => {
    const r = new Redactor();
    const long = 'opaque-refresh-token-0123456789';
    const short = 'pw-12345';
    r.add(long);
    r.add(short);
    r.add('tiny42', true);
    expect(r.text(long)).toBe(fingerprint(long));
    expect(r.text(`${long}${short}`)).toBe(`${fingerprint(long)}${fingerprint(short)}`);
    expect(r.text(`tiny42 ${short}`)).toBe(`${fingerprint('tiny42')} ${fingerprint(short)}`);
    expect(r.text('tiny4')).toBe('tiny4');
  });

  it('a secret longer than the packed lengths is still found (kept whole)', () => {
    const r = new Redactor();
    const huge = `${'k'.repeat(2 ** 21)}-end`;
    r.add(huge);
    expect(r.has(huge)).toBe(true);
    expect(r.text(`a ${huge} b`)).toBe(`a ${fingerprint(huge)} b`);
  });

  it('registering the same secret twice counts it once', () => {
    const r = new Redactor();
    r.add('opaque-refresh-token-0123456789');
    r.add('opaque-refresh-token-0123456789');
    expect(r.size).toBe(1);
  });
});
