/**
 * SDK: the token store (STORE-01 … STORE-03), for adapters with the tokenStore capability.
 */
import { stat } from 'node:fs/promises';
import fc from 'fast-check';
import type { CheckDefinition } from '../../src/engine/check.js';
import { clientIdName, environmentName, tenantName } from '../../src/engine/data.js';
import { Inconclusive, Skip, Violation, deviation, expectThat, goOn } from '../../src/engine/outcomes.js';
import { property } from '../../src/engine/properties.js';
import { AdapterRpcError, type Tokens } from '../../src/spec/adapter-protocol.js';
import type { SdkSession } from '../../src/targets/sdk/session.js';
import { assertNoReplay, assertRefreshRequests, describeOutcome, describeRequest, eventsSince, expectResponse, mark, needsCapability, requestsSince, schedulerArb, sdkProperty, single, tokenRequests } from './support.js';

type Check = CheckDefinition<SdkSession>;

interface StoreKey {
  tenant: string;
  clientId: string;
  environment: string;
}

const keyText = (k: StoreKey) => `(${k.tenant}, ${k.clientId}, ${k.environment})`;

/** Distinct keys that a naive key (a concatenation, a key missing one part) would confuse. */
const CONFUSABLE_PAIRS: ReadonlyArray<[StoreKey, StoreKey]> = [
  [{ tenant: 'a-b', clientId: 'c', environment: 'x' }, { tenant: 'a', clientId: 'b-c', environment: 'x' }],
  [{ tenant: 'acme', clientId: 'ekso-cli', environment: 'prod' }, { tenant: 'acme', clientId: 'ekso', environment: 'cli-prod' }],
  [{ tenant: 'acme', clientId: 'ekso-cli', environment: 'default' }, { tenant: 'acme', clientId: 'ekso-cli', environment: 'staging' }],
  [{ tenant: 'acme', clientId: 'ekso-cli', environment: 'default' }, { tenant: 'acme', clientId: 'ekso-sdk', environment: 'default' }],
  [{ tenant: 'acme', clientId: 'ekso-cli', environment: 'default' }, { tenant: 'globex', clientId: 'ekso-cli', environment: 'default' }],
  [{ tenant: 'a.b', clientId: 'c', environment: 'd' }, { tenant: 'a', clientId: 'b.c', environment: 'd' }],
];

/** Pairs of distinct keys, including ones a naive concatenation would confuse. */
const keyPairs: fc.Arbitrary<[StoreKey, StoreKey]> = fc.oneof(
  fc
    .tuple(fc.record({ tenant: tenantName, clientId: clientIdName, environment: environmentName }), fc.record({ tenant: tenantName, clientId: clientIdName, environment: environmentName }))
    .filter(([a, b]) => keyText(a) !== keyText(b)),
  fc.constantFrom<[StoreKey, StoreKey]>(...CONFUSABLE_PAIRS),
);

function tokensFor(label: string): Tokens {
  return { accessToken: `at-${label}-${Math.random().toString(36).slice(2)}`, refreshToken: `rt-${label}-${Math.random().toString(36).slice(2)}`, expiresAt: new Date(Date.UTC(2030, 0, 1)).toISOString() };
}

