/**
 * Mutants of the API-key surface (AK-*). Each overrides one protected method of the reference
 * backend; the comment on each class says which behaviour it breaks and why only that.
 */
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ReferenceBackend, type ApiKeyRecord, type ApiKeyUsability, type ErrorKind, type FieldError, type Rejection, type RequestContext } from '../../reference/backend/index.js';
import { sendEmpty, sendJson } from '../../reference/backend/http-util.js';
import type { BackendMutant } from '../registry.js';
import { iso, subclassMutant } from './support.js';

const DAY = 86_400_000;

/** AK-01: the mint response carries the raw key as `key`, not `rawKey`. */
class MintResponseWithoutRawKey extends ReferenceBackend {
  protected override async handleMintKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can mint API keys');
      return;
    }
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const now = this.clock.now();
    const valid = this.validateMintBody(body.value, now);
    if (!valid.ok) {
      this.sendValidation(ctx, valid.fields);
      return;
    }
    const { record, rawKey } = await this.mintApiKey(principal.user.id, valid.name, valid.expiresAt, now);
    // The break: the secret is returned under another name.
    sendJson(ctx.res, 200, { id: record.id, name: record.name, key: rawKey, prefix: record.prefix, expiresAt: iso(record.expiresAt), createdAt: iso(record.createdAt) });
  }
}

/**
 * AK-02: a 401 echoes the credential it refused ("The access token ek_live_… is revoked"), so a
 * revoked or expired key comes back in an error body.
 */
class UnauthorizedEchoesCredential extends ReferenceBackend {
  protected override unauthorized(res: ServerResponse, presented: boolean, why: Rejection): void {
    if (!presented) {
      super.unauthorized(res, presented, why);
      return;
    }
    const token = /^bearer +(\S+)/i.exec(res.req.headers.authorization ?? '')?.[1] ?? '';
    sendJson(res, 401, { message: `The credential ${token} is ${why}` }, { 'WWW-Authenticate': `Bearer realm="ekso", error="invalid_token", error_description="${why}"` });
  }
}

/** AK-03: the listing shows each key's SHA-256 (the stored hash). */
/**
 * AK-03 + AK-02: the listing shows each key's raw value (kept, wrongly, since the mint). One
 * observation, two requirements: the listing shows key material, and the raw key comes back.
 */
class ListingShowsRawKey extends ReferenceBackend {
  private readonly rawById = new Map<string, string>();
  protected override async mintApiKey(userId: string, name: string, expiresAt: number | null, now: number): Promise<{ record: ApiKeyRecord; rawKey: string }> {
    const minted = await super.mintApiKey(userId, name, expiresAt, now);
    this.rawById.set(minted.record.id, minted.rawKey);
    return minted;
  }
  protected override listKeysView(keys: ApiKeyRecord[]) {
    return super.listKeysView(keys).map((view) => ({ ...view, ...(this.rawById.has(view.id) ? { key: this.rawById.get(view.id) } : {}) }));
  }
}

class ListingShowsHash extends ReferenceBackend {
  protected override listKeysView(keys: ApiKeyRecord[]) {
    return super.listKeysView(keys).map((view, i) => ({ ...view, hash: keys[i]!.hash }));
  }
}

/**
 * AK-04: the mint is answered before the key's hash index is written; an asynchronous indexer
 * catches up a second later. The record itself exists at once (so listing and revocation by id
 * work), only authentication with the fresh key fails. Keys seeded through the test hooks are not
 * affected (they do not go through the mint endpoint).
 */
class MintAnsweredBeforeIndexed extends ReferenceBackend {
  static readonly lagMs = 1_000;

  protected override async handleMintKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can mint API keys');
      return;
    }
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const now = this.clock.now();
    const valid = this.validateMintBody(body.value, now);
    if (!valid.ok) {
      this.sendValidation(ctx, valid.fields);
      return;
    }
    const rawKey = this.generateRawKey();
    const record = this.buildApiKeyRecord(rawKey, valid.name, principal.user.id, valid.expiresAt, now);
    // The break: stored under a placeholder hash; the real one is indexed later.
    await this.store.insertApiKey({ ...record, hash: `pending-${record.id}` });
    const store = this.store;
    const timer = setTimeout(() => {
      void (async () => {
        const current = await store.getApiKey(record.id);
        if (current) await store.insertApiKey({ ...current, hash: record.hash });
      })();
    }, MintAnsweredBeforeIndexed.lagMs);
    timer.unref();
    sendJson(ctx.res, 200, { id: record.id, name: record.name, rawKey, prefix: record.prefix, expiresAt: iso(record.expiresAt), createdAt: iso(record.createdAt) });
  }
}

