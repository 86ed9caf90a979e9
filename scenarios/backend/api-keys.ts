/**
 * Backend: API keys (AK-01 … AK-13). The harness is the client; a super-admin key (or the test
 * hooks) lets it mint, use, list and revoke keys, and the model of the key store predicts every
 * answer.
 */
import fc from 'fast-check';
import type { CheckDefinition, CheckContext } from '../../src/engine/check.js';
import { keyName, personName } from '../../src/engine/data.js';
import { sleep } from '../../src/engine/limits.js';
import { Violation, deviation, expectThat, goOn } from '../../src/engine/outcomes.js';
import { modelProperty, property } from '../../src/engine/properties.js';
import { fingerprint } from '../../src/engine/redact.js';
import { ApiKeyStoreModel, type KeyUse } from '../../src/model/api-keys.js';
import { bearer } from '../../src/targets/backend/driver.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import type { HttpResponse } from '../../src/targets/http.js';
import { EksoErrorBody, listedKeyIds, parseWire } from '../../src/spec/wire.js';
import { authOutcome, describe, expectPermissionDenied, hashForms, is2xx, mintedKey } from './support.js';
import { formatDuration } from '../../src/engine/text.js';

type Check = CheckDefinition<BackendSession>;

const needsAdmin = (s: BackendSession) => s.missingIdentity('admin');
const needsClock = (s: BackendSession) => (s.hasClock ? null : s.noClockReason);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What the run has minted: the raw keys stay here, never in the model. */
class KeyRing {
  readonly raw = new Map<number, { id: string; rawKey: string }>();
  constructor(readonly session: BackendSession) {}

  /** AK-02: no response but the key's own mint response may contain a raw key. */
  assertNoRawKey(response: HttpResponse, where: string): void {
    for (const { rawKey } of this.raw.values()) {
      if (response.text.includes(rawKey)) {
        deviation(new Violation('AK-02', 'no raw key in any response after the mint', `${where} contains ${fingerprint(rawKey)}`, 'a raw key was returned again'));
      }
    }
  }

  /**
   * AK-03: a listing shows neither raw keys nor their SHA-256 hashes. A raw key in a listing is
   * also the raw key returned again (AK-02: "no later response of any endpoint (list …)"): one
   * observation, both requirements. Once known, the check goes on to the other responses.
   */
  assertListingClean(response: HttpResponse): void {
    for (const { rawKey } of this.raw.values()) {
      if (response.text.includes(rawKey)) {
        deviation(new Violation('AK-03', 'a listing without raw keys', `the listing contains ${fingerprint(rawKey)}`, 'the key listing shows a raw key', { also: ['AK-02'] }));
      }
      const leaked = hashForms(rawKey).find((h) => response.text.includes(h));
      if (leaked) {
        deviation(new Violation('AK-03', 'a listing without key hashes', `the listing contains the SHA-256 of ${fingerprint(rawKey)}`, 'the key listing shows a key hash'));
      }
    }
  }

  entry(handle: number): { id: string; rawKey: string } {
    const entry = this.raw.get(handle);
    if (!entry) throw new Error(`no raw key for handle ${handle}`);
    return entry;
  }

  /** Revokes everything this run minted (the ledger would at the end; this keeps targets tidy). */
  async dispose(): Promise<void> {
    for (const { id } of this.raw.values()) {
      if (!this.session.ledger.isRevoked(id)) await this.session.revokeKey(id).catch(() => undefined);
    }
  }
}

interface KeysReal {
  session: BackendSession;
  ring: KeyRing;
  ctx: CheckContext;
}

/** Keeps the model's clock on the target's timeline (real time passes too). */
function syncTime(model: ApiKeyStoreModel, real: KeysReal): void {
  const now = real.session.targetNow();
  if (now > model.now) model.advance(now - model.now);
}