const keying: Check = {
  id: 'store.keying',
  title: 'Token pairs are keyed by (Tenant, ClientId, Environment): saving under one key never changes another',
  requirements: ['STORE-01'],
  defaultRuns: 10,
  sharedState: 'token-store',
  skipReason: (s) => needsCapability(s, 'tokenStore'),
  property: (session, ctx) => {
    // Choice: the confusable pairs are checked in every run until each has passed once in this
    // check, so a classic keying bug (one only those pairs reveal) is caught by the first run
    // instead of by the runs that happen to draw them. A pair that fails is never marked passed:
    // every later run and shrink attempt (and a replay, which starts afresh) fails on it again.
    const passed = new Set<[StoreKey, StoreKey]>();
    return property(ctx, keyPairs, async (pair) => {
      const save = session.adapter.storeSave!.bind(session.adapter);
      const load = session.adapter.storeLoad!.bind(session.adapter);
      for (const checked of [pair, ...CONFUSABLE_PAIRS.filter((p) => p !== pair && !passed.has(p))]) {
        const [a, b] = checked;
        const ta = tokensFor('a');
        const tb = tokensFor('b');
        await save({ ...a, tokens: ta });
        await save({ ...b, tokens: tb });
        ctx.step(`save under ${keyText(a)}, then under ${keyText(b)}`);
        const la = (await load(a)).tokens;
        const lb = (await load(b)).tokens;
        ctx.step(`load ${keyText(a)} → ${la ? (la.refreshToken === ta.refreshToken ? 'its own pair' : 'another pair') : 'nothing'}`);
        expectThat(la?.refreshToken === ta.refreshToken && la?.accessToken === ta.accessToken, 'STORE-01', `saving under ${keyText(b)} changed what ${keyText(a)} loads`, `the pair saved under ${keyText(a)}`, la ? 'a different pair' : 'nothing');
        expectThat(lb?.refreshToken === tb.refreshToken, 'STORE-01', `${keyText(b)} does not load its own pair`, `the pair saved under ${keyText(b)}`, lb ? 'a different pair' : 'nothing');
        if (CONFUSABLE_PAIRS.includes(checked)) passed.add(checked);
      }
    });
  },
};

const resume: Check = {
  id: 'store.resume-after-rotation',
  title: 'A client resumed from the store after a rotation presents the rotated refresh token',
  requirements: ['STORE-02'],
  defaultRuns: 5,
  skipReason: (s) => needsCapability(s, 'tokenStore') ?? needsCapability(s, 'refreshable'),
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), tenantName, clientIdName, environmentName, fc.integer({ min: 1, max: 3 })), async ([scheduler, drawnTenant, clientId, environment, rotations], session) => {
      // Concurrent runs (real time) share the adapter's store: each keeps to a tenant of its own,
      // so that no run resumes another's pair (the store checks of STORE-01/03 run apart).
      const tenant = session.runId === undefined ? drawnTenant : `${drawnTenant}-r${session.runId}`;
      try {
        // The first expiry is that of the tokens the client starts with (free in real time).
        const first = await session.refreshableClient({ tenant, clientId, environment, expiresInMs: -1_000, signal: ctx.signal });
        const start = mark(session);
        for (let i = 0; i < rotations; i++) {
          const state = session.server.familyState(first.family);
          if (i > 0) await session.advance(session.msUntilDue(state.access[state.generation]!.expiresAt, 1_000), ctx.signal);
          const r = await single(session, scheduler, () => session.call(first.client, 'GET', '/api/field'));
          ctx.step(`rotation ${i + 1} in the first process → ${describeOutcome(session, r.outcome)}`);
        }
        // The store can only be judged on what the first process handed it. A rotation that went
        // wrong before reaching the store is another requirement's failure: a replayed refresh
        // token (SDK-07), a malformed refresh (SDK-12), a missing or wrong TokensRefreshed (SDK-08).
        const firstPhase = requestsSince(session, start);
        // Once SDK-07 is known, the resume is still judged on the token it presents (a client that
        // keeps the superseded token in its store fails STORE-02 too); whether its call then
        // succeeds is not judged, since the replay may have ended the family on the server.
        const replayed = firstPhase.some((r) => r.kind === 'token' && r.superseded);
        goOn(() => assertNoReplay(session, firstPhase));
        assertRefreshRequests(session, tokenRequests(firstPhase, first.family), clientId);
        const lastRotation = tokenRequests(firstPhase, first.family).filter((r) => r.outcome === 'rotated').at(-1);
        if (!lastRotation?.issued) throw new Inconclusive('the first client never rotated its tokens, so resuming after a rotation could not be tested');
        const lastEvent = eventsSince(session, start, first.client).at(-1);
        const eventViolation = new Violation('SDK-08', 'a TokensRefreshed event with the rotated pair (what the application saves)', lastEvent ? 'the last event carries another refresh token' : 'no event', 'TokensRefreshed did not deliver the rotated pair to be stored');
        // Without any event the application had nothing to save: the store cannot be judged.
        if (!lastEvent) throw eventViolation;
        // A wrong pair was handed over: SDK-08's failure; once known, the resume is still judged on
        // what the store then holds (the superseded token, saved from the event: STORE-02 too).
        if (lastEvent.refreshToken !== lastRotation.issued.refreshToken) deviation(eventViolation);
        const state = session.server.familyState(first.family);
        await session.advance(session.msUntilDue(state.access[state.generation]!.expiresAt, 1_000), ctx.signal);
        let resumed: string;
        try {
          resumed = await session.createClient({ tenant, environment, baseUrl: session.server.baseUrl, auth: { type: 'stored', tokenEndpoint: session.server.tokenEndpoint, clientId } });
        } catch (error) {
          if (error instanceof AdapterRpcError && error.code === -32001) {
            throw new Violation('STORE-02', 'the rotated pair in the store', 'no stored entry (-32001)', 'the pair from TokensRefreshed was not in the store');
          }
          throw error;
        }
        ctx.step(`resume a client from the store for (${tenant}, ${clientId}, ${environment}) after the access token expired`);
        const from = mark(session);
        const result = await single(session, scheduler, () => session.call(resumed, 'GET', '/api/field'));
        ctx.step(`call with the resumed client → ${describeOutcome(session, result.outcome)}`);
        const refresh = tokenRequests(requestsSince(session, from))[0];
        if (refresh && (refresh.superseded || refresh.family !== first.family || refresh.generation !== state.generation)) {
          throw new Violation('STORE-02', `the rotated refresh token (generation ${state.generation})`, describeRequest(session, refresh), 'the resumed client presented a superseded refresh token');
        }
        if (!replayed) expectResponse(session, result, 'STORE-02', 'the client resumed from the store could not call');
      } finally {
        await session.disposeClients();
      }
    }),
};

