/**
 * Token stores, designed as the seed asks: "keyed by (Tenant, ClientId, Environment) so
 * multi-tenant or multi-environment installs don't collide" (STORE-01). An application saves the
 * pair from `TokensRefreshed` and resumes from it in the next process (STORE-02).
 *
 * Seam for mutants: `keyOf` (how a key becomes the entry name; a lossy one makes keys collide).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface TokenStoreKey {
  tenant: string;
  clientId: string;
  /** Absent means `"default"` (CONTRACT §5.2). */
  environment?: string;
}

/** A stored pair; `expiresAt` is ISO-8601. (A type alias, so it fits the protocol's loose `Tokens`.) */
export type StoredTokens = {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
};

export interface TokenStore {
  save(key: TokenStoreKey, tokens: StoredTokens): Promise<void>;
  load(key: TokenStoreKey): Promise<StoredTokens | null>;
}

export const DEFAULT_ENVIRONMENT = 'default';

/**
 * The entry name of a key. JSON of the three-element tuple is injective: no tenant, client id or
 * environment, whatever characters it holds, can make two distinct keys share a name.
 */
export function entryName(key: TokenStoreKey): string {
  return JSON.stringify([key.tenant, key.clientId, key.environment ?? DEFAULT_ENVIRONMENT]);
}

function copy(tokens: StoredTokens): StoredTokens {
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt };
}

/** In-memory store (tests, short-lived processes). */
export class MemoryTokenStore implements TokenStore {
  protected readonly entries = new Map<string, StoredTokens>();

  protected keyOf(key: TokenStoreKey): string {
    return entryName(key);
  }

  async save(key: TokenStoreKey, tokens: StoredTokens): Promise<void> {
    this.entries.set(this.keyOf(key), copy(tokens));
  }

  async load(key: TokenStoreKey): Promise<StoredTokens | null> {
    const found = this.entries.get(this.keyOf(key));
    return found ? copy(found) : null;
  }
}

interface StoreFile {
  version: 1;
  entries: Record<string, { tenant: string; clientId: string; environment: string; tokens: StoredTokens }>;
}

/**
 * One JSON file holding every entry. Each save rewrites the file atomically (STORE-03): the new
 * content goes to a temporary file in the same directory (same file system, so `rename` is
 * atomic), created with mode 0600, flushed with fsync, then renamed over the store; the directory
 * is fsynced so the rename itself survives a crash. Readers see the old file or the new one,
 * never a torn one.
 *
 * Saves and loads of one instance are serialised, so two concurrent saves of different keys
 * cannot lose each other's entry. Choice: no cross-process lock — one process owns a store file
 * (as the CLI's credential store); two processes saving at the same instant may lose one entry,
 * but can never tear the file.
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = resolve(path);
  }

  protected keyOf(key: TokenStoreKey): string {
    return entryName(key);
  }

  save(key: TokenStoreKey, tokens: StoredTokens): Promise<void> {
    return this.serialise(async () => {
      const file = await this.read();
      file.entries[this.keyOf(key)] = {
        tenant: key.tenant,
        clientId: key.clientId,
        environment: key.environment ?? DEFAULT_ENVIRONMENT,
        tokens: copy(tokens),
      };
      await this.writeAtomically(JSON.stringify(file, null, 2) + '\n');
    });
  }

  load(key: TokenStoreKey): Promise<StoredTokens | null> {
    return this.serialise(async () => {
      const file = await this.read();
      const entry = Object.prototype.hasOwnProperty.call(file.entries, this.keyOf(key)) ? file.entries[this.keyOf(key)] : undefined;
      return entry ? copy(entry.tokens) : null;
    });
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Choice: a missing file is an empty store; a file that is not a store (corrupt JSON, wrong
   * shape) is an error, never treated as empty — saving over it would silently drop every other
   * tenant's tokens.
   */
  private async read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: Object.create(null) as StoreFile['entries'] };
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`token store ${this.path} is not valid JSON`);
    }
    const entries = parsed && typeof parsed === 'object' ? (parsed as { entries?: unknown }).entries : undefined;
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) throw new Error(`token store ${this.path} has no entries object`);
    return { version: 1, entries: Object.assign(Object.create(null) as StoreFile['entries'], entries) };
  }

  private async writeAtomically(content: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${dir}/.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    // 'wx': never follow or reuse an existing file; 0o600 from the first byte (umask can only tighten it).
    const handle = await open(tmp, 'wx', 0o600);
    try {
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await syncDirectory(dir);
  }
}

/** Best effort: some file systems refuse fsync on a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // not fatal: the data itself is already synced
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