async function useKey(model: ApiKeyStoreModel, real: KeysReal, handle: number, moment: string): Promise<KeyUse> {
  const { rawKey } = real.ring.entry(handle);
  const allowed = model.predictUse(handle);
  const response = await real.session.driver.probe(bearer(rawKey));
  const use = authOutcome(real.session, response, allowed.includes('accepted') ? model.explainWrongRejection(handle) : model.explainWrongAcceptance(handle), `key #${handle}`);
  real.ring.assertNoRawKey(response, 'an authenticated request');
  real.ctx.step(`use key #${handle} ${moment} → ${response.status} (${use})`);
  if (!allowed.includes(use)) {
    const requirement = use === 'rejected' ? model.explainWrongRejection(handle) : model.explainWrongAcceptance(handle);
    const key = model.key(handle);
    const state = key.revoked ? 'revoked' : key.expiresAt !== null && model.now > key.expiresAt ? 'expired' : 'live';
    throw new Violation(requirement, allowed.map((a) => (a === 'accepted' ? '2xx' : '401')).join(' or '), describe(real.session, response), `a ${state} key was ${use}`);
  }
  model.observeUse(handle, use);
  return use;
}

/**
 * AK-10: uses every other unrevoked key, before and after a mint or a revocation, so that a change
 * breaking another key is seen right after it (and a refusal before it is about time, not keys).
 */
async function useOthers(model: ApiKeyStoreModel, real: KeysReal, except: number | null, moment: string): Promise<void> {
  for (const key of model.keys) if (key.handle !== except && !key.revoked) await useKey(model, real, key.handle, moment);
}

class MintCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  constructor(
    readonly name: string,
    readonly expiresInMs: number | null,
  ) {}
  check(model: Readonly<ApiKeyStoreModel>): boolean {
    return model.keys.length < 8;
  }
  async run(model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    syncTime(model, real);
    const expiresAt = this.expiresInMs === null ? null : model.now + this.expiresInMs;
    await useOthers(model, real, null, 'before a mint');
    const response = await real.session.mintKey('admin', { name: this.name, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() });
    real.ring.assertNoRawKey(response, 'a mint response (of another key)');
    const minted = mintedKey(real.session, response);
    const key = model.addKey('admin', expiresAt);
    real.ring.raw.set(key.handle, { id: minted.id, rawKey: minted.rawKey });
    real.ctx.step(`mint key #${key.handle} "${this.name}"${expiresAt ? ` expiring in ${this.expiresInMs} ms` : ''} → ${response.status}`);
    // AK-04: usable at once, no read-after-write gap.
    await useKey(model, real, key.handle, 'right after minting');
    await useOthers(model, real, key.handle, `right after key #${key.handle} was minted`);
  }
  toString(): string {
    return `mint(${JSON.stringify(this.name)}${this.expiresInMs === null ? '' : `, expiresIn=${this.expiresInMs}ms`})`;
  }
}

class UseCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  constructor(readonly pick: number) {}
  check(model: Readonly<ApiKeyStoreModel>): boolean {
    return model.keys.length > 0;
  }
  async run(model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    syncTime(model, real);
    await useKey(model, real, this.pick % model.keys.length, 'later');
  }
  toString(): string {
    return `use(key ${this.pick})`;
  }
}

class ListCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  check(): boolean {
    return true;
  }
  async run(_model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    const response = await real.session.driver.listKeys(real.session.credentialOf('admin'));
    real.ctx.step(`list keys → ${response.status}`);
    // The listing is described only when it fails: a deep run's listing is long (issue 13).
    if (response.status !== 200 || !listedKeyIds(response.json).ok) {
      throw new Violation('AK-03', '200 with a JSON array of keys', describe(real.session, response), 'the key listing failed');
    }
    real.ring.assertListingClean(response);
  }
  toString(): string {
    return 'list()';
  }
}

class RevokeCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  constructor(readonly pick: number) {}
  check(model: Readonly<ApiKeyStoreModel>): boolean {
    return model.keys.length > 0;
  }
  async run(model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    syncTime(model, real);
    const handle = this.pick % model.keys.length;
    const again = model.key(handle).revoked;
    await useOthers(model, real, handle, `before key #${handle} is revoked`);
    const response = await real.session.revokeKey(real.ring.entry(handle).id);
    real.ctx.step(`revoke key #${handle}${again ? ' again' : ''} → ${response.status}`);
    real.ring.assertNoRawKey(response, 'a revoke response');
    if (!is2xx(response)) {
      throw new Violation(again ? 'AK-09' : 'AK-08', '2xx', describe(real.session, response), again ? 'revoking a revoked key did not succeed again' : 'revoking a key failed');
    }
    model.revoke(handle);
    // AK-08: the very next request with the key is refused.
    await useKey(model, real, handle, 'right after revocation');
    await useOthers(model, real, handle, `right after key #${handle} was revoked`);
  }
  toString(): string {
    return `revoke(key ${this.pick})`;
  }
}

class RevokeUnknownCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  constructor(readonly id: string) {}
  check(): boolean {
    return true;
  }
  async run(_model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    const response = await real.session.revokeKey(this.id);
    real.ctx.step(`revoke unknown id ${this.id} → ${response.status}`);
    real.ring.assertNoRawKey(response, 'an error response');
    if (response.status < 400 || response.status >= 500) {
      throw new Violation('AK-09', 'a 4xx', describe(real.session, response), 'revoking an unknown id was not answered with a 4xx');
    }
  }
  toString(): string {
    return `revokeUnknown(${this.id})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<ApiKeyStoreModel, KeysReal> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(model: ApiKeyStoreModel, real: KeysReal): Promise<void> {
    await real.session.advanceClock(this.ms);
    syncTime(model, real);
    real.ctx.step(`let ${formatDuration(this.ms)} pass`);
  }
  toString(): string {
    return `advance(${formatDuration(this.ms)})`;
  }
}


const unknownId = fc.uuid().map((u) => `00000000-${u.slice(9)}`);

const lifecycleModel: Check = {
  id: 'ak.lifecycle.model',
  title: 'API-key lifecycle: mint, use, list, revoke and time, against the model of the key store',
  requirements: ['AK-01', 'AK-02', 'AK-03', 'AK-04', 'AK-06', 'AK-07', 'AK-08', 'AK-09', 'AK-10'],
  requirementsFor: (s) => (s.hasClock ? lifecycleModel.requirements : ['AK-01', 'AK-02', 'AK-03', 'AK-04', 'AK-08', 'AK-09', 'AK-10']),
  defaultRuns: 25,
  exclusive: true,
  skipReason: needsAdmin,
  property: (session, ctx) => {
    const expiry = session.hasClock ? fc.option(fc.integer({ min: 10 * 60_000, max: 30 * DAY }), { freq: 2 }) : fc.constant(null);
    const commands: fc.Arbitrary<fc.AsyncCommand<ApiKeyStoreModel, KeysReal>>[] = [
      fc.tuple(keyName, expiry).map(([name, ms]) => new MintCommand(name, ms)),
      fc.nat(7).map((n) => new UseCommand(n)),
      fc.constant(new ListCommand()),
      fc.nat(7).map((n) => new RevokeCommand(n)),
      unknownId.map((id) => new RevokeUnknownCommand(id)),
    ];
    if (session.hasClock) commands.push(fc.integer({ min: 60_000, max: 40 * DAY }).map((ms) => new AdvanceCommand(ms)));
    return modelProperty(ctx, commands, async () => {
      if (session.hasClock) await session.advanceClock(0);
      const ring = new KeyRing(session);
      return { model: new ApiKeyStoreModel(session.targetNow()), real: { session, ring, ctx }, dispose: () => ring.dispose() };
    });
  },
};

/** AK-02 / AK-03: the raw key comes back exactly once, and listings show no key material. */
const secrecy: Check = {
  id: 'ak.secrecy',
  title: 'The raw key is returned once: never by listings, errors, or later responses; no hashes listed',
  requirements: ['AK-02', 'AK-03'],
  defaultRuns: 5,
  skipReason: needsAdmin,
  property: (session, ctx) =>
    property(ctx, fc.array(keyName, { minLength: 1, maxLength: 3 }), async (names) => {
      const ring = new KeyRing(session);
      try {
        for (const [i, name] of names.entries()) {
          const minted = mintedKey(session, await session.mintKey('admin', { name, expiresAt: null }));
          ring.raw.set(i, { id: minted.id, rawKey: minted.rawKey });
          ctx.step(`mint "${name}" → ${minted.id}`);
        }
        const admin = session.credentialOf('admin');
        const listing = await session.driver.listKeys(admin);
        ctx.step(`list → ${listing.status}`);
        ring.assertListingClean(listing);
        // One after the other: each answer is scanned, and the order (use, then revoke) is fixed.
        const probes: Array<[string, () => Promise<HttpResponse>]> = [
          ['an invalid mint (no name)', () => session.mintKey('admin', { expiresAt: null })],
          ['a revoke of an unknown id', () => session.driver.revokeKey(admin, '00000000-0000-4000-8000-000000000000')],
          ...[...ring.raw.values()].map(({ rawKey }, i): [string, () => Promise<HttpResponse>] => [`a request authenticated by key ${i}`, () => session.driver.probe(bearer(rawKey))]),
          ...[...ring.raw.values()].map(({ id }): [string, () => Promise<HttpResponse>] => [`the revoke of ${id}`, () => session.revokeKey(id)]),
        ];
        for (const [where, send] of probes) {
          const response = await send();
          ctx.step(`${where} → ${response.status}`);
          ring.assertNoRawKey(response, where);
        }
        const after = await session.driver.listKeys(admin);
        ctx.step(`list after revocation → ${after.status}`);
        ring.assertListingClean(after);
        ring.assertNoRawKey(after, 'the listing after revocation');
      } finally {
        await ring.dispose();
      }
    }),
};

/** AK-05 / AK-11: keys carry their minter's permissions; only a super-admin mints. */
const permissions: Check = {
  id: 'ak.permissions',
  title: "A key has its minter's permissions; only a super-admin's credential may mint",
  requirements: ['AK-05', 'AK-11'],
  defaultRuns: 4,
  skipReason: (s) => s.missingIdentity('admin') ?? s.missingIdentity('user'),
  property: (session, ctx) => {
    const census = new KeyCensus(session);
    return property(ctx, fc.tuple(keyName, keyName, personName), async ([adminKeyName, childName, userKeyName]) => {
      const ring = new KeyRing(session);
      try {
        // AK-11 first: it needs no key minted by the run, so a broken mint (AK-01) or a fresh key
        // that does not work at once (AK-04) cannot keep it from its own verdict.
        // A non-admin credential is refused with 403 Permission, and nothing is created.
        await census.before(ctx);
        const userMint = await session.mintKey('user', { name: userKeyName, expiresAt: null });
        ctx.step(`non-admin user mints "${userKeyName}" → ${userMint.status}`);
        goOn(() => expectPermissionDenied(session, userMint, 'AK-11', 'a non-admin credential was not refused with 403 Permission'));
        const created = await census.created(ctx);
        if (created.length) deviation(new Violation('AK-11', 'no new key in the listing', `new key(s) ${created.join(', ')}`, 'a refused mint created a key'));

        const minted = mintedKey(session, await session.mintKey('admin', { name: adminKeyName, expiresAt: null }));
        ring.raw.set(0, { id: minted.id, rawKey: minted.rawKey });
        ctx.step(`admin mints "${adminKeyName}"`);
        await expectUsableAtOnce(session, minted.rawKey, ctx);
        // AK-05: a super-admin's key can mint and revoke keys.
        const childResponse = await session.mintKey(bearer(minted.rawKey), { name: childName, expiresAt: null });
        ctx.step(`that key mints "${childName}" → ${childResponse.status}`);
        if (!is2xx(childResponse)) throw new Violation('AK-05', '2xx', describe(session, childResponse), "a super-admin's key could not mint");
        const child = mintedKey(session, childResponse);
        ring.raw.set(1, { id: child.id, rawKey: child.rawKey });
        const revokeChild = await session.revokeKey(child.id, { by: bearer(minted.rawKey) });
        ctx.step(`that key revokes the child → ${revokeChild.status}`);
        if (!is2xx(revokeChild)) throw new Violation('AK-05', '2xx', describe(session, revokeChild), "a super-admin's key could not revoke");

        // AK-10: revoking the child did not change whether the admin's key works (checked here,
        // so that a failure below is the non-admin's revoke and nothing else).
        const afterChild = authOutcome(session, await session.driver.probe(bearer(minted.rawKey)), 'AK-10', 'the admin key');
        if (afterChild !== 'accepted') throw new Violation('AK-10', 'the key still works', 'it was rejected', "revoking another key (the child) stopped this key working");
        // AK-05: a non-admin's key cannot revoke keys either.
        const userRevoke = await session.revokeKey(minted.id, { by: 'user' });
        ctx.step(`non-admin user revokes the admin's key → ${userRevoke.status}`);
        if (is2xx(userRevoke)) throw new Violation('AK-05', '403', describe(session, userRevoke), "a non-admin's key revoked a key");
        const still = authOutcome(session, await session.driver.probe(bearer(minted.rawKey)), 'AK-05', 'the admin key');
        if (still !== 'accepted') throw new Violation('AK-05', 'the key still works', 'it was rejected', "a refused revoke by a non-admin's key revoked the key anyway");
      } finally {
        await ring.dispose();
      }
    });
  },
};

