/**
 * SDK: RefreshableBearerAuth — bearer on every request, proactive refresh, no needless refresh,
 * single flight, no reuse of a rotated refresh token, the TokensRefreshed event, and the refresh
 * request itself (SDK-03 … SDK-08, SDK-12).
 */
import fc from 'fast-check';
import type { CheckDefinition } from '../../src/engine/check.js';
import { clientIdName } from '../../src/engine/data.js';
import { Violation, expectThat, goOn } from '../../src/engine/outcomes.js';
import type { RecordedRequest } from '../../src/targets/sdk/model-server.js';
import type { CallResult, RefreshableClient, SdkSession } from '../../src/targets/sdk/session.js';
import { apiCall } from './api-key.js';
import {
  apiRequests,
  assertNoExpiredBearer,
  assertNoReplay,
  concurrently,
  describeOutcome,
  describeRequest,
  eventsSince,
  expectResponse,
  mark,
  needsCapability,
  refreshRequestProblems,
  requestsSince,
  schedulerArb,
  sdkProperty,
  single,
  tokenRequests,
  toleranceMs,
} from './support.js';

type Check = CheckDefinition<SdkSession>;

const needsRefreshable = (s: SdkSession) => needsCapability(s, 'refreshable');

/**
 * Moves time so that the client's current access token has expired (plus `extraMs`) — or, in real
 * time where the adapter declares a margin, until it is well inside that margin, which the SDK
 * must treat alike (SDK-04) and which costs seconds instead of the margin (`msUntilDue`).
 */
async function expire(session: SdkSession, client: RefreshableClient, extraMs: number, signal: AbortSignal): Promise<void> {
  const state = session.server.familyState(client.family);
  const current = state.access[state.generation]!;
  await session.advance(session.msUntilDue(current.expiresAt, extraMs), signal);
}

/**
 * A refreshable client for a run whose first step lets its access token expire: created with a
 * token that expired 1 s ago (free in real time) instead of waiting for it. Later expiries wait.
 */
function startingExpired(expired: boolean, signal: AbortSignal): { expiresInMs?: number; signal: AbortSignal } {
  return expired ? { expiresInMs: -1_000, signal } : { signal };
}

/** Access generation each API request should carry in a sequential run: the newest issued before it. */
function staleBearers(requests: readonly RecordedRequest[], family: string): RecordedRequest[] {
  let newest = 0;
  const stale: RecordedRequest[] = [];
  for (const r of requests) {
    if (r.family !== family) continue;
    if (r.kind === 'token' && r.outcome === 'rotated') newest = Math.max(newest, (r.generation ?? 0) + 1);
    if (r.kind === 'api' && r.generation !== undefined && r.generation < newest) stale.push(r);
  }
  return stale;
}

