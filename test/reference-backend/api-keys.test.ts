import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { InMemoryBackendStore } from '../../src/reference/backend/index.js';
import { get, json, mintKey, request, start, type Started } from './helpers.js';

let s: Started;
beforeEach(async () => {
  s = await start();
});
afterEach(async () => {
  await s.close();
});

describe('reference backend: API keys', () => {
  it('AK-01: a super-admin mints a key; rawKey begins ek_live_ and the id revokes it', async () => {
    const reply = await mintKey(s.baseUrl, s.admin, { name: 'CI deploy bot', expiresAt: null });
    expect(reply.status).toBe(200);
    const body = reply.json;
    expect(body.rawKey).toMatch(/^ek_live_[A-Za-z0-9_-]{43}$/);
    expect(typeof body.id).toBe('string');
    expect(body).toMatchObject({ name: 'CI deploy bot', expiresAt: null });
    expect(body.prefix).toBe(body.rawKey.slice(0, 12));
    expect(Date.parse(body.createdAt)).toBe(s.clock.now());
    const revoke = await request(s.baseUrl, `/api/admin/api-key/${body.id}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${s.admin}` } });
    expect(revoke.status).toBe(204);
    expect((await get(s.baseUrl, '/api/field', body.rawKey)).status).toBe(401);
  });

  it('AK-02: the raw key appears in no later response (listing, errors, other endpoints)', async () => {
    const minted = (await mintKey(s.baseUrl, s.admin)).json;
    const raw: string = minted.rawKey;
    const secretPart = raw.slice('ek_live_'.length);
    const later = [
      await get(s.baseUrl, '/api/admin/api-key', s.admin),
      await get(s.baseUrl, '/api/admin/api-key', raw),
      await get(s.baseUrl, '/api/field', raw),
      await mintKey(s.baseUrl, raw, { name: '' }),
      await mintKey(s.baseUrl, `${raw}x`),
      await json(s.baseUrl, 'PUT', '/api/field/list', { id: 'fld_priority', name: raw }, raw),
      await request(s.baseUrl, `/api/admin/api-key/${minted.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${raw}` } }),
      await get(s.baseUrl, '/api/field', raw),
      await get(s.baseUrl, '/api/admin/api-key', s.admin),
    ];
    for (const reply of later) {
      expect(reply.text).not.toContain(secretPart);
      expect(JSON.stringify(reply.headers)).not.toContain(secretPart);
    }
  });

  it('AK-03: the listing shows neither raw keys nor their hashes, newest first', async () => {
    const first = (await mintKey(s.baseUrl, s.admin, { name: 'first' })).json;
    s.clock.advance(1000);
    const second = (await mintKey(s.baseUrl, s.admin, { name: 'second' })).json;
    const listing = await get(s.baseUrl, '/api/admin/api-key', s.admin);
    expect(listing.status).toBe(200);
    expect(Array.isArray(listing.json)).toBe(true);
    expect(listing.json[0].id).toBe(second.id);
    expect(listing.json[1].id).toBe(first.id);
    for (const minted of [first, second]) {
      const sha = createHash('sha256').update(minted.rawKey).digest();
      expect(listing.text).not.toContain(minted.rawKey.slice(8));
      expect(listing.text).not.toContain(sha.toString('hex'));
      expect(listing.text).not.toContain(sha.toString('base64'));
      expect(listing.text).not.toContain(sha.toString('base64url'));
    }
    expect(Object.keys(listing.json[0]).sort()).toEqual(['createdAt', 'createdBy', 'expiresAt', 'id', 'name', 'prefix', 'revokedAt']);
    expect(listing.json[0].createdBy).toBe('admin');
  });

  it('AK-04: a minted key authenticates at once', async () => {
    const raw = (await mintKey(s.baseUrl, s.admin)).json.rawKey;
    expect((await get(s.baseUrl, '/api/field', raw)).status).toBe(200);
  });

  it("AK-05: a super-admin's key can mint and revoke; a non-admin's key cannot", async () => {
    const adminsKey = (await mintKey(s.baseUrl, s.admin)).json.rawKey;
    const minted = await mintKey(s.baseUrl, adminsKey, { name: 'by a key' });
    expect(minted.status).toBe(200);
    const revoke = await request(s.baseUrl, `/api/admin/api-key/${minted.json.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminsKey}` } });
    expect(revoke.status).toBe(204);

    const hooked = await json(s.baseUrl, 'POST', '/__conformance/api-key', { user: 'user', name: 'non-admin key' });
    expect(hooked.status).toBe(200);
    const usersKey = hooked.json.rawKey;
    expect((await get(s.baseUrl, '/api/field', usersKey)).status).toBe(200);
    const refused = await mintKey(s.baseUrl, usersKey);
    expect(refused.status).toBe(403);
    expect(refused.json.kind).toBe('Permission');
    const revokeRefused = await request(s.baseUrl, `/api/admin/api-key/${hooked.json.id}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${usersKey}` } });
    expect(revokeRefused.status).toBe(403);
    expect((await get(s.baseUrl, '/api/field', usersKey)).status).toBe(200);
  });

  it('AK-06: a key without expiresAt does not expire on a timer', async () => {
    const raw = (await mintKey(s.baseUrl, s.admin, { name: 'forever' })).json.rawKey;
    s.clock.advance(10 * 365 * 86_400_000);
    expect((await get(s.baseUrl, '/api/field', raw)).status).toBe(200);
  });

  it('AK-07: a key with expiresAt works before that instant and gets 401 (expired) after it', async () => {
    const expiresAt = new Date(s.clock.now() + 60_000).toISOString();
    const minted = (await mintKey(s.baseUrl, s.admin, { name: 'short', expiresAt })).json;
    expect(minted.expiresAt).toBe(expiresAt);
    s.clock.advance(59_999);
    expect((await get(s.baseUrl, '/api/field', minted.rawKey)).status).toBe(200);
    s.clock.advance(1);
    const after = await get(s.baseUrl, '/api/field', minted.rawKey);
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toBe('Bearer realm="ekso", error="invalid_token", error_description="expired"');
  });

  it('AK-07: expiry also follows the clock hook', async () => {
    const minted = (await mintKey(s.baseUrl, s.admin, { name: 'short', expiresAt: new Date(s.clock.now() + 5000).toISOString() })).json;
    const moved = await json(s.baseUrl, 'POST', '/__conformance/clock', { advanceMs: 5000 });
    expect(moved.status).toBe(200);
    expect(Date.parse(moved.json.now)).toBe(s.clock.now());
    expect((await get(s.baseUrl, '/api/field', minted.rawKey)).status).toBe(401);
  });

  it('AK-08: after revocation (POST …/revoke or DELETE) the very next request gets 401 revoked', async () => {
    for (const style of ['post', 'delete'] as const) {
      const minted = (await mintKey(s.baseUrl, s.admin)).json;
      expect((await get(s.baseUrl, '/api/field', minted.rawKey)).status).toBe(200);
      const path = style === 'post' ? `/api/admin/api-key/${minted.id}/revoke` : `/api/admin/api-key/${minted.id}`;
      const revoked = await request(s.baseUrl, path, { method: style === 'post' ? 'POST' : 'DELETE', headers: { Authorization: `Bearer ${s.admin}` } });
      expect(revoked.status).toBe(204);
      const after = await get(s.baseUrl, '/api/field', minted.rawKey);
      expect(after.status).toBe(401);
      expect(after.headers['www-authenticate']).toContain('error_description="revoked"');
    }
    // Revocation is a soft delete: hidden from the default listing.
    const listing = await get(s.baseUrl, '/api/admin/api-key', s.admin);
    expect(listing.status).toBe(200);
    expect(listing.json.filter((k: any) => k.revokedAt !== null)).toEqual([]);
    expect(listing.json.map((k: any) => k.name).sort()).toEqual(['bootstrap super-admin key', 'bootstrap user key']);
  });

  it('listRevokedKeys: the audit-style listing keeps revoked keys, with their revokedAt', async () => {
    const audit = await start({ listRevokedKeys: true });
    try {
      const kept = (await mintKey(audit.baseUrl, audit.admin, { name: 'kept' })).json;
      const gone = (await mintKey(audit.baseUrl, audit.admin, { name: 'gone' })).json;
      expect((await request(audit.baseUrl, `/api/admin/api-key/${gone.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${audit.admin}` } })).status).toBe(204);
      const listing = (await get(audit.baseUrl, '/api/admin/api-key', audit.admin)).json;
      expect(listing.find((k: any) => k.id === kept.id).revokedAt).toBeNull();
      expect(Date.parse(listing.find((k: any) => k.id === gone.id).revokedAt)).toBe(audit.clock.now());
    } finally {
      await audit.close();
    }
  });

  it('AK-09: revoking twice succeeds again; an unknown id is 422 Logic, never 5xx', async () => {
    // Audit-style listing, to see that the first revocation's time is kept.
    await s.close();
    s = await start({ listRevokedKeys: true });
    const minted = (await mintKey(s.baseUrl, s.admin)).json;
    const auth = { Authorization: `Bearer ${s.admin}` };
    expect((await request(s.baseUrl, `/api/admin/api-key/${minted.id}/revoke`, { method: 'POST', headers: auth })).status).toBe(204);
    s.clock.advance(1000);
    expect((await request(s.baseUrl, `/api/admin/api-key/${minted.id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    const listed = (await get(s.baseUrl, '/api/admin/api-key', s.admin)).json.find((k: any) => k.id === minted.id);
    expect(Date.parse(listed.revokedAt)).toBe(s.clock.now() - 1000);
    for (const id of ['no-such-id', '00000000-0000-0000-0000-000000000000', '%E2%98%83', 'a'.repeat(500)]) {
      const reply = await request(s.baseUrl, `/api/admin/api-key/${id}/revoke`, { method: 'POST', headers: auth });
      expect(reply.status).toBe(422);
      expect(reply.json.kind).toBe('Logic');
    }
  });

  it('AK-10: minting, revoking or expiring one key never changes another', async () => {
    const keep = (await mintKey(s.baseUrl, s.admin, { name: 'keep' })).json.rawKey;
    const other = (await mintKey(s.baseUrl, s.admin, { name: 'other', expiresAt: new Date(s.clock.now() + 1000).toISOString() })).json;
    const third = (await mintKey(s.baseUrl, s.admin, { name: 'third' })).json;
    await request(s.baseUrl, `/api/admin/api-key/${third.id}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${s.admin}` } });
    s.clock.advance(2000);
    expect((await get(s.baseUrl, '/api/field', other.rawKey)).status).toBe(401);
    expect((await get(s.baseUrl, '/api/field', third.rawKey)).status).toBe(401);
    expect((await get(s.baseUrl, '/api/field', keep)).status).toBe(200);
    expect((await get(s.baseUrl, '/api/field', s.admin)).status).toBe(200);
    expect((await get(s.baseUrl, '/api/field', s.user)).status).toBe(200);
  });

  it('AK-11: a non-admin gets 403 Permission and no key is created', async () => {
    const before = (await get(s.baseUrl, '/api/admin/api-key', s.admin)).json.length;
    const refused = await mintKey(s.baseUrl, s.user, { name: 'sneaky' });
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ kind: 'Permission', message: expect.any(String) });
    const token = (await json(s.baseUrl, 'POST', '/__conformance/token', { marker: 'Web', user: 'user' })).json.access_token;
    expect((await mintKey(s.baseUrl, token, { name: 'sneaky' })).status).toBe(403);
    expect((await get(s.baseUrl, '/api/admin/api-key', s.user)).status).toBe(403);
    expect((await get(s.baseUrl, '/api/admin/api-key', s.admin)).json.length).toBe(before);
  });

  it('AK-12: invalid mint bodies get 400 Validation naming the field, and create no key', async () => {
    const before = (await get(s.baseUrl, '/api/admin/api-key', s.admin)).json.length;
    const cases: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: null }, 'name'],
      [{ name: 42 }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 'ok', expiresAt: 'not-a-date' }, 'expiresAt'],
      [{ name: 'ok', expiresAt: '2031-02-30T00:00:00Z' }, 'expiresAt'],
      [{ name: 'ok', expiresAt: 1234567890 }, 'expiresAt'],
      [{ name: 'ok', expiresAt: '' }, 'expiresAt'],
      [{ name: 'ok', expiresAt: new Date(s.clock.now() - 1000).toISOString() }, 'expiresAt'],
      [{ name: 'ok', expiresAt: new Date(s.clock.now()).toISOString() }, 'expiresAt'],
      [[], 'body'],
      ['just a string', 'body'],
    ];
    for (const [body, field] of cases) {
      const reply = await mintKey(s.baseUrl, s.admin, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.json.kind).toBe('Validation');
      expect(reply.json.fields.map((f: any) => f.field)).toContain(field);
      for (const f of reply.json.fields) expect(typeof f.code).toBe('string');
    }
    expect((await get(s.baseUrl, '/api/admin/api-key', s.admin)).json.length).toBe(before);
  });

  it('AK-13: keys never repeat and carry >= 192 bits after ek_live_', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const raw: string = (await mintKey(s.baseUrl, s.admin, { name: `k${i}` })).json.rawKey;
      const secret = raw.slice('ek_live_'.length);
      expect(secret.length * 6).toBeGreaterThanOrEqual(192);
      expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(seen.has(raw)).toBe(false);
      seen.add(raw);
    }
  });

  it('AK-02/AK-03: only SHA-256 hashes of keys are stored', async () => {
    const store = new InMemoryBackendStore();
    const t = await start({ store });
    try {
      const raw = (await mintKey(t.baseUrl, t.admin, { name: 'hashed' })).json.rawKey as string;
      const keys = await store.listApiKeys();
      const dump = JSON.stringify(keys);
      expect(dump).not.toContain(raw.slice(8, 20));
      expect(dump).toContain(createHash('sha256').update(raw).digest('hex'));
    } finally {
      await t.close();
    }
  });
});