function idsOf(response: HttpResponse): Set<string> {
  const listing = listedKeyIds(response.json);
  return new Set(listing.ok ? listing.value : []);
}

/**
 * "A refused mint creates no key" (AK-11, AK-12), judged from ONE listing per run: the listing
 * taken after the refused request, against the previous one plus the keys the harness itself
 * minted since (the ledger knows them by id). A deep run lists hundreds of times a listing that
 * grows with every key the run mints — a target that keeps revoked keys listed (soft delete,
 * docs S6) never shrinks it — so a listing before and after each refused mint made the listing
 * checks the quadratic part of a deep run (issue 13). When a mint since the last listing left
 * the harness without the key's id (no answer, or one it could not read), that key would look
 * created by the refused request: the census lists again before it instead.
 *
 * Backend checks run one after another, and so do the runs of a check, so nothing but the check
 * itself mints between two of its listings.
 */
class KeyCensus {
  private known: Set<string> | null = null;
  private mintsAtLast = 0;
  private recordedAtLast = 0;
  constructor(private readonly session: BackendSession) {}

  /** Call right before the request that must create nothing. */
  async before(ctx: CheckContext): Promise<void> {
    const { ledger } = this.session;
    if (this.known && ledger.mintsSent - this.mintsAtLast === ledger.recordedCount - this.recordedAtLast) {
      for (const id of ledger.recordedSince(this.recordedAtLast)) this.known.add(id);
    } else {
      this.known = idsOf(await this.session.driver.listKeys(this.session.credentialOf('admin')));
      ctx.step(`list keys (${this.known.size})`);
    }
    this.mark();
  }

