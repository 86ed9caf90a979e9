/**
 * SDK: a model-based check of one refreshable session under generated sequences of concurrent
 * call bursts, clock advances and injected 401s. After every command the model server's record is
 * judged against the model and the requirements: current bearer (SDK-03), never an expired one
 * (SDK-04), one refresh per burst (SDK-06), never a superseded refresh token (SDK-07), one
 * TokensRefreshed per rotation with the new pair (SDK-08), no 401 loop (SDK-09).
 *
 * In real time (no clock hook) every run has its own client and model server, runs go side by
 * side, and time is let pass in earnest: advances are drawn within the few seconds a fresh token
 * stays clear of the margin, and a run lets at most `REAL_TIME_ADVANCE_BUDGET` windows pass.
 */
import fc from 'fast-check';
import type { CheckContext, CheckDefinition } from '../../src/engine/check.js';
import { Ambiguous, Violation, goOn } from '../../src/engine/outcomes.js';
import { modelProperty } from '../../src/engine/properties.js';
import { SdkSessionModel } from '../../src/model/sdk-session.js';
import type { CallResult, RefreshableClient, SdkSession } from '../../src/targets/sdk/session.js';
import { apiCall, type ApiCall } from './api-key.js';
import {
  apiRequests,
  assertNoExpiredBearer,
  assertNoReplay,
  concurrently,
  describeOutcome,
  describeRequest,
  eventsSince,
  mark,
  needsCapability,
  requestsSince,
  tokenRequests,
  toleranceMs,
} from './support.js';

interface SessionReal {
  session: SdkSession;
  ctx: CheckContext;
  client: RefreshableClient;
  scheduler: fc.Scheduler | undefined;
}

function sync(model: SdkSessionModel, real: SessionReal): void {
  const now = real.session.clock.now();
  if (now > model.now) model.advance(now - model.now);
}