/** AK-05: revocation does not check the caller's permission: a non-admin's key revokes keys. */
class RevokeWithoutPermissionCheck extends ReferenceBackend {
  protected override async handleRevokeKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const id = ctx.params[0] ?? '';
    if (!(await this.revokeApiKey(id, this.clock.now()))) {
      this.sendError(ctx, 422, 'Logic', 'No API key has that id');
      return;
    }
    sendEmpty(ctx.res, 204);
  }
}

/** AK-06: a key minted without expiresAt silently gets a default lifetime of 30 days. */
class DefaultKeyLifetime extends ReferenceBackend {
  protected override validateMintBody(body: unknown, now: number): { ok: true; name: string; expiresAt: number | null } | { ok: false; fields: FieldError[] } {
    const valid = super.validateMintBody(body, now);
    return valid.ok && valid.expiresAt === null ? { ...valid, expiresAt: now + 30 * DAY } : valid;
  }
}

/** AK-07: expiresAt is stored and listed but never enforced. */
class ExpiryNotEnforced extends ReferenceBackend {
  protected override isApiKeyUsable(key: ApiKeyRecord, _now: number): ApiKeyUsability {
    return key.revokedAt !== null ? 'revoked' : 'usable';
  }
}

/** AK-08: revocation is recorded but never checked. */
class KeyUsableAfterRevoke extends ReferenceBackend {
  protected override isApiKeyUsable(key: ApiKeyRecord, now: number): ApiKeyUsability {
    return super.isApiKeyUsable({ ...key, revokedAt: null }, now);
  }
}

/** AK-08: a cached "key is valid" answer outlives the revocation by 30 seconds. */
class RevocationCacheLag extends ReferenceBackend {
  protected override isApiKeyUsable(key: ApiKeyRecord, now: number): ApiKeyUsability {
    const revokedLongEnough = key.revokedAt !== null && now - key.revokedAt >= 30_000;
    return super.isApiKeyUsable({ ...key, revokedAt: revokedLongEnough ? key.revokedAt : null }, now);
  }
}

/** AK-09: revoking an already revoked key answers 422 instead of succeeding again. */
class RevokeNotIdempotent extends ReferenceBackend {
  protected override async revokeApiKey(id: string, now: number): Promise<boolean> {
    const key = await this.store.getApiKey(id);
    if (!key || key.revokedAt !== null) return false;
    return super.revokeApiKey(id, now);
  }
}

/**
 * AK-10: the revocation's WHERE clause matches the creator and the creation time
 * (`created_at >= the key's`) instead of the id: revoking a key also revokes every key the same
 * user minted after it.
 */
class RevokeCascadesToYoungerKeys extends ReferenceBackend {
  protected override async revokeApiKey(id: string, now: number): Promise<boolean> {
    const target = await this.store.getApiKey(id);
    if (!target) return false;
    for (const key of await this.store.listApiKeys()) {
      if (key.userId === target.userId && key.createdAt >= target.createdAt) await this.store.markApiKeyRevoked(key.id, now);
    }
    return true;
  }
}

/** AK-11: minting checks authentication but not the super-admin permission. */
class MintWithoutPermissionCheck extends ReferenceBackend {
  protected override async handleMintKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const now = this.clock.now();
    const valid = this.validateMintBody(body.value, now);
    if (!valid.ok) {
      this.sendValidation(ctx, valid.fields);
      return;
    }
    const { record, rawKey } = await this.mintApiKey(principal.user.id, valid.name, valid.expiresAt, now);
    sendJson(ctx.res, 200, { id: record.id, name: record.name, rawKey, prefix: record.prefix, expiresAt: iso(record.expiresAt), createdAt: iso(record.createdAt) });
  }
}

/** AK-12: validation errors are 400 Validation but name no field (`fields: []`). */
class ValidationWithoutFields extends ReferenceBackend {
  protected override errorBody(kind: ErrorKind, message: string, fields?: FieldError[]): Record<string, unknown> {
    return kind === 'Validation' ? { kind, message, fields: [] } : super.errorBody(kind, message, fields);
  }
}

/**
 * AK-13: keys carry 64 bits (`ek_live_` + 16 hex digits). Two overrides for one behaviour, the key
 * format: generation, and the lookup that must accept the format it generates.
 */