  /** Call right after it: the ids listed now that were not listed or minted before it. */
  async created(ctx: CheckContext): Promise<string[]> {
    const listed = idsOf(await this.session.driver.listKeys(this.session.credentialOf('admin')));
    ctx.step(`list keys (${listed.size})`);
    const known = this.known ?? new Set<string>();
    const created = [...listed].filter((id) => !known.has(id));
    this.known = listed;
    this.mark();
    return created;
  }

  private mark(): void {
    this.mintsAtLast = this.session.ledger.mintsSent;
    this.recordedAtLast = this.session.ledger.recordedCount;
  }
}

type InvalidMint = { label: string; body: unknown; field: string };

const invalidMints: fc.Arbitrary<InvalidMint> = fc.oneof(
  fc.constant<InvalidMint>({ label: 'no name', body: { expiresAt: null }, field: 'name' }),
  fc.constant<InvalidMint>({ label: 'empty name', body: { name: '', expiresAt: null }, field: 'name' }),
  keyName.chain((name) =>
    fc.oneof(
      fc.constantFrom('next tuesday', '2026-13-45T99:00:00Z', 'yesterday', '').map((bad): InvalidMint => ({ label: `expiresAt "${bad}"`, body: { name, expiresAt: bad }, field: 'expiresAt' })),
      fc.integer({ min: 1, max: 3650 }).map((days): InvalidMint => ({
        label: `expiresAt ${days} days in the past`,
        body: { name, expiresAt: new Date(Date.now() - days * DAY).toISOString() },
        field: 'expiresAt',
      })),
    ),
  ),
);

