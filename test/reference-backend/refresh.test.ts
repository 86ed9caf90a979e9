import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBackendStore, ReferenceBackend, parsePolicy, type ConsumeResult, type RefreshTokenRecord } from '../../src/reference/backend/index.js';
import { decodeJwtPayload, form, get, hookToken, refresh, request, start, type Pair, type Started } from './helpers.js';

let s: Started | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function rotate(baseUrl: string, pair: Pair, clientId: string): Promise<Pair> {
  const reply = await refresh(baseUrl, pair.refresh_token, clientId);
  if (reply.status !== 200) throw new Error(`refresh failed: ${reply.status} ${reply.text}`);
  return reply.json as Pair;
}

describe('reference backend: refresh tokens', () => {
  it('RT-01: refresh returns a new access token and a new refresh token in the RFC 6749 §5.1 shape', async () => {
    s = await start();
    for (const [marker, clientId] of [['Cli', 'ekso-cli'], ['Web', 'ekso-web']] as const) {
      const pair = await hookToken(s.baseUrl, marker);
      const reply = await refresh(s.baseUrl, pair.refresh_token, clientId);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(reply.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, refresh_token: expect.any(String) });
      expect(reply.json.refresh_token).not.toBe(pair.refresh_token);
      expect(reply.json.access_token).not.toBe(pair.access_token);
      expect(reply.json.refresh_token).toMatch(/^ekso_rt_[A-Za-z0-9_-]{43}$/);
      expect((await get(s.baseUrl, '/api/field', reply.json.access_token)).status).toBe(200);
    }
  });

  it('RT-02: an access token works until it expires and gets 401 (expired) afterwards', async () => {
    s = await start({ accessTokenTtlSeconds: 60 });
    const pair = await hookToken(s.baseUrl, 'Cli');
    expect(pair.expires_in).toBe(60);
    const claims = decodeJwtPayload(pair.access_token);
    expect(claims).toMatchObject({ iss: 'Ekso', aud: 'Ekso', sub: 'admin', client_id: 'ekso-cli', EksoClient: 'Cli' });
    expect(claims.exp - claims.iat).toBe(60);
    s.clock.advance(59_000);
    expect((await get(s.baseUrl, '/api/field', pair.access_token)).status).toBe(200);
    s.clock.advance(1_000);
    const after = await get(s.baseUrl, '/api/field', pair.access_token);
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toBe('Bearer realm="ekso", error="invalid_token", error_description="expired"');
  });

  it('RT-03: after a rotation the superseded refresh token fails with 400 invalid_grant', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Cli');
    await rotate(s.baseUrl, pair, 'ekso-cli');
    const again = await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli');
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('invalid_grant');
  });

  it('RT-04: a replay revokes the whole family (the newest refresh token fails afterwards)', async () => {
    s = await start();
    const first = await hookToken(s.baseUrl, 'Web');
    const second = await rotate(s.baseUrl, first, 'ekso-web');
    const third = await rotate(s.baseUrl, second, 'ekso-web');
    expect((await refresh(s.baseUrl, first.refresh_token, 'ekso-web')).json.error).toBe('invalid_grant');
    const newest = await refresh(s.baseUrl, third.refresh_token, 'ekso-web');
    expect(newest.status).toBe(400);
    expect(newest.json.error).toBe('invalid_grant');
  });

  it('RT-05: after replay detection the access tokens of the family are rejected (revoked)', async () => {
    s = await start();
    const first = await hookToken(s.baseUrl, 'Cli');
    const second = await rotate(s.baseUrl, first, 'ekso-cli');
    expect((await get(s.baseUrl, '/api/field', second.access_token)).status).toBe(200);
    await refresh(s.baseUrl, first.refresh_token, 'ekso-cli');
    for (const token of [first.access_token, second.access_token]) {
      const reply = await get(s.baseUrl, '/api/field', token);
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toContain('error_description="revoked"');
    }
  });

  it('RT-06: replay, expiry or revocation in one family never affects another family of the same user', async () => {
    s = await start({ refreshIdleWindowSeconds: 100 });
    const victim = await hookToken(s.baseUrl, 'Cli');
    const bystander = await hookToken(s.baseUrl, 'Cli');
    const idle = await hookToken(s.baseUrl, 'Web');
    await rotate(s.baseUrl, victim, 'ekso-cli');
    await refresh(s.baseUrl, victim.refresh_token, 'ekso-cli'); // replay: family revoked
    s.clock.advance(60_000);
    const bystanderNext = await rotate(s.baseUrl, bystander, 'ekso-cli');
    s.clock.advance(60_000); // `idle` is now past its window, `bystanderNext` is not
    expect((await refresh(s.baseUrl, idle.refresh_token, 'ekso-web')).status).toBe(400);
    expect((await get(s.baseUrl, '/api/field', bystanderNext.access_token)).status).toBe(200);
    expect((await refresh(s.baseUrl, bystanderNext.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('RT-07: 8 concurrent refreshes of one token on separate connections: exactly one succeeds (strict)', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Cli');
    const base = s.baseUrl;
    const replies = await Promise.all(Array.from({ length: 8 }, () => refresh(base, pair.refresh_token, 'ekso-cli')));
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of replies) if (r.status !== 200) expect(r.json.error).toBe('invalid_grant');
    // The losers were replays: the family, winner included, is revoked — no fork survives.
    expect((await refresh(base, ok[0]!.json.refresh_token, 'ekso-cli')).status).toBe(400);
  });

  it('RT-07: the rotation is atomic even when the store is slow', async () => {
    // A store whose every call yields to the event loop first: without an atomic
    // consumeRefreshToken, concurrent rotations would interleave between check and write.
    class SlowStore extends InMemoryBackendStore {
      override async getRefreshToken(hash: string) {
        await new Promise((r) => setTimeout(r, 5));
        return super.getRefreshToken(hash);
      }
      override async getFamily(id: string) {
        await new Promise((r) => setTimeout(r, 5));
        return super.getFamily(id);
      }
    }
    s = await start({ store: new SlowStore() });
    const pair = await hookToken(s.baseUrl, 'Web');
    const base = s.baseUrl;
    const replies = await Promise.all(Array.from({ length: 8 }, () => refresh(base, pair.refresh_token, 'ekso-web')));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('RT-07: the concurrency test is sensitive: a check-then-act rotation (mutant style) forks', async () => {
    // What a mutant does: override the one protected method and split the atomic step into
    // get, await, set. The same 8-way test must then see more than one success.
    class RacyBackend extends ReferenceBackend {
      protected override async consumeRefreshToken(hash: string, successor: RefreshTokenRecord, now: number): Promise<ConsumeResult> {
        const token = await this.store.getRefreshToken(hash);
        const family = token && (await this.store.getFamily(token.familyId));
        if (!token || !family) return { kind: 'unknown' };
        if (family.revokedAt !== null) return { kind: 'family-revoked', token, family };
        if (family.currentHash !== token.hash) return { kind: 'replay', token, family };
        await new Promise((r) => setTimeout(r, 50)); // the database round trip
        await this.store.putRefreshToken({ ...token, supersededAt: now, successorHash: successor.hash });
        await this.store.putRefreshToken({ ...successor, familyId: family.id });
        await this.store.putFamily({ ...family, currentHash: successor.hash });
        return { kind: 'rotated', token, family };
      }
    }
    const backend = new RacyBackend({ testHooks: true });
    const { baseUrl } = await backend.listen(0);
    try {
      const pair = await hookToken(baseUrl, 'Cli');
      const replies = await Promise.all(Array.from({ length: 8 }, () => refresh(baseUrl, pair.refresh_token, 'ekso-cli')));
      expect(replies.filter((r) => r.status === 200).length).toBeGreaterThan(1);
    } finally {
      await backend.close();
    }
  });

  it('RT-07 (grace): concurrent retries leave a single live successor', async () => {
    s = await start({ refreshPolicy: parsePolicy('grace=10') });
    const pair = await hookToken(s.baseUrl, 'Cli');
    const base = s.baseUrl;
    const replies = await Promise.all(Array.from({ length: 8 }, () => refresh(base, pair.refresh_token, 'ekso-cli')));
    const successes = replies.filter((r) => r.status === 200).map((r) => r.json as Pair);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    // Exactly one of the returned refresh tokens is live: check each (a dead one would be a
    // replay that revokes the family, so probe through the store instead of the endpoint).
    const live = [];
    for (const p of successes) {
      const store = (s.backend as any).store as InMemoryBackendStore;
      const { createHash } = await import('node:crypto');
      const rec = await store.getRefreshToken(createHash('sha256').update(p.refresh_token).digest('hex'));
      const fam = rec && (await store.getFamily(rec.familyId));
      if (rec && fam && fam.currentHash === rec.hash && fam.revokedAt === null) live.push(p);
    }
    expect(live).toHaveLength(1);
    expect((await refresh(base, live[0]!.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('RT-03 (grace): only the immediately previous token, only within the window', async () => {
    s = await start({ refreshPolicy: { kind: 'grace', seconds: 30 } });
    const first = await hookToken(s.baseUrl, 'Web');
    const second = await rotate(s.baseUrl, first, 'ekso-web');
    s.clock.advance(10_000);
    // Within 30 s: the retry with the previous token succeeds and returns a fresh pair.
    const retry = await refresh(s.baseUrl, first.refresh_token, 'ekso-web');
    expect(retry.status).toBe(200);
    expect(retry.json.refresh_token).not.toBe(second.refresh_token);
    // The retry's successor is the single live token; rotate it on.
    const third = await rotate(s.baseUrl, retry.json, 'ekso-web');
    // `first` is no longer the immediately previous token: replay, family revoked.
    expect((await refresh(s.baseUrl, first.refresh_token, 'ekso-web')).json.error).toBe('invalid_grant');
    expect((await refresh(s.baseUrl, third.refresh_token, 'ekso-web')).status).toBe(400);
  });

  it('RT-03 (grace): outside the window the previous token is a replay', async () => {
    s = await start({ refreshPolicy: { kind: 'grace', seconds: 5 } });
    const first = await hookToken(s.baseUrl, 'Cli');
    const second = await rotate(s.baseUrl, first, 'ekso-cli');
    s.clock.advance(5_001);
    expect((await refresh(s.baseUrl, first.refresh_token, 'ekso-cli')).json.error).toBe('invalid_grant');
    expect((await refresh(s.baseUrl, second.refresh_token, 'ekso-cli')).status).toBe(400);
  });

  it('RT-08: another client_id gets invalid_grant and the token is not rotated or consumed', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Cli');
    for (const other of ['ekso-web', 'ekso-sdk']) {
      const reply = await refresh(s.baseUrl, pair.refresh_token, other);
      expect(reply.status).toBe(400);
      expect(reply.json.error).toBe('invalid_grant');
    }
    const unknown = await refresh(s.baseUrl, pair.refresh_token, 'no-such-client');
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('invalid_client');
    // Still the live token of a live family: the rightful client rotates it.
    expect((await get(s.baseUrl, '/api/field', pair.access_token)).status).toBe(200);
    expect((await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('RT-08: a family requested for another client is bound to that client', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Web', 'admin', 'ekso-cli');
    expect(decodeJwtPayload(pair.access_token).client_id).toBe('ekso-cli');
    expect((await refresh(s.baseUrl, pair.refresh_token, 'ekso-web')).status).toBe(400);
    expect((await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('RT-09: the refresh token dies after the idle window; each rotation restarts it (sliding)', async () => {
    s = await start();
    const window = 604_800_000;
    let pair = await hookToken(s.baseUrl, 'Cli');
    // Four rotations, each just inside the window: the family lives well past 7 days in total.
    for (let i = 0; i < 4; i++) {
      s.clock.advance(window - 1000);
      pair = await rotate(s.baseUrl, pair, 'ekso-cli');
    }
    s.clock.advance(window);
    const dead = await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli');
    expect(dead.status).toBe(400);
    expect(dead.json.error).toBe('invalid_grant');
  });

  it('RT-09: the idle window follows the clock hook and the configured figure', async () => {
    s = await start({ refreshIdleWindowSeconds: 3600 });
    const pair = await hookToken(s.baseUrl, 'Web');
    await request(s.baseUrl, '/__conformance/clock', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ advanceMs: 3_600_000 }) });
    expect((await refresh(s.baseUrl, pair.refresh_token, 'ekso-web')).json.error).toBe('invalid_grant');
  });

  it('RT-10: unknown, malformed, truncated or empty refresh tokens get a 400 OAuth error, never tokens or 5xx', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Cli');
    const candidates = [
      '',
      ' ',
      'garbage',
      pair.refresh_token.slice(0, -1),
      pair.refresh_token.slice(0, 12),
      `${pair.refresh_token}A`,
      `ekso_rt_${'A'.repeat(43)}`,
      pair.access_token,
      '\u0000\u0001',
      '☃'.repeat(100),
      'x'.repeat(100_000),
    ];
    for (const token of candidates) {
      const reply = await refresh(s.baseUrl, token, 'ekso-cli');
      expect(reply.status, JSON.stringify(token.slice(0, 20))).toBe(400);
      expect(['invalid_grant', 'invalid_request']).toContain(reply.json.error);
      expect(reply.json.access_token).toBeUndefined();
    }
    const missing = await form(s.baseUrl, '/token', { grant_type: 'refresh_token', client_id: 'ekso-cli' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
    // The real token is untouched by all of that.
    expect((await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli')).status).toBe(200);
  });

  it('RT-11: token responses (success and error) carry Cache-Control: no-store and Pragma: no-cache', async () => {
    s = await start();
    const pair = await hookToken(s.baseUrl, 'Cli');
    const replies = [
      await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli'),
      await refresh(s.baseUrl, pair.refresh_token, 'ekso-cli'),
      await form(s.baseUrl, '/token', { grant_type: 'password' }),
      await request(s.baseUrl, '/token', { method: 'GET' }),
      await request(s.baseUrl, '/__conformance/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"marker":"Web","user":"admin"}' }),
    ];
    for (const reply of replies) {
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.headers.pragma).toBe('no-cache');
    }
  });

  it('CM-04 / RT-01: the EksoClient claim survives rotation', async () => {
    s = await start();
    let cli = await hookToken(s.baseUrl, 'Cli');
    let web = await hookToken(s.baseUrl, 'Web');
    for (let i = 0; i < 3; i++) {
      cli = await rotate(s.baseUrl, cli, 'ekso-cli');
      web = await rotate(s.baseUrl, web, 'ekso-web');
      expect(decodeJwtPayload(cli.access_token).EksoClient).toBe('Cli');
      expect(decodeJwtPayload(web.access_token).EksoClient).toBeUndefined();
    }
  });
});
