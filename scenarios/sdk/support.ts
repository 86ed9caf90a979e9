/**
 * Shared pieces of the SDK checks: windows onto the model server's record, concurrency under
 * the scheduler (in-process) or for real (stdio), and judgements that several checks make.
 */
import fc from 'fast-check';
import type { CheckContext, CheckProperty } from '../../src/engine/check.js';
import { Skip, Violation } from '../../src/engine/outcomes.js';
import { property } from '../../src/engine/properties.js';
import type { CallOutcome } from '../../src/spec/adapter-protocol.js';
import type { RecordedRequest } from '../../src/targets/sdk/model-server.js';
import type { CallResult, RecordedEvent, SdkSession } from '../../src/targets/sdk/session.js';
import type { RequirementId } from '../../src/spec/requirements.js';

/**
 * A property over SDK runs: `body` gets the value and the run's own session — in real time a view
 * with a model server of its own, so that runs may overlap (`SdkSession.openRun`); otherwise the
 * session itself. The run's clients are disposed and its faults cleared when it ends.
 */
export function sdkProperty<T>(session: SdkSession, ctx: CheckContext, arbitrary: fc.Arbitrary<T>, body: (value: T, session: SdkSession) => Promise<void>): CheckProperty {
  return property(ctx, arbitrary, async (value) => {
    const run = await session.openRun(ctx.executionSink());
    try {
      await body(value, run);
    } finally {
      await run.closeRun();
    }
  });
}

/** A position in the record; `since` returns what happened after it. */
export interface Mark {
  requests: number;
  events: number;
}

export function mark(session: SdkSession): Mark {
  return { requests: session.server.requests.length, events: session.events.length };
}

export function requestsSince(session: SdkSession, from: Mark): RecordedRequest[] {
  return session.server.requests.slice(from.requests);
}

export function eventsSince(session: SdkSession, from: Mark, client?: string): RecordedEvent[] {
  return session.events.slice(from.events).filter((e) => client === undefined || e.client === client);
}

export function tokenRequests(requests: readonly RecordedRequest[], family?: string): RecordedRequest[] {
  return requests.filter((r) => r.kind === 'token' && (family === undefined || r.family === family));
}

export function apiRequests(requests: readonly RecordedRequest[], family?: string): RecordedRequest[] {
  return requests.filter((r) => r.kind === 'api' && (family === undefined || r.family === family));
}

/** A one-line description of an SDK outcome (redacted). */
export function describeOutcome(session: SdkSession, outcome: CallOutcome): string {
  if (outcome.outcome === 'response') return `response ${outcome.status}`;
  const e = outcome.error;
  const parts = [e.type, e.reason, e.statusCode !== undefined ? `status ${e.statusCode}` : undefined, e.retryAfterMs !== undefined ? `retryAfterMs ${e.retryAfterMs}` : undefined];
  return session.redactor.text(parts.filter(Boolean).join(' '));
}

export function describeRequest(session: SdkSession, r: RecordedRequest): string {
  const credential = r.kind === 'token' ? `refresh generation ${r.generation ?? '?'}` : r.generation !== undefined ? `access generation ${r.generation}` : r.apiKey ? 'the API key' : r.bearer ? 'an unknown bearer' : 'no bearer';
  return session.redactor.text(`#${r.seq} ${r.method} ${r.path} (${credential})${r.status !== undefined ? ` → ${r.status}` : ''}${r.fault ? ` [fault ${r.fault}]` : ''}`);
}

export function expectResponse(session: SdkSession, result: CallResult, requirement: RequirementId, summary: string): void {
  if (result.outcome.outcome !== 'response' || result.outcome.status < 200 || result.outcome.status >= 300) {
    throw new Violation(requirement, 'a 2xx response', describeOutcome(session, result.outcome), summary);
  }
}

/** Arbitrary of the scheduler when the transport is scheduled, else a constant undefined. */
export function schedulerArb(session: SdkSession): fc.Arbitrary<fc.Scheduler | undefined> {
  return session.transport === 'scheduled' ? fc.scheduler() : fc.constant(undefined);
}

/**
 * Runs `calls` concurrently. In-process, fast-check's scheduler orders every request's arrival at
 * the server and every answer, so each interleaving is explored and replayable; over stdio the
 * calls really overlap.
 */
export async function concurrently<T>(session: SdkSession, scheduler: fc.Scheduler | undefined, calls: Array<() => Promise<T>>): Promise<T[]> {
  if (!scheduler) return Promise.all(calls.map((c) => c()));
  session.scheduler = scheduler;
  try {
    const all = Promise.all(calls.map((c) => c()));
    await scheduler.waitFor(all);
    return await all;
  } finally {
    session.scheduler = undefined;
  }
}

/** Runs one call (through the scheduler when there is one: the transport is scheduled). */
export async function single(session: SdkSession, scheduler: fc.Scheduler | undefined, call: () => Promise<CallResult>): Promise<CallResult> {
  const [result] = await concurrently(session, scheduler, [call]);
  return result!;
}