class BurstCommand implements fc.AsyncCommand<SdkSessionModel, SessionReal> {
  /**
   * `all401`: every request carrying the current access token is answered 401 (as when the server
   * revoked it while several calls were in flight): the concurrent 401 handlers must share one
   * refresh (modelcontextprotocol/typescript-sdk PR #1813: each handler refreshed on its own and
   * replayed the rotated refresh token, which revoked the family).
   */
  constructor(
    readonly calls: ApiCall[],
    readonly all401 = false,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: SdkSessionModel, real: SessionReal): Promise<void> {
    const { session, client, ctx } = real;
    sync(model, real);
    // Not on top of a 401 already pending (that one would land on any request).
    const all401 = this.all401 && !model.pending401;
    if (all401) {
      const state = session.server.familyState(client.family);
      const current = state.access[state.generation]!.token;
      session.server.inject({
        on: 'api',
        credential: current,
        action: { kind: 'status', status: 401, body: { message: 'token revoked' }, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"' } },
        times: this.calls.length,
      });
      model.pending401 = true;
    }
    const allowedRefreshes = model.maxRefreshesForBurst();
    const usualExtra = model.extraRefreshRequirement();
    // 401s the server may serve in this burst (each call retries once after its own).
    const injected = all401 ? this.calls.length : model.pending401 ? 1 : 0;
    const from = mark(session);
    const results = await concurrently<CallResult>(session, real.scheduler, this.calls.map((c) => () => session.call(client.client, c.method, c.path, c.body)));
    model.pending401 = false;
    session.server.clearFaults();
    const seen = requestsSince(session, from);
    ctx.step(`${this.calls.length} concurrent call(s)${model.mustRefresh() ? ' needing a refresh' : ''}${all401 ? ' with every request carrying the current access token answered 401' : injected ? ` with ${injected} 401(s) injected` : ''} → ${results.map((r) => describeOutcome(session, r.outcome)).join(', ')}`);
    for (const r of seen) ctx.step(`  server saw ${describeRequest(session, r)}`);

    // A reactive-only SDK fails SDK-04 here; once that is known, the burst is still judged on
    // everything else (a request sent with the expired token earns a 401 and one retry).
    goOn(() => assertNoExpiredBearer(session, seen, toleranceMs(session)));
    const expiredSent = seen.filter((r) => r.kind === 'api' && !r.fault && r.remainingMs !== undefined && r.remainingMs <= 0).length;
    const refreshes = tokenRequests(seen, client.family);
    // A refresh presenting a token whose rotation had not reached the SDK yet overlapped another
    // refresh: the concurrent calls did not share one (SDK-06), which is not reuse (SDK-07).
    // A refresh that arrived before the rotation of the token it presents was answered overlapped
    // that rotation: the concurrent calls did not share one refresh (SDK-06), which is not reuse
    // (SDK-07). In-process the server sees the moment the SDK sends, so this is always decided.
    const overlapping = refreshes.find((r) => r.superseded && r.rotationSeen === false);
    if (overlapping && this.calls.length > 1) {
      throw new Violation('SDK-06', 'one refresh shared by the concurrent calls', `${describeRequest(session, overlapping)}, while the rotation of that token was still in flight`, 'concurrent calls did not share one refresh');
    }
    // Over HTTP, a superseded token presented in the same burst as the refresh that rotated it,
    // arriving after that answer was written, may have been chosen before the SDK read the answer
    // (no single flight, SDK-06) or after (reuse, SDK-07; or a second refresh for one 401, SDK-09):
    // the server cannot tell, nor can the SDK's TokensRefreshed event (the choice may precede it).
    // Such a burst is set aside unless all its calls were rejected together (then more than one
    // refresh is SDK-06 whatever the tokens); sdk.single-flight, sdk.no-reuse and
    // sdk.unauthorized-retry decide each requirement on its own, and later bursts show a reuse
    // unambiguously.
    const rotatedHere = new Set(refreshes.filter((r) => r.outcome === 'rotated').map((r) => r.form?.refresh_token));
    const unclear = this.calls.length > 1 ? refreshes.find((r) => r.superseded && !r.rotationSeenExact && rotatedHere.has(r.form?.refresh_token)) : undefined;
    const ambiguous = (): Ambiguous => new Ambiguous(`${describeRequest(session, unclear!)}: a superseded refresh token presented in the burst that rotated it (overlap, reuse or a second refresh: not decidable over HTTP)`);
    if (refreshes.length > allowedRefreshes) {
      // A refresh sent before the injected 401 came back, while the token was far from expiry, is
      // needless (SDK-05) whatever follows; only refreshes after the 401 are the 401's (SDK-09).
      const faultAt = seen.findIndex((r) => r.kind === 'api' && r.fault !== undefined);
      const beforeFault = faultAt < 0 ? refreshes.length : refreshes.filter((r) => seen.indexOf(r) < faultAt).length;
      // Several calls rejected together with one token need one refresh between them (SDK-06).
      const shared401 = all401 && this.calls.length > 1;
      if (unclear && !shared401) throw ambiguous();
      const extraRequirement = injected && beforeFault > 0 && !model.mayRefresh() ? 'SDK-05' : shared401 ? 'SDK-06' : usualExtra;
      const summary = { 'SDK-09': 'more refreshes than the 401 called for', 'SDK-06': shared401 ? 'concurrent 401s did not share one refresh' : 'concurrent calls did not share one refresh', 'SDK-05': 'refreshed although the access token was far from expiry' }[extraRequirement];
      throw new Violation(extraRequirement, `at most ${allowedRefreshes} refresh request(s)`, `${refreshes.length}`, summary);
    }
    if (unclear) throw ambiguous();
    assertNoReplay(session, seen);
    const api = apiRequests(seen);
    if (api.length > this.calls.length + injected + expiredSent) {
      throw new Violation('SDK-09', `at most ${this.calls.length + injected + expiredSent} API requests (one retry per 401)`, `${api.length}`, 'calls were retried more than once');
    }
    const stale = api.find((r) => r.family === client.family && (r.generation ?? 0) < model.generation && !r.fault);
    if (stale) throw new Violation('SDK-03', 'the newest access token', describeRequest(session, stale), 'a request carried an access token older than the current one');

    // Rotations the server performed, then the events they must have raised (SDK-08).
    const rotations = refreshes.filter((r) => r.outcome === 'rotated');
    const events = eventsSince(session, from, client.client);
    if (events.length !== rotations.length) {
      throw new Violation('SDK-08', `${rotations.length} TokensRefreshed event(s)`, `${events.length}`, 'TokensRefreshed did not fire exactly once per rotation');
    }
    for (const [i, event] of events.entries()) {
      const issued = rotations[i]!.issued!;
      if (event.accessToken !== issued.accessToken || event.refreshToken !== issued.refreshToken) {
        throw new Violation('SDK-08', 'the new access and refresh tokens', `event ${i + 1} carries another pair`, 'TokensRefreshed carried the wrong pair');
      }
    }
    for (const rotation of rotations) model.rotated(rotation.issued!.expiresAt);
    for (const [i, r] of results.entries()) {
      if (r.outcome.outcome !== 'response') {
        throw new Violation('SDK-09', 'a 2xx (the server accepted fresh credentials)', describeOutcome(session, r.outcome), `call ${i + 1} of the burst failed`);
      }
    }
  }
  toString(): string {
    return `burst(${this.calls.map((c) => `${c.method} ${c.path}`).join(', ')}${this.all401 ? ', all 401' : ''})`;
  }
}

/** Choice: in real time a run lets at most three not-due windows pass in all (bounded runs of seconds). */
const REAL_TIME_ADVANCE_BUDGET = 3;

class AdvanceCommand implements fc.AsyncCommand<SdkSessionModel, SessionReal> {
  /**
   * `scaleMs`: what a fraction of 1 means — a token lifetime when time moves instantly; in real
   * time the window a fresh token stays clear of the declared margin (its lifetime without one),
   * so that 1.5 brings the token well inside the margin in seconds. `budgetMs`: the most a run
   * may let pass (real time), judged on what the sequence asked for, so replays skip alike.
   */
  constructor(
    readonly fraction: number,
    readonly scaleMs: number,
    readonly budgetMs: number,
  ) {}
  private get ms(): number {
    return Math.floor(this.fraction * this.scaleMs);
  }
  check(model: Readonly<SdkSessionModel>): boolean {
    return model.advancedMs + this.ms <= this.budgetMs;
  }
  async run(model: SdkSessionModel, real: SessionReal): Promise<void> {
    const ms = this.ms;
    model.advancedMs += ms;
    await real.session.advance(ms, real.ctx.signal);
    sync(model, real);
    real.ctx.step(`let ${ms} ms pass`);
  }
  toString(): string {
    return `advance(${this.fraction.toFixed(2)} × lifetime)`;
  }
}

class Unauthorized401Command implements fc.AsyncCommand<SdkSessionModel, SessionReal> {
  check(model: Readonly<SdkSessionModel>): boolean {
    return !model.pending401;
  }
  async run(model: SdkSessionModel, real: SessionReal): Promise<void> {
    real.session.server.inject({
      on: 'api',
      action: { kind: 'status', status: 401, body: { message: 'authentication required' }, headers: { 'www-authenticate': 'Bearer realm="ekso", error="invalid_token", error_description="expired"' } },
      times: 1,
    });
    model.pending401 = true;
    real.ctx.step('the API will answer the next request with 401');
  }
  toString(): string {
    return 'next401()';
  }
}

export const sessionModel: CheckDefinition<SdkSession> = {
  id: 'sdk.session.model',
  title: 'A refreshable session under sequences of concurrent bursts, time and 401s, against the session model',
  requirements: ['SDK-03', 'SDK-04', 'SDK-05', 'SDK-06', 'SDK-07', 'SDK-08', 'SDK-09'],
  defaultRuns: 25,
  skipReason: (s) => needsCapability(s, 'refreshable'),
  property: (session, ctx) => {
    const scheduler = session.transport === 'scheduled' ? fc.scheduler() : fc.constant(undefined);
    const scaleMs = session.canAdvance ? session.tokenLifetimeMs() : session.tokenLifetimeMs() - (session.refreshMarginMs ?? 0);
    const budgetMs = session.canAdvance ? Infinity : REAL_TIME_ADVANCE_BUDGET * scaleMs;
    const commands: fc.Arbitrary<fc.AsyncCommand<SdkSessionModel, SessionReal>>[] = [
      fc.array(apiCall, { minLength: 1, maxLength: 5 }).map((calls) => new BurstCommand(calls)),
      fc.array(apiCall, { minLength: 2, maxLength: 5 }).map((calls) => new BurstCommand(calls, true)),
      fc.double({ min: 0.05, max: 1.5, noNaN: true }).map((f) => new AdvanceCommand(f, scaleMs, budgetMs)),
      fc.constant(new Unauthorized401Command()),
    ];
    return modelProperty(
      ctx,
      commands,
      async (drawn: fc.Scheduler | undefined) => {
        // Each run with a client of its own — and in real time a model server of its own.
        const run = await session.openRun(ctx.executionSink());
        try {
          const client = await run.refreshableClient();
          const model = new SdkSessionModel(run.clock.now(), client.tokens.expiresAt, run.refreshMarginMs, run.tokenLifetimeMs(), toleranceMs(run));
          return { model, real: { session: run, ctx, client, scheduler: drawn }, dispose: () => run.closeRun() };
        } catch (error) {
          await run.closeRun();
          throw error;
        }
      },
      { maxCommands: 10, extra: scheduler },
    );
  },
};
