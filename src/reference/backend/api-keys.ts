/** The API-key endpoints of the reference backend (AK-*): mint, list, revoke. */
import { type ApiKeyRecord } from './store.js';
import { isPlainObject, sendEmpty, sendJson, sendJsonText } from './http-util.js';
import { parseDateTime } from './datetime.js';
import type { ApiKeyView, FieldError, Principal, RequestContext } from './types.js';
import { iso } from './shared.js';
import { BackendCore } from './core.js';

export abstract class ApiKeyEndpoints extends BackendCore {

  /** Mints a key for `userId`; the raw key is returned to the caller and never stored. */
  protected async mintApiKey(userId: string, name: string, expiresAt: number | null, now: number): Promise<{ record: ApiKeyRecord; rawKey: string }> {
    const rawKey = this.generateRawKey();
    const record = this.buildApiKeyRecord(rawKey, name, userId, expiresAt, now);
    await this.store.insertApiKey(record);
    await this.noteIssued(now);
    return { record, rawKey };
  }

  /** Counts an issued token, code or key, and now and then purges the long dead (tokens.ts). */
  protected abstract noteIssued(now: number): Promise<void>;

  /** Revokes a key (idempotent, AK-09); false for an unknown id. */
  protected async revokeApiKey(id: string, now: number): Promise<boolean> {
    // A hidden key's view is never listed again: drop it (a deep run revokes thousands).
    if (!this.listRevokedKeys) this.keyViews.delete(id);
    return (await this.store.markApiKeyRevoked(id, now)) !== undefined;
  }

  /** AK-11: only a super-admin mints, lists and revokes keys (AK-05: keys carry that right). */
  protected canMint(principal: Principal): boolean {
    return principal.user.superAdmin;
  }

  /**
   * AK-03: neither raw keys nor hashes; newest first as the store returns them. Each key's view is
   * kept until the key changes: a deep run lists thousands of keys hundreds of times (issue 13).
   */
  protected listKeysView(keys: ApiKeyRecord[]): ApiKeyView[] {
    return keys.map((key) => {
      const kept = this.keyViews.get(key.id);
      if (kept && kept.revokedAt === key.revokedAt && kept.expiresAt === key.expiresAt) return kept.view;
      const view: ApiKeyView = {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        createdAt: iso(key.createdAt) as string,
        expiresAt: iso(key.expiresAt),
        revokedAt: iso(key.revokedAt),
        createdBy: key.userId,
      };
      this.keyViews.set(key.id, { revokedAt: key.revokedAt, expiresAt: key.expiresAt, view });
      return view;
    });
  }
  private readonly keyViews = new Map<string, { revokedAt: number | null; expiresAt: number | null; view: ApiKeyView }>();

  /** Validates a mint body (AK-12); returns the field errors or the parsed values. */
  protected validateMintBody(body: unknown, now: number): { ok: true; name: string; expiresAt: number | null } | { ok: false; fields: FieldError[] } {
    if (!isPlainObject(body)) return { ok: false, fields: [{ field: 'body', code: 'invalid' }] };
    const fields: FieldError[] = [];
    let name = '';
    if (body.name === undefined || body.name === null || (typeof body.name === 'string' && body.name.trim() === '')) {
      fields.push({ field: 'name', code: 'required' });
    } else if (typeof body.name !== 'string') {
      fields.push({ field: 'name', code: 'invalid' });
    } else if (body.name.trim().length > 200) {
      fields.push({ field: 'name', code: 'tooLong' });
    } else {
      name = body.name.trim();
    }
    let expiresAt: number | null = null;
    const raw = body.expiresAt;
    if (raw !== undefined && raw !== null) {
      const parsed = typeof raw === 'string' ? parseDateTime(raw) : null;
      if (parsed === null) fields.push({ field: 'expiresAt', code: 'invalid' });
      else if (parsed <= now) fields.push({ field: 'expiresAt', code: 'past' });
      else expiresAt = parsed;
    }
    return fields.length > 0 ? { ok: false, fields } : { ok: true, name, expiresAt };
  }

  protected async handleMintKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    // Choice: permission is checked before the body, so a refused caller learns nothing more
    // (and AK-11 holds whatever it sends).
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
    sendJson(ctx.res, 200, {
      id: record.id,
      name: record.name,
      rawKey,
      prefix: record.prefix,
      expiresAt: iso(record.expiresAt),
      createdAt: iso(record.createdAt),
    });
  }

  protected async handleListKeys(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    // Choice: listing keys is a super-admin operation like minting.
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can list API keys');
      return;
    }
    const keys = await this.store.listApiKeys({ includeRevoked: this.listRevokedKeys });
    sendJsonText(ctx.res, 200, this.listingJson(this.listKeysView(keys)));
  }

  /**
   * `JSON.stringify(views)`, each view serialized once: the views of unchanged keys are the same
   * objects from one listing to the next (`listKeysView`), and a deep run lists thousands of keys
   * hundreds of times (issue 13).
   */
  private listingJson(views: ApiKeyView[]): string {
    return `[${views
      .map((view) => {
        let json = this.viewJson.get(view);
        if (json === undefined) this.viewJson.set(view, (json = JSON.stringify(view)));
        return json;
      })
      .join(',')}]`;
  }
  private readonly viewJson = new WeakMap<ApiKeyView, string>();

  protected async handleRevokeKey(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    if (!this.canMint(principal)) {
      this.sendError(ctx, 403, 'Permission', 'Only a super-admin can revoke API keys');
      return;
    }
    const id = ctx.params[0] ?? '';
    if (!(await this.revokeApiKey(id, this.clock.now()))) {
      this.sendError(ctx, 422, 'Logic', 'No API key has that id');
      return;
    }
    sendEmpty(ctx.res, 204);
  }
}