class ShortApiKeys extends ReferenceBackend {
  protected override generateRawKey(): string {
    return `ek_live_${randomBytes(8).toString('hex')}`;
  }

  protected override async findApiKey(raw: string): Promise<ApiKeyRecord | undefined> {
    if (!/^ek_live_[0-9a-f]{16}$/.test(raw)) return undefined;
    const key = await this.store.findApiKeyByHash(this.hashApiKey(raw));
    return key && key.hash === this.hashApiKey(raw) ? key : undefined;
  }
}

export const API_KEY_MUTANTS: readonly BackendMutant[] = [
  subclassMutant(
    { name: 'mint-response-without-rawkey', description: 'The mint response returns the raw key as `key` instead of `rawKey`', breaks: ['AK-01'] },
    MintResponseWithoutRawKey,
  ),
  subclassMutant(
    {
      name: 'error-echoes-credential',
      description: 'A 401 echoes the refused credential in its message, so a revoked or expired raw key comes back',
      breaks: ['AK-02'],
      modelledOn: 'OWASP "sensitive data in error messages" (CWE-209)',
    },
    UnauthorizedEchoesCredential,
  ),
  subclassMutant({ name: 'listing-shows-key-hash', description: "The key listing includes each key's stored SHA-256 hash", breaks: ['AK-03'] }, ListingShowsHash),
  subclassMutant(
    {
      name: 'listing-shows-raw-key',
      description: 'The key listing includes each raw key (kept since its mint): the listing shows key material and the raw key comes back',
      breaks: ['AK-03', 'AK-02'],
      modelledOn: 'admin UIs that list "the key" for copy-paste convenience (OWASP ASVS 2.10: secrets shown once)',
    },
    ListingShowsRawKey,
  ),
  subclassMutant(
    {
      name: 'mint-answered-before-indexed',
      description: "The mint is answered before the key's lookup index is written (indexed ~1 s later): a fresh key gets 401 at first",
      breaks: ['AK-04'],
      modelledOn: "an eventually consistent key index: the read-after-write gap Schemathesis' ensure_resource_availability check hunts (anchors §4, §11)",
    },
    MintAnsweredBeforeIndexed,
  ),
  subclassMutant(
    { name: 'revoke-without-permission-check', description: "Revocation checks authentication only: a non-admin user's key can revoke any key", breaks: ['AK-05'] },
    RevokeWithoutPermissionCheck,
  ),
  subclassMutant(
    { name: 'default-key-lifetime', description: 'A key minted without expiresAt silently expires after 30 days', breaks: ['AK-06'] },
    DefaultKeyLifetime,
  ),
  subclassMutant({ name: 'key-expiry-not-enforced', description: 'expiresAt is stored but never checked: expired keys keep working', breaks: ['AK-07'] }, ExpiryNotEnforced),
  subclassMutant({ name: 'key-usable-after-revoke', description: 'Revocation is recorded but never checked: revoked keys keep working', breaks: ['AK-08'] }, KeyUsableAfterRevoke),
  subclassMutant(
    {
      name: 'revocation-cache-lag',
      description: 'A cached "valid" answer outlives the revocation: a revoked key works for 30 more seconds',
      breaks: ['AK-08'],
      modelledOn: 'a positive-result auth cache that outlives revocation (anchors §11 key.use-after-revoke: refused at once, not after propagation)',
    },
    RevocationCacheLag,
  ),
  subclassMutant({ name: 'revoke-not-idempotent', description: 'Revoking an already revoked key answers 422 instead of succeeding again', breaks: ['AK-09'] }, RevokeNotIdempotent),
  subclassMutant(
    {
      name: 'revoke-cascades-to-younger-keys',
      description: "Revocation matches creator and created_at >= the key's instead of the id: later keys of the same user are revoked too",
      breaks: ['AK-10'],
    },
    RevokeCascadesToYoungerKeys,
  ),
  subclassMutant(
    { name: 'mint-without-permission-check', description: 'Minting checks authentication only: a non-admin user can mint keys', breaks: ['AK-11'] },
    MintWithoutPermissionCheck,
  ),
  subclassMutant(
    { name: 'validation-errors-without-fields', description: 'Validation errors are 400 Validation with an empty `fields` list: the offending field is not named', breaks: ['AK-12'] },
    ValidationWithoutFields,
  ),
  subclassMutant({ name: 'short-api-keys', description: 'Raw keys carry 64 bits: ek_live_ + 16 hex digits', breaks: ['AK-13'] }, ShortApiKeys),
];
