import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { InMemoryBackendStore, parseDateTime, type FamilyRecord, type RefreshTokenRecord } from '../../src/reference/backend/index.js';
import { signHs256, verifyHs256 } from '../../src/reference/backend/jwt.js';

function token(hash: string, familyId = 'f1', issuedAt = 0): RefreshTokenRecord {
  return { hash, familyId, issuedAt, supersededAt: null, successorHash: null, discardedAt: null };
}

async function storeWithFamily(): Promise<InMemoryBackendStore> {
  const store = new InMemoryBackendStore();
  const family: FamilyRecord = { id: 'f1', userId: 'admin', clientId: 'ekso-cli', marker: 'Cli', createdAt: 0, currentHash: 'h0', revokedAt: null, revokedReason: null };
  await store.insertFamily(family, token('h0'));
  return store;
}

describe('InMemoryBackendStore', () => {
  it('RT-07: consumeRefreshToken is atomic: of 8 concurrent consumptions exactly one rotates', async () => {
    const store = await storeWithFamily();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.consumeRefreshToken('h0', token(`h1-${i}`, ''), 1000)));
    expect(results.filter((r) => r.kind === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'replay')).toHaveLength(7);
    const family = await store.getFamily('f1');
    const winner = results.findIndex((r) => r.kind === 'rotated');
    expect(family?.currentHash).toBe(`h1-${winner}`);
    expect((await store.getRefreshToken(`h1-${winner}`))?.familyId).toBe('f1');
  });

  it('RT-03 (grace): only the immediately previous token, within the window, discarding the current one', async () => {
    const store = await storeWithFamily();
    expect((await store.consumeRefreshToken('h0', token('h1', ''), 1000, 5000)).kind).toBe('rotated');
    const grace = await store.consumeRefreshToken('h0', token('h2', ''), 3000, 5000);
    expect(grace).toMatchObject({ kind: 'grace', discardedHash: 'h1' });
    expect((await store.getFamily('f1'))?.currentHash).toBe('h2');
    // The discarded sibling is not "immediately previous": replay.
    expect((await store.consumeRefreshToken('h1', token('h3', ''), 3500, 5000)).kind).toBe('replay');
    // The window counts from the first rotation of h0 (1000), not from the retry.
    expect((await store.consumeRefreshToken('h0', token('h4', ''), 6001, 5000)).kind).toBe('replay');
    // Without a grace window the previous token is always a replay.
    const strict = await storeWithFamily();
    await strict.consumeRefreshToken('h0', token('h1', ''), 1000);
    expect((await strict.consumeRefreshToken('h0', token('h2', ''), 1001)).kind).toBe('replay');
  });

  it('revoked families and unknown tokens are reported, not rotated', async () => {
    const store = await storeWithFamily();
    expect((await store.consumeRefreshToken('nope', token('x', ''), 0)).kind).toBe('unknown');
    await store.revokeFamily('f1', 10, 'replay');
    await store.revokeFamily('f1', 20, 'other');
    expect(await store.getFamily('f1')).toMatchObject({ revokedAt: 10, revokedReason: 'replay' });
    expect((await store.consumeRefreshToken('h0', token('x', ''), 30)).kind).toBe('family-revoked');
    expect((await store.getFamily('f1'))?.currentHash).toBe('h0');
  });

  it('DF-02: claimDeviceCode redeems once, even concurrently', async () => {
    const store = new InMemoryBackendStore();
    await store.insertDeviceCode({ hash: 'd', userCode: 'BCDFGHJK', clientId: 'ekso-cli', createdAt: 0, expiresAt: 100, status: 'pending', userId: null, familyId: null });
    expect((await store.claimDeviceCode('d', 1, 'f')).kind).toBe('pending');
    expect(await store.decideDeviceCode('BCDFGHJK', 'approve', 'admin', 2)).toBe('approved');
    expect(await store.decideDeviceCode('BCDFGHJK', 'deny', 'admin', 3)).toBe('not-pending');
    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimDeviceCode('d', 4, 'f')));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'redeemed')).toHaveLength(4);
  });

  it('records handed out are copies', async () => {
    const store = await storeWithFamily();
    const family = await store.getFamily('f1');
    family!.revokedAt = 1;
    expect((await store.getFamily('f1'))?.revokedAt).toBeNull();
  });
});

describe('HS256 JWT helpers', () => {
  it('round-trips and refuses everything else', () => {
    const key = randomBytes(32);
    const jwt = signHs256({ sub: 'a' }, key);
    expect(verifyHs256(jwt, key)).toEqual({ ok: true, payload: { sub: 'a' } });
    expect(verifyHs256(jwt, randomBytes(32)).ok).toBe(false);
    const [h, p] = jwt.split('.');
    expect(verifyHs256(`${h}.${p}.`, key).ok).toBe(false);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    expect(verifyHs256(none, key)).toEqual({ ok: false, reason: 'algorithm not accepted' });
  });
});

describe('parseDateTime', () => {
  it('accepts RFC 3339 date-times and refuses impossible or partial dates', () => {
    expect(parseDateTime('2030-01-01T00:00:00Z')).toBe(Date.UTC(2030, 0, 1));
    expect(parseDateTime('2030-01-01T02:00:00.5+02:00')).toBe(Date.UTC(2030, 0, 1) + 500);
    for (const bad of ['2030-02-30T00:00:00Z', '2030-13-01T00:00:00Z', '2030-01-01', '2030-01-01T00:00:00', 'tomorrow', '2030-01-01T24:00:00Z', '']) {
      expect(parseDateTime(bad), bad).toBeNull();
    }
  });
});