/** SDK-07: the SDK never presents a superseded refresh token. */
export function assertNoReplay(session: SdkSession, requests: readonly RecordedRequest[], requirement: RequirementId = 'SDK-07'): void {
  const replay = requests.find((r) => r.kind === 'token' && r.superseded);
  if (replay) {
    throw new Violation(requirement, 'only the newest refresh token presented', `${describeRequest(session, replay)}: a superseded refresh token`, 'the SDK presented a refresh token that had already been rotated');
  }
}

/**
 * SDK-12: what is wrong with a refresh request the server saw (nothing: an empty list).
 * `refreshToken`, when given, is the token the request must present.
 */
export function refreshRequestProblems(session: SdkSession, r: RecordedRequest, clientId: string, refreshToken?: string): string[] {
  return [
    r.method !== 'POST' ? `method ${r.method}` : '',
    r.host !== new URL(session.server.baseUrl).host || !r.path.startsWith(session.server.tokenPath) ? `sent to ${r.host}${r.path}` : '',
    !(r.contentType ?? '').includes('application/x-www-form-urlencoded') ? `content-type ${r.contentType ?? '(none)'}` : '',
    r.form?.grant_type !== 'refresh_token' ? `grant_type ${r.form?.grant_type ?? '(none)'}` : '',
    refreshToken !== undefined && r.form?.refresh_token !== refreshToken ? 'not the refresh token it was given' : '',
    r.form?.client_id !== clientId ? `client_id ${r.form?.client_id ?? '(none)'} instead of ${clientId}` : '',
  ].filter(Boolean);
}

/** SDK-12: every refresh request in `requests` is the documented one for `clientId`. */
export function assertRefreshRequests(session: SdkSession, requests: readonly RecordedRequest[], clientId: string): void {
  for (const r of requests.filter((q) => q.kind === 'token')) {
    const problems = refreshRequestProblems(session, r, clientId);
    if (problems.length) {
      throw new Violation('SDK-12', `POST ${session.server.tokenEndpoint} (form) grant_type=refresh_token&refresh_token=…&client_id=${clientId}`, `${describeRequest(session, r)}: ${problems.join('; ')}`, 'the refresh request is not the documented one');
    }
  }
}

/**
 * Whether the SDK may have chosen the access token `r` carries the moment that token reached it:
 * a rotation delivered it while a call — sent before that delivery — was still waiting when `r`
 * arrived. Choice: such a request is not judged against the margin (only against expiry): the
 * SDK refreshed first, as SDK-04 asks, and its own work before sending (persisting the pair, on a
 * loaded machine) may age the token without any new decision of the SDK.
 */
function chosenOnDelivery(session: SdkSession, r: RecordedRequest): boolean {
  if (!r.generation || r.family === undefined) return false;
  const rotation = session.server.requests.find((q) => q.kind === 'token' && q.outcome === 'rotated' && q.family === r.family && q.generation === r.generation! - 1);
  const deliveredAt = rotation?.deliveredAt;
  if (deliveredAt === undefined) return false;
  return session.calls.some((c) => c.startedAt <= deliveredAt && (c.endedAt === undefined || c.endedAt >= r.at));
}

/**
 * SDK-04: no API request carries an access token past its expiry (or inside the declared margin,
 * judged at arrival within `toleranceMs` — except for a token the SDK may have chosen on delivery).
 */
export function assertNoExpiredBearer(session: SdkSession, requests: readonly RecordedRequest[], toleranceMs: number): void {
  const margin = session.refreshMarginMs ?? 0;
  for (const r of requests) {
    if (r.kind !== 'api' || r.remainingMs === undefined || r.fault) continue;
    if (r.remainingMs <= 0 || (r.remainingMs < margin - toleranceMs && !chosenOnDelivery(session, r))) {
      throw new Violation(
        'SDK-04',
        margin ? `an access token with at least the declared margin (${margin} ms) left` : 'an unexpired access token',
        `${describeRequest(session, r)} with ${r.remainingMs} ms left`,
        r.remainingMs <= 0 ? 'the SDK sent an expired access token instead of refreshing first' : 'the SDK sent an access token inside its own refresh margin instead of refreshing first',
      );
    }
  }
}

export function needsCapability(session: SdkSession, capability: 'apiKey' | 'refreshable' | 'tokenStore' | 'clock'): string | null {
  return session.capabilities[capability] ? null : `the adapter lacks the ${capability} capability`;
}

/** Tolerance for "at the same instant" on the shared timeline (real time flows outside scheduled runs). */
export function toleranceMs(session: SdkSession): number {
  return session.timelineToleranceMs;
}

export function requireCapability(session: SdkSession, capability: 'apiKey' | 'refreshable' | 'tokenStore'): void {
  const reason = needsCapability(session, capability);
  if (reason) throw new Skip(reason);
}