/** AK-12: invalid mint bodies get 400 Validation naming the field, and create nothing. */
const validation: Check = {
  id: 'ak.validation',
  title: 'An invalid mint request gets 400 Validation naming the field and creates no key',
  requirements: ['AK-12'],
  defaultRuns: 8,
  skipReason: needsAdmin,
  property: (session, ctx) => {
    const census = new KeyCensus(session);
    return property(ctx, invalidMints, async (invalid) => {
      await census.before(ctx);
      const response = await session.mintKey('admin', invalid.body);
      ctx.step(`mint with ${invalid.label} → ${response.status}`);
      const body = parseWire(EksoErrorBody, response.json);
      const named = body.ok && (body.value.fields ?? []).some((f) => f.field.toLowerCase() === invalid.field.toLowerCase());
      if (response.status !== 400 || !body.ok || body.value.kind !== 'Validation' || !named) {
        throw new Violation('AK-12', `400 {"kind": "Validation", "fields": [{"field": "${invalid.field}", …}]}`, describe(session, response), `a mint with ${invalid.label} was not refused as a validation error naming ${invalid.field}`);
      }
      const created = await census.created(ctx);
      if (created.length) throw new Violation('AK-12', 'no new key', `new key(s) ${created.join(', ')}`, 'a refused mint created a key');
    });
  },
};

/** Bits per character of the smallest common alphabet containing every character seen. */
export function bitsPerChar(text: string): number {
  if (/^[0-9a-f]*$/.test(text) || /^[0-9A-F]*$/.test(text)) return 4;
  if (/^[A-Z2-7]*$/.test(text) || /^[a-z2-7]*$/.test(text)) return 5;
  if (/^[0-9A-Za-z]*$/.test(text)) return Math.log2(62);
  if (/^[0-9A-Za-z_-]*$/.test(text) || /^[0-9A-Za-z+/=]*$/.test(text)) return 6;
  return Math.log2(94);
}

/** AK-13: keys never repeat and carry ≥ 128 bits after the prefix. */
const entropy: Check = {
  id: 'ak.entropy',
  title: 'Raw keys are unpredictable: distinct, with at least 128 bits after ek_live_',
  requirements: ['AK-13'],
  defaultRuns: 3,
  skipReason: needsAdmin,
  property: (session, ctx) =>
    property(ctx, fc.array(keyName, { minLength: 4, maxLength: 6 }), async (names) => {
      const ring = new KeyRing(session);
      try {
        const seen = new Set<string>();
        for (const [i, name] of names.entries()) {
          const minted = mintedKey(session, await session.mintKey('admin', { name, expiresAt: null }));
          ring.raw.set(i, { id: minted.id, rawKey: minted.rawKey });
          const secret = minted.rawKey.slice('ek_live_'.length);
          const bits = secret.length * bitsPerChar(secret);
          ctx.step(`mint "${name}" → ${fingerprint(minted.rawKey)}, about ${Math.floor(bits)} bits`);
          expectThat(!seen.has(minted.rawKey), 'AK-13', 'two mints returned the same raw key', 'distinct keys', `${fingerprint(minted.rawKey)} twice`);
          expectThat(bits >= 128, 'AK-13', 'a raw key is too short to carry 128 bits', '≥ 128 bits after ek_live_', `${secret.length} characters ≈ ${Math.floor(bits)} bits`);
          seen.add(minted.rawKey);
        }
      } finally {
        await ring.dispose();
      }
    }),
};