const currentBearer: Check = {
  id: 'sdk.refreshable.bearer',
  title: 'RefreshableBearerAuth sends its current access token as Authorization: Bearer on every request',
  requirements: ['SDK-03'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(fc.tuple(apiCall, fc.boolean()), { minLength: 1, maxLength: 5 })), async ([scheduler, steps], session) => {
      try {
        const client = await session.refreshableClient(startingExpired(steps[0]![1], ctx.signal));
        const from = mark(session);
        for (const [i, [c, letExpire]] of steps.entries()) {
          if (letExpire) {
            if (i > 0) await expire(session, client, 1_000, ctx.signal);
            ctx.step('let the access token expire');
          }
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          ctx.step(`${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
        }
        const seen = requestsSince(session, from);
        const missing = apiRequests(seen).find((r) => r.kind === 'api' && r.family !== client.family);
        if (missing) throw new Violation('SDK-03', 'Authorization: Bearer <current access token>', `${describeRequest(session, missing)} with ${session.redactor.text(missing.authorization ?? 'no Authorization header')}`, 'a request did not carry the access token');
        // The server reads the scheme case-insensitively (RFC 7235), so a token it recognised may
        // still have gone out in another form: the requirement names `Authorization: Bearer`.
        const malformed = apiRequests(seen, client.family).find((r) => r.authorization !== `Bearer ${r.bearer}`);
        if (malformed) throw new Violation('SDK-03', 'Authorization: Bearer <current access token>', `${describeRequest(session, malformed)} with ${session.redactor.text(malformed.authorization ?? 'no Authorization header')}`, 'a request did not carry the access token in the documented form');
        const stale = staleBearers(seen, client.family)[0];
        if (stale) throw new Violation('SDK-03', 'the newest access token', `${describeRequest(session, stale)}: an access token older than the newest issued`, 'the SDK sent an old access token after a rotation');
      } finally {
        await session.disposeClients();
      }
    }),
};

const proactive: Check = {
  id: 'sdk.proactive-refresh',
  title: 'It never sends an access token past its expiry (or inside its declared margin): it refreshes first',
  requirements: ['SDK-04'],
  defaultRuns: 8,
  skipReason: needsRefreshable,
  property: (session, ctx) => {
    const margin = session.refreshMarginMs;
    const moments = fc.constantFrom(...(['past-expiry', 'long-past', ...(margin ? (['in-margin'] as const) : [])] as const));
    // Choice: in real time "long past" is one token lifetime past expiry (three when time moves
    // instantly), so that a run stays within seconds.
    const longPastMs = session.canAdvance ? 3 * session.tokenLifetimeMs() : session.tokenLifetimeMs();
    const leftAt = (moment: 'past-expiry' | 'long-past' | 'in-margin') => (moment === 'in-margin' ? Math.floor(margin! / 2) : moment === 'long-past' ? -longPastMs : -1_000);
    return sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(fc.tuple(moments, apiCall), { minLength: 1, maxLength: 3 })), async ([scheduler, steps], session) => {
      try {
        // The first moment is reached by the tokens the client starts with (free in real time).
        const client = await session.refreshableClient({ expiresInMs: leftAt(steps[0]![0]), signal: ctx.signal });
        const from = mark(session);
        for (const [i, [moment, c]] of steps.entries()) {
          const state = session.server.familyState(client.family);
          const expiresAt = state.access[state.generation]!.expiresAt;
          if (i === 0) {
            // reached when the client was created
          } else if (!session.canAdvance) {
            // Choice: later moments cost real waits; with a declared margin "past expiry" would
            // cost the whole margin, so every later moment is "well inside the margin" there
            // (SDK-04 holds the SDK to its margin alike); without one, past expiry as drawn.
            await expire(session, client, moment === 'long-past' ? longPastMs : 1_000, ctx.signal);
          } else if (moment === 'in-margin') {
            await session.advance(Math.max(0, expiresAt - session.clock.now() - Math.floor(margin! / 2)), ctx.signal);
          } else {
            await expire(session, client, moment === 'long-past' ? longPastMs : 1_000, ctx.signal);
          }
          const left = expiresAt - session.clock.now();
          ctx.step(left > 0 ? `move to ${left} ms before expiry (inside the declared ${margin} ms margin)` : -left >= session.tokenLifetimeMs() ? 'let the access token expire long ago' : 'let the access token expire');
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          ctx.step(`${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
          assertNoExpiredBearer(session, requestsSince(session, from), toleranceMs(session));
          // A refresh refused because it replayed a rotated token is SDK-07's failure, not SDK-04's.
          assertNoReplay(session, requestsSince(session, from));
          expectResponse(session, result, 'SDK-04', 'a call after expiry did not succeed with a refreshed token');
        }
      } finally {
        await session.disposeClients();
      }
    });
  },
};

