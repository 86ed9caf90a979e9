import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTokenStore, MemoryTokenStore, type TokenStore, type TokenStoreKey } from '../../src/reference/sdk/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ekso-store-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tokens = (n: number) => ({ accessToken: `at-${n}`, refreshToken: `rt-${n}`, expiresAt: new Date(Date.UTC(2030, 0, 1, 0, 0, n)).toISOString() });

// Keys chosen to collide under lossy encodings (concatenation with ':' or '/', tenant only, no env default).
const KEYS: TokenStoreKey[] = [
  { tenant: 'acme', clientId: 'ekso-cli' },
  { tenant: 'acme', clientId: 'ekso-cli', environment: 'default' },
  { tenant: 'acme', clientId: 'ekso-cli', environment: 'prod' },
  { tenant: 'acme', clientId: 'ekso-web', environment: 'prod' },
  { tenant: 'globex', clientId: 'ekso-cli', environment: 'prod' },
  { tenant: 'a:b', clientId: 'c', environment: 'd' },
  { tenant: 'a', clientId: 'b:c', environment: 'd' },
  { tenant: 'a/b', clientId: 'c', environment: 'd' },
  { tenant: 'a', clientId: 'b/c', environment: 'd' },
  { tenant: '__proto__', clientId: 'constructor', environment: 'toString' },
];

function same(a: TokenStoreKey, b: TokenStoreKey): boolean {
  return a.tenant === b.tenant && a.clientId === b.clientId && (a.environment ?? 'default') === (b.environment ?? 'default');
}

for (const [name, make] of [
  ['MemoryTokenStore', () => new MemoryTokenStore()],
  ['FileTokenStore', () => new FileTokenStore(join(dir, 'tokens.json'))],
] as const) {
  describe(`${name} (STORE-01)`, () => {
    it('loads null for an unknown key, and what was saved for a known one', async () => {
      const store: TokenStore = make();
      expect(await store.load(KEYS[0]!)).toBeNull();
      await store.save(KEYS[0]!, tokens(1));
      expect(await store.load(KEYS[0]!)).toEqual(tokens(1));
    });

    it('saving under one key never changes what another key loads', async () => {
      const store: TokenStore = make();
      const expected = new Map<number, ReturnType<typeof tokens> | null>();
      let n = 0;
      // Interleave saves; after each, every key must load the last pair saved under it (or an equal key).
      for (const round of [0, 1]) {
        for (let i = 0; i < KEYS.length; i++) {
          const key = KEYS[(i * 3 + round) % KEYS.length]!;
          const t = tokens(++n);
          await store.save(key, t);
          KEYS.forEach((k, j) => {
            if (same(k, key)) expected.set(j, t);
          });
          for (let j = 0; j < KEYS.length; j++) expect(await store.load(KEYS[j]!)).toEqual(expected.get(j) ?? null);
        }
      }
    });
  });
}

describe('FileTokenStore on disk (STORE-03)', () => {
  it('writes the file with mode 0600 and leaves no temporary files', async () => {
    const path = join(dir, 'nested', 'tokens.json');
    const store = new FileTokenStore(path);
    await store.save(KEYS[0]!, tokens(1));
    await store.save(KEYS[2]!, tokens(2));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o077).toBe(0);
    expect(await readdir(join(dir, 'nested'))).toEqual(['tokens.json']);
  });

  it('tightens a pre-existing world-readable file on the next save (it is replaced, not rewritten)', async () => {
    const path = join(dir, 'tokens.json');
    await writeFile(path, JSON.stringify({ version: 1, entries: {} }), { mode: 0o644 });
    await new FileTokenStore(path).save(KEYS[0]!, tokens(1));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('concurrent saves of different keys all land (no lost update)', async () => {
    const store = new FileTokenStore(join(dir, 'tokens.json'));
    await Promise.all(KEYS.slice(2).map((k, i) => store.save(k, tokens(i))));
    const fresh = new FileTokenStore(join(dir, 'tokens.json'));
    for (const [i, k] of KEYS.slice(2).entries()) expect(await fresh.load(k)).toEqual(tokens(i));
  });

  it('a reader never sees a torn file while saves are in progress (atomic rename)', async () => {
    const path = join(dir, 'tokens.json');
    const store = new FileTokenStore(path);
    await store.save(KEYS[0]!, tokens(0));
    let writing = true;
    const reads: Promise<void> = (async () => {
      let parsedOk = 0;
      while (writing) {
        const text = await readFile(path, 'utf8');
        JSON.parse(text); // throws on a torn file
        parsedOk++;
        await new Promise((r) => setImmediate(r));
      }
      expect(parsedOk).toBeGreaterThan(0);
    })();
    for (let i = 1; i < 40; i++) await store.save(KEYS[i % KEYS.length]!, { ...tokens(i), accessToken: 'a'.repeat(5000 + i) });
    writing = false;
    await reads;
  });

  it('a second instance (another process) resumes what the first saved', async () => {
    const path = join(dir, 'tokens.json');
    await new FileTokenStore(path).save(KEYS[4]!, tokens(9));
    expect(await new FileTokenStore(path).load(KEYS[4]!)).toEqual(tokens(9));
  });

  it('refuses a corrupt file instead of treating it as empty', async () => {
    const path = join(dir, 'tokens.json');
    await writeFile(path, '{ not json', { mode: 0o600 });
    const store = new FileTokenStore(path);
    await expect(store.load(KEYS[0]!)).rejects.toThrow(/not valid JSON/);
    await expect(store.save(KEYS[0]!, tokens(1))).rejects.toThrow(/not valid JSON/);
    expect(await readFile(path, 'utf8')).toBe('{ not json');
  });
});
