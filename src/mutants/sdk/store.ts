/**
 * Mutants of the token store (STORE-01 … STORE-03) and of the persistence an application does
 * from TokensRefreshed.
 */
import { chmod } from 'node:fs/promises';
import { FileTokenStore, type StoredTokens, type TokenStoreKey } from '../../reference/sdk/index.js';
import type { SdkAdapter } from '../../spec/adapter-protocol.js';
import type { SdkMutant } from '../registry.js';
import { adapterMutant, factoryMutant, referenceWith } from './support.js';

/** `${tenant}-${clientId}-${environment}`: (a-b, c) and (a, b-c) share an entry. */
class DashJoinedKeyStore extends FileTokenStore {
  protected override keyOf(key: TokenStoreKey): string {
    return `${key.tenant}-${key.clientId}-${key.environment ?? 'default'}`;
  }
}

/** Keyed by (tenant, client id) only: every environment of a tenant shares one entry. */
class EnvironmentBlindStore extends FileTokenStore {
  protected override keyOf(key: TokenStoreKey): string {
    return JSON.stringify([key.tenant, key.clientId]);
  }
}

/** Written with the process's default permissions (umask 022 → 0644), as writeFile without a mode does. */
class WorldReadableStore extends FileTokenStore {
  override async save(key: TokenStoreKey, tokens: StoredTokens): Promise<void> {
    await super.save(key, tokens);
    await chmod(this.path, 0o644);
  }
}

/**
 * The application's TokensRefreshed handler does not reach the store: explicit saves
 * (`storeSave`) work, the rotated pairs are never persisted. Built as a store that drops every
 * save not made through the adapter's `storeSave`.
 */
function rotationNotPersisted(name: string, options: Parameters<SdkMutant['createAdapter']>[0]): SdkAdapter {
  let explicitSaves = 0;
  class DropsRotations extends FileTokenStore {
    override async save(key: TokenStoreKey, tokens: StoredTokens): Promise<void> {
      if (explicitSaves > 0) await super.save(key, tokens);
    }
  }
  const inner = referenceWith(name, { store: (path: string) => new DropsRotations(path) }, options);
  return {
    ...inner,
    async storeSave(params) {
      explicitSaves += 1;
      try {
        return await inner.storeSave!(params);
      } finally {
        explicitSaves -= 1;
      }
    },
  };
}

export const STORE_MUTANTS: readonly SdkMutant[] = [
  factoryMutant(
    {
      name: 'store-key-dash-joined',
      description: 'the store keys entries by tenant-clientId-environment joined with "-", so (a-b, c) and (a, b-c) collide',
      breaks: ['STORE-01'],
    },
    () => ({ store: (path: string) => new DashJoinedKeyStore(path) }),
  ),
  factoryMutant(
    {
      name: 'store-key-ignores-environment',
      description: 'the store keys entries by (tenant, client id) only: saving for staging overwrites production',
      breaks: ['STORE-01'],
    },
    () => ({ store: (path: string) => new EnvironmentBlindStore(path) }),
  ),
  adapterMutant(
    {
      name: 'rotation-not-persisted',
      description: 'the pair from TokensRefreshed never reaches the store (explicit saves work), so a resumed client has no entry or an old one',
      breaks: ['STORE-02'],
      modelledOn: 'next-auth #7558 (rotation does not persist the new token)',
    },
    (options) => rotationNotPersisted('rotation-not-persisted', options),
  ),
  factoryMutant(
    {
      name: 'store-world-readable',
      description: 'the token store file is left with mode 0644 (the default umask), readable by every local user',
      breaks: ['STORE-03'],
    },
    () => ({ store: (path: string) => new WorldReadableStore(path) }),
  ),
];