const noNeedlessRefresh: Check = {
  id: 'sdk.no-needless-refresh',
  title: 'It does not refresh needlessly: not while the access token is far from expiry',
  requirements: ['SDK-05'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) => {
    // Choice: in real time this check's tokens stay clear of the margin 5 s longer than others,
    // so that there is a window of several seconds in which a refresh is needless; its waits are
    // drawn within that window (a third of it at most), not within the whole lifetime.
    const lifetime = session.canAdvance ? session.tokenLifetimeMs() : session.tokenLifetimeMs() + 5_000;
    const window = session.canAdvance ? lifetime : lifetime - (session.refreshMarginMs ?? 0);
    // Choice: with a declared margin, a refresh is needless when more than the margin (plus a
    // tolerance) was left; without one, when more than half of the lifetime was left.
    const threshold = session.refreshMarginMs !== undefined ? session.refreshMarginMs + toleranceMs(session) + 1 : lifetime / 2;
    const step = fc.integer({ min: 0, max: Math.floor(window / 3) });
    return sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(fc.tuple(step, apiCall), { minLength: 2, maxLength: 7 })), async ([scheduler, steps], session) => {
      try {
        const client = await session.refreshableClient({ lifetimeMs: lifetime });
        const from = mark(session);
        for (const [wait, c] of steps) {
          await session.advance(wait, ctx.signal);
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          ctx.step(`after ${wait} ms: ${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
        }
        const seen = requestsSince(session, from);
        const state = session.server.familyState(client.family);
        for (const r of tokenRequests(seen, client.family)) {
          const current = state.access[r.generation ?? 0];
          if (!current) continue;
          const left = current.expiresAt - r.at;
          if (left > threshold) {
            throw new Violation('SDK-05', `no refresh while more than ${Math.round(threshold)} ms are left`, `${describeRequest(session, r)} with ${left} ms left on the access token`, 'the SDK refreshed although its access token was far from expiry');
          }
        }
      } finally {
        await session.disposeClients();
      }
    });
  },
};

const singleFlight: Check = {
  id: 'sdk.single-flight',
  title: 'Single flight: concurrent calls needing a refresh cause exactly one refresh, and all proceed with the new token',
  requirements: ['SDK-06'],
  defaultRuns: 25,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(apiCall, { minLength: 2, maxLength: 8 }), fc.integer({ min: 20, max: 80 })), async ([scheduler, calls, delayMs], session) => {
      try {
        const client = await session.refreshableClient(startingExpired(true, ctx.signal));
        // Over real HTTP, a slower token endpoint widens the window in which a second refresh
        // could start; in-process, the scheduler explores the orders instead.
        if (!scheduler) session.server.inject({ on: 'token', action: { kind: 'delay', ms: delayMs }, times: 1 });
        const from = mark(session);
        const results = await concurrently<CallResult>(session, scheduler, calls.map((c) => () => session.call(client.client, c.method, c.path, c.body)));
        ctx.step(`${calls.length} concurrent calls after expiry → ${results.map((r) => describeOutcome(session, r.outcome)).join(', ')}`);
        const seen = requestsSince(session, from);
        for (const r of seen) ctx.step(`  server saw ${describeRequest(session, r)}`);
        // An SDK that refreshes only after a 401 fails SDK-04 here — rightly — but single flight is
        // still to be judged: its N calls then meet N 401s, and those must share one refresh too.
        goOn(() => assertNoExpiredBearer(session, seen, toleranceMs(session)));
        const refreshes = tokenRequests(seen, client.family);
        if (refreshes.length !== 1) {
          throw new Violation('SDK-06', 'exactly one refresh request', `${refreshes.length} refresh requests for ${calls.length} concurrent calls`, 'concurrent calls did not share one refresh');
        }
        // A call sent with the expired token is SDK-04's (judged above); one that went ahead with
        // the old token while it was still valid did not wait for the shared refresh.
        const old = apiRequests(seen, client.family).find((r) => (r.generation ?? 0) < 1 && !(r.remainingMs !== undefined && r.remainingMs <= 0));
        if (old) throw new Violation('SDK-06', 'every call with the new access token', describeRequest(session, old), 'a call went ahead with the old access token');
        for (const r of results) expectResponse(session, r, 'SDK-06', 'a call waiting for the shared refresh did not succeed');
      } finally {
        await session.disposeClients();
      }
    }),
};

const noReuse: Check = {
  id: 'sdk.no-reuse',
  title: 'After a rotation it never presents the superseded refresh token again',
  requirements: ['SDK-07'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(fc.tuple(fc.constantFrom('expire', 'unauthorized'), apiCall), { minLength: 2, maxLength: 5 })), async ([scheduler, steps], session) => {
      try {
        const client = await session.refreshableClient(startingExpired(steps[0]![0] === 'expire', ctx.signal));
        const from = mark(session);
        for (const [i, [how, c]] of steps.entries()) {
          if (how === 'expire' && i > 0) await expire(session, client, 1_000, ctx.signal);
          else session.server.inject({ on: 'api', action: { kind: 'status', status: 401, body: { message: 'token revoked' }, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' } }, times: 1 });
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          ctx.step(`${how === 'expire' ? 'after expiry' : 'after a 401'}: ${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
          assertNoReplay(session, requestsSince(session, from));
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

const tokensRefreshed: Check = {
  id: 'sdk.tokens-refreshed',
  title: 'TokensRefreshed fires exactly once per rotation with the new pair, before any call using it completes',
  requirements: ['SDK-08'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.integer({ min: 1, max: 3 }), apiCall), async ([scheduler, rotations, c], session) => {
      try {
        const client = await session.refreshableClient(startingExpired(true, ctx.signal));
        const from = mark(session);
        const completions: CallResult[] = [];
        for (let i = 0; i < rotations; i++) {
          if (i > 0) await expire(session, client, 1_000, ctx.signal);
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          completions.push(result);
          ctx.step(`rotation ${i + 1}: ${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
        }
        const rotated = tokenRequests(requestsSince(session, from), client.family).filter((r) => r.outcome === 'rotated');
        const events = eventsSince(session, from, client.client);
        ctx.step(`${rotated.length} rotation(s) on the server, ${events.length} TokensRefreshed event(s)`);
        if (events.length !== rotated.length) {
          throw new Violation('SDK-08', `${rotated.length} TokensRefreshed event(s) (one per rotation)`, `${events.length}`, 'TokensRefreshed did not fire exactly once per rotation');
        }
        const tolerance = Math.max(2_000, toleranceMs(session));
        for (const [i, event] of events.entries()) {
          const issued = rotated[i]!.issued!;
          const expiresAt = Date.parse(event.expiresAt);
          if (event.accessToken !== issued.accessToken || event.refreshToken !== issued.refreshToken || !(Math.abs(expiresAt - issued.expiresAt) <= tolerance)) {
            throw new Violation('SDK-08', 'the event carries the new access token, refresh token and expiry', `event ${i + 1} carries ${event.accessToken === issued.accessToken ? 'the new' : 'another'} access token, ${event.refreshToken === issued.refreshToken ? 'the new' : 'another'} refresh token, expiry off by ${Number.isNaN(expiresAt) ? '(unparsable)' : `${expiresAt - issued.expiresAt} ms`}`, 'TokensRefreshed carried the wrong pair');
          }
          const used = completions[i]!;
          if (event.seq > used.seq) {
            throw new Violation('SDK-08', 'the event before the call using the new token completes', `event at #${event.seq}, call completed at #${used.seq}`, 'TokensRefreshed fired after a call using the new token completed');
          }
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

const refreshRequest: Check = {
  id: 'sdk.refresh-request',
  title: 'The refresh is a POST to the configured token endpoint with grant_type=refresh_token, the refresh token and client_id',
  requirements: ['SDK-12'],
  defaultRuns: 5,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), clientIdName, apiCall), async ([scheduler, clientId, c], session) => {
      try {
        const client = await session.refreshableClient({ clientId, ...startingExpired(true, ctx.signal) });
        const from = mark(session);
        const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
        ctx.step(`after expiry: ${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
        const refresh = requestsSince(session, from).find((r) => r.kind === 'token' || (r.kind === 'other' && r.method === 'POST'));
        expectThat(Boolean(refresh), 'SDK-12', 'no refresh request reached the configured token endpoint', `POST ${session.server.tokenEndpoint}`, 'nothing');
        const r = refresh!;
        ctx.step(`refresh request: ${describeRequest(session, r)}, content-type ${r.contentType ?? '(none)'}`);
        const problems = refreshRequestProblems(session, r, clientId, client.tokens.refreshToken);
        if (problems.length) {
          throw new Violation('SDK-12', `POST ${session.server.tokenEndpoint} (form) grant_type=refresh_token&refresh_token=…&client_id=${clientId}`, problems.join('; '), 'the refresh request is not the documented one');
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

export const REFRESH_SDK_CHECKS: readonly Check[] = [currentBearer, proactive, noNeedlessRefresh, singleFlight, noReuse, tokensRefreshed, refreshRequest];