const onDisk: Check = {
  id: 'store.on-disk',
  title: 'A store on disk is readable by its owner only (0600 or stricter) and loses no concurrent save',
  requirements: ['STORE-03'],
  defaultRuns: 2,
  sharedState: 'token-store',
  skipReason: (s) => needsCapability(s, 'tokenStore') ?? (s.capabilities.storePath ? null : 'the adapter declares no storePath (an in-memory store)'),
  property: (session, ctx) =>
    property(ctx, fc.array(fc.record({ tenant: tenantName, clientId: clientIdName, environment: environmentName }), { minLength: 2, maxLength: 6 }), async (keys) => {
      const distinct = [...new Map(keys.map((k) => [keyText(k), k])).values()];
      const saved = distinct.map((k, i) => ({ key: k, tokens: tokensFor(String(i)) }));
      await Promise.all(saved.map(({ key, tokens }) => session.adapter.storeSave!({ ...key, tokens })));
      ctx.step(`${saved.length} concurrent saves`);
      for (const { key, tokens } of saved) {
        const loaded = (await session.adapter.storeLoad!(key)).tokens;
        expectThat(loaded?.refreshToken === tokens.refreshToken, 'STORE-03', 'a concurrent save was lost or torn', `the pair saved under ${keyText(key)}`, loaded ? 'another pair' : 'nothing');
      }
      const path = session.capabilities.storePath!;
      let mode: number;
      try {
        mode = (await stat(path)).mode & 0o777;
      } catch {
        throw new Skip(`the declared storePath ${path} is not readable from the harness (another machine or container?)`);
      }
      ctx.step(`store file mode ${mode.toString(8).padStart(4, '0')}`);
      expectThat((mode & 0o077) === 0, 'STORE-03', 'the token store file is readable by others', '0600 or stricter', mode.toString(8).padStart(4, '0'));
    }),
};

export const TOKEN_STORE_CHECKS: readonly Check[] = [keying, resume, onDisk];
