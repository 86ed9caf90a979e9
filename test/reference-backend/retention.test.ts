/**
 * The reference backend's retention (issue 13): what has been dead for a day of its clock is
 * purged — revoked keys (unless the listing shows them), codes past their expiry, revoked or
 * idled-out families with their refresh tokens — and presenting any of it afterwards gets the same
 * status and error code as before the purge. Live records are never touched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBackendStore, ManualClock, ReferenceBackend, RETENTION_MS, type ReferenceBackendOptions } from '../../src/reference/backend/index.js';
import { form, get, hookToken, json, mintKey, refresh, request } from './helpers.js';

/** Looks for the dead at every issued token, code or key (the default is every 1,000). */
class EagerPurge extends ReferenceBackend {
  protected override readonly purgeEvery = 1;
}

/** A store that says how many records it holds: the proof that the purge did purge. */
class CountingStore extends InMemoryBackendStore {
  sizes() {
    return { keys: this.apiKeys.size, families: this.families.size, refreshTokens: this.refreshTokens.size, deviceCodes: this.deviceCodes.size };
  }
}

const DAY = 24 * 3600 * 1000;
let backend: EagerPurge | undefined;
let store: CountingStore;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

async function start(options: ReferenceBackendOptions = {}): Promise<{ baseUrl: string; clock: ManualClock; admin: string }> {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  store = new CountingStore();
  backend = new EagerPurge({ testHooks: true, clock, store, ...options });
  const { baseUrl } = await backend.listen(0);
  return { baseUrl, clock, admin: backend.bootstrap.adminKey };
}

const revoke = (baseUrl: string, admin: string, id: string) => request(baseUrl, `/api/admin/api-key/${id}/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${admin}` } });

describe('reference backend: retention', () => {
  it('a key revoked a day ago is purged: its use is still 401, revoking it again still succeeds (AK-09)', async () => {
    const { baseUrl, clock, admin } = await start();
    const old = (await mintKey(baseUrl, admin, { name: 'old' })).json;
    const kept = (await mintKey(baseUrl, admin, { name: 'kept' })).json;
    expect((await revoke(baseUrl, admin, old.id)).status).toBe(204);
    const revokedUse = await get(baseUrl, '/api/field', old.rawKey);
    clock.advance(RETENTION_MS + DAY);
    const before = store.sizes().keys;
    await mintKey(baseUrl, admin, { name: 'a mint looks for the dead' });
    expect(store.sizes().keys).toBe(before); // one minted, one purged
    const purgedUse = await get(baseUrl, '/api/field', old.rawKey);
    expect([revokedUse.status, purgedUse.status]).toEqual([401, 401]);
    expect(purgedUse.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await revoke(baseUrl, admin, old.id)).status).toBe(204);
    // The live key is untouched.
    expect((await get(baseUrl, '/api/field', kept.rawKey)).status).toBe(200);
    expect((await revoke(baseUrl, admin, 'never-minted')).status).toBe(422);
  });

  it('a key revoked less than a day ago is kept (revoking it again answers as before)', async () => {
    const { baseUrl, clock, admin } = await start({ listRevokedKeys: true });
    const key = (await mintKey(baseUrl, admin, { name: 'recent' })).json;
    await revoke(baseUrl, admin, key.id);
    clock.advance(RETENTION_MS - 60_000);
    await mintKey(baseUrl, admin, { name: 'a mint looks for the dead' });
    const listed = (await get(baseUrl, '/api/admin/api-key', admin)).json.find((k: any) => k.id === key.id);
    expect(listed?.revokedAt).not.toBeNull();
  });

  it('with the audit-style listing (listRevokedKeys) no revoked key is ever purged', async () => {
    const { baseUrl, clock, admin } = await start({ listRevokedKeys: true });
    const key = (await mintKey(baseUrl, admin, { name: 'audited' })).json;
    await revoke(baseUrl, admin, key.id);
    clock.advance(30 * DAY);
    await mintKey(baseUrl, admin, { name: 'a mint looks for the dead' });
    const listed = (await get(baseUrl, '/api/admin/api-key', admin)).json.find((k: any) => k.id === key.id);
    expect(Date.parse(listed.revokedAt)).toBe(clock.now() - 30 * DAY);
  });

  it('a family idled out a day ago is purged: its refresh token is still invalid_grant, its access token still 401', async () => {
    const { baseUrl, clock } = await start({ refreshIdleWindowSeconds: 3600 });
    const dead = await hookToken(baseUrl, 'Cli');
    expect(store.sizes()).toMatchObject({ families: 1, refreshTokens: 1 });
    clock.advance(3600 * 1000 + RETENTION_MS + DAY);
    const live = await hookToken(baseUrl, 'Cli');
    await hookToken(baseUrl, 'Web'); // one more issue, after `live`: looks for the dead again
    expect(store.sizes()).toMatchObject({ families: 2, refreshTokens: 2 }); // `dead` is gone
    const answer = await refresh(baseUrl, dead.refresh_token, 'ekso-cli');
    expect([answer.status, answer.json.error]).toEqual([400, 'invalid_grant']);
    expect((await get(baseUrl, '/api/field', dead.access_token)).status).toBe(401);
    // The family issued after the purge lives on.
    expect((await refresh(baseUrl, live.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('a family revoked by a replay less than a day ago is kept: its newest token still says revoked', async () => {
    const { baseUrl, clock } = await start();
    const family = await hookToken(baseUrl, 'Cli');
    const next = (await refresh(baseUrl, family.refresh_token, 'ekso-cli')).json;
    expect((await refresh(baseUrl, family.refresh_token, 'ekso-cli')).json.error).toBe('invalid_grant');
    clock.advance(DAY / 2);
    await hookToken(baseUrl, 'Cli');
    expect(store.sizes().families).toBe(2);
    const newest = await refresh(baseUrl, next.refresh_token, 'ekso-cli');
    expect([newest.status, newest.json.error_description]).toEqual([400, 'refresh token revoked']);
  });

  it('a device code expired a day ago is purged (then invalid_grant); one expired minutes ago still says expired_token (DF-03)', async () => {
    const { baseUrl, clock } = await start();
    const start1 = (await form(baseUrl, '/device_authorization', { client_id: 'ekso-cli' })).json;
    clock.advance(601_000);
    await form(baseUrl, '/device_authorization', { client_id: 'ekso-cli' });
    const poll = (code: string) => form(baseUrl, '/token', { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: code, client_id: 'ekso-cli' });
    expect((await poll(start1.device_code)).json.error).toBe('expired_token');
    expect(store.sizes().deviceCodes).toBe(2);
    clock.advance(RETENTION_MS + DAY);
    await form(baseUrl, '/device_authorization', { client_id: 'ekso-cli' });
    expect(store.sizes().deviceCodes).toBe(1); // both earlier ones are gone
    const purged = await poll(start1.device_code);
    expect([purged.status, purged.json.error]).toEqual([400, 'invalid_grant']);
    // Approving it by its user code finds nothing either.
    expect((await json(baseUrl, 'POST', '/__conformance/device/approve', { user_code: start1.user_code, decision: 'approve', user: 'admin' })).status).not.toBe(200);
  });
});