/** AK-08 / AK-09 / AK-10: revocation is immediate, idempotent, leaves other keys alone; unknown ids are a 4xx. */
const revocation: Check = {
  id: 'ak.revocation',
  title: 'Revocation takes effect on the very next request, leaves other keys working, is idempotent, and unknown ids get a 4xx',
  requirements: ['AK-08', 'AK-09', 'AK-10'],
  defaultRuns: 5,
  skipReason: needsAdmin,
  property: (session, ctx) =>
    property(ctx, fc.tuple(keyName, keyName, fc.integer({ min: 1, max: 3 }), unknownId), async ([name, bystanderName, uses, unknown]) => {
      const ring = new KeyRing(session);
      try {
        const minted = mintedKey(session, await session.mintKey('admin', { name, expiresAt: null }));
        ring.raw.set(0, { id: minted.id, rawKey: minted.rawKey });
        // AK-10: a key minted after it, working before the revocation, must keep working after it.
        const bystander = mintedKey(session, await session.mintKey('admin', { name: bystanderName, expiresAt: null }));
        ring.raw.set(1, { id: bystander.id, rawKey: bystander.rawKey });
        ctx.step(`mint "${bystanderName}" (a bystander)`);
        await expectUsableAtOnce(session, bystander.rawKey, ctx);
        for (let i = 0; i < uses; i++) await session.driver.probe(bearer(minted.rawKey));
        ctx.step(`mint "${name}" and use it ${uses}×`);
        const first = await session.revokeKey(minted.id);
        ctx.step(`revoke → ${first.status}`);
        if (!is2xx(first)) throw new Violation('AK-08', '2xx', describe(session, first), 'revoking a key failed');
        const next = await session.driver.probe(bearer(minted.rawKey));
        ctx.step(`the very next request → ${next.status}`);
        if (authOutcome(session, next, 'AK-08', 'a revoked key') !== 'rejected') {
          throw new Violation('AK-08', '401', describe(session, next), 'a revoked key still authenticated the next request');
        }
        const other = await session.driver.probe(bearer(bystander.rawKey));
        ctx.step(`the bystander key → ${other.status}`);
        if (authOutcome(session, other, 'AK-10', 'the bystander key') !== 'accepted') {
          throw new Violation('AK-10', '2xx', describe(session, other), 'revoking one key stopped another key working');
        }
        const second = await session.revokeKey(minted.id);
        ctx.step(`revoke again → ${second.status}`);
        if (!is2xx(second)) throw new Violation('AK-09', '2xx (idempotent)', describe(session, second), 'revoking a revoked key did not succeed again');
        const unknownAnswer = await session.revokeKey(unknown);
        ctx.step(`revoke unknown id → ${unknownAnswer.status}`);
        if (unknownAnswer.status < 400 || unknownAnswer.status >= 500) {
          throw new Violation('AK-09', 'a 4xx', describe(session, unknownAnswer), 'revoking an unknown id was not answered with a 4xx');
        }
      } finally {
        await ring.dispose();
      }
    }),
};

/** AK-07: a key with an expiry works before that instant and is refused after it. */
const expiry: Check = {
  id: 'ak.expiry',
  title: 'A key with expiresAt works before that instant and gets 401 after it',
  requirements: ['AK-07'],
  defaultRuns: 4,
  exclusive: true,
  skipReason: needsAdmin,
  property: (session, ctx) => {
    // With a clock hook any horizon can be tested; without one, only a few seconds of real waiting.
    const horizon = session.hasClock ? fc.integer({ min: 2 * 60_000, max: 90 * DAY }) : fc.constant(5_000);
    return property(ctx, fc.tuple(keyName, horizon), async ([name, lifetimeMs]) => {
      const ring = new KeyRing(session);
      try {
        if (session.hasClock) await session.advanceClock(0);
        const expiresAt = session.targetNow() + lifetimeMs;
        const minted = mintedKey(session, await session.mintKey('admin', { name, expiresAt: new Date(expiresAt).toISOString() }));
        ring.raw.set(0, { id: minted.id, rawKey: minted.rawKey });
        ctx.step(`mint "${name}" expiring in ${formatDuration(lifetimeMs)}`);
        await expectUsableAtOnce(session, minted.rawKey, ctx);
        // Move to one minute before the expiry instant (with a clock; otherwise we are seconds before it).
        if (session.hasClock) await session.advanceClock(Math.max(0, expiresAt - 60_000 - session.targetNow()));
        const early = await session.driver.probe(bearer(minted.rawKey));
        ctx.step(`use it ${formatDuration(expiresAt - session.targetNow())} before expiry → ${early.status}`);
        if (authOutcome(session, early, 'AK-07', 'a key before its expiry') !== 'accepted') {
          throw new Violation('AK-07', '2xx', describe(session, early), 'a key was refused before its expiresAt');
        }
        if (session.hasClock) await session.advanceClock(2 * 60_000);
        else await waitUntil(expiresAt + 3_000, ctx.signal);
        const late = await session.driver.probe(bearer(minted.rawKey));
        ctx.step(`use it ${formatDuration(session.targetNow() - expiresAt)} after expiry → ${late.status}`);
        if (authOutcome(session, late, 'AK-07', 'a key after its expiry') !== 'rejected') {
          throw new Violation('AK-07', '401', describe(session, late), 'a key still worked after its expiresAt');
        }
      } finally {
        await ring.dispose();
      }
    });
  },
};

/**
 * AK-04: a fresh key works right away, so that a later refusal is about time, not the mint.
 * Once AK-04 is known violated (a read-after-write gap), the key is waited for — a few seconds —
 * so that what the check is about (expiry, revocation, permissions) still gets its own verdict.
 */
async function expectUsableAtOnce(session: BackendSession, rawKey: string, ctx: CheckContext): Promise<void> {
  const response = await session.driver.probe(bearer(rawKey));
  ctx.step(`use it right after minting → ${response.status}`);
  if (authOutcome(session, response, 'AK-04', 'a freshly minted key') === 'accepted') return;
  deviation(new Violation('AK-04', '2xx', describe(session, response), 'a freshly minted key was not accepted at once'));
  const deadline = Date.now() + USABLE_WAIT_MS;
  while (Date.now() < deadline) {
    await sleep(200, ctx.signal);
    const again = await session.driver.probe(bearer(rawKey));
    if (authOutcome(session, again, 'AK-04', 'a freshly minted key') === 'accepted') {
      ctx.step(`  (accepted after the known read-after-write gap)`);
      return;
    }
  }
  throw new Violation('AK-04', '2xx', describe(session, response), `a freshly minted key was still refused ${USABLE_WAIT_MS / 1000} s after the mint`);
}

/** How long a check waits for a fresh key past a known AK-04 gap before it gives up on the run. */
const USABLE_WAIT_MS = 5_000;

async function waitUntil(instant: number, signal: AbortSignal): Promise<void> {
  await sleep(Math.max(0, instant - Date.now()), signal);
}

/** AK-06: a key without expiresAt keeps working however much time passes. */
const noExpiry: Check = {
  id: 'ak.no-expiry',
  title: 'A key minted without expiresAt does not expire on a timer',
  requirements: ['AK-06'],
  defaultRuns: 3,
  exclusive: true,
  skipReason: (s) => needsAdmin(s) ?? needsClock(s),
  property: (session, ctx) =>
    property(ctx, fc.tuple(keyName, fc.array(fc.integer({ min: HOUR, max: 400 * DAY }), { minLength: 1, maxLength: 4 })), async ([name, waits]) => {
      const ring = new KeyRing(session);
      try {
        const minted = mintedKey(session, await session.mintKey('admin', { name, expiresAt: null }));
        ring.raw.set(0, { id: minted.id, rawKey: minted.rawKey });
        ctx.step(`mint "${name}" without expiry`);
        await expectUsableAtOnce(session, minted.rawKey, ctx);
        let elapsed = 0;
        for (const wait of waits) {
          await session.advanceClock(wait);
          elapsed += wait;
          const response = await session.driver.probe(bearer(minted.rawKey));
          ctx.step(`after ${formatDuration(elapsed)} → ${response.status}`);
          if (authOutcome(session, response, 'AK-06', 'a key without expiry') !== 'accepted') {
            throw new Violation('AK-06', '2xx', describe(session, response), `a key without expiresAt stopped working after ${formatDuration(elapsed)}`);
          }
        }
      } finally {
        await ring.dispose();
      }
    }),
};

/**
 * In run order. The checks that read the whole key listing come first, those that mint without
 * listing last: every key minted stays in the listing where the target keeps revoked keys listed
 * (soft delete, docs S6), so a listing check run after the others reads every key they minted, at
 * each of its runs — a deep run's quadratic term (issue 13). Among the listing checks, the one
 * minting nothing first (validation), then those minting most per listing.
 */
export const API_KEY_CHECKS: readonly Check[] = [validation, secrecy, permissions, lifecycleModel, entropy, revocation, expiry, noExpiry];
