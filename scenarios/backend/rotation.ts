/**
 * Backend: refresh tokens and rotation (RT-01 … RT-11). Token families come from the configured
 * source (test hooks, --token-command, the device flow); the model of token families, under the
 * declared policy, predicts every refresh and every use of an access token.
 */
import fc from 'fast-check';
import type { CheckContext, CheckDefinition } from '../../src/engine/check.js';
import { sleep } from '../../src/engine/limits.js';
import { Ambiguous, Inconclusive, Skip, Violation, deviation, expectThat, goOn } from '../../src/engine/outcomes.js';
import { modelProperty, property } from '../../src/engine/properties.js';
import { fingerprint } from '../../src/engine/redact.js';
import { TokenFamiliesModel, type Marker, type RefreshOutcome, type RefreshPrediction } from '../../src/model/token-families.js';
import { bearer } from '../../src/targets/backend/driver.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import type { TokenPair } from '../../src/targets/backend/token-sources.js';
import type { HttpResponse } from '../../src/targets/http.js';
import { formatDuration } from '../../src/engine/text.js';
import { authOutcome, describe, expectOAuthError, isClientRefusal, oauthErrorCode, tokenPair } from './support.js';
import type { RequirementId } from '../../src/spec/requirements.js';

type Check = CheckDefinition<BackendSession>;

/**
 * Markers this session can obtain families of (Cli first: the device flow is the common source).
 * Learnt before any property is built (the preflight tries every configured source), so that
 * generators draw only from what the sources can give: a case asking for a family nobody can
 * make would skip the whole check.
 */
function markers(session: BackendSession): Marker[] {
  return session.familyMarkers();
}

/** Skip reason when no family can be had (throws Inconclusive when a configured source failed). */
function needsFamilies(session: BackendSession): string | null {
  return session.familyProblem();
}

/** When the token endpoint refuses the harness's own client, no refresh can be judged. */
function needsClient(session: BackendSession): string | null {
  return session.clientRefusal();
}


/**
 * The refresh outcome of an answer: 200 + tokens, or a refusal in a form RFC 6749 §5.2 allows
 * (400 with an OAuth error; 401 with `invalid_client`); anything else violates.
 */
function refreshOutcome(session: BackendSession, response: HttpResponse, requirement: RequirementId, expected: string): RefreshOutcome {
  if (response.status === 200) return 'rotated';
  if (response.status === 400 && oauthErrorCode(response)) return 'rejected';
  if (response.status === 401 && oauthErrorCode(response) === 'invalid_client') return 'rejected';
  throw new Violation(requirement, expected, describe(session, response), 'the token endpoint answered neither tokens nor an RFC 6749 error');
}

/** One family's tokens, by generation. */
class FamilyTokens {
  readonly refresh: string[] = [];
  readonly access: string[] = [];
  constructor(readonly pair: TokenPair) {
    this.refresh.push(pair.refreshToken);
    this.access.push(pair.accessToken);
  }
  get current(): string {
    return this.refresh[this.refresh.length - 1]!;
  }
}

/**
 * Rotates a family once and checks RT-01: 200, the §5.1 shape, a refresh token never seen before
 * in the family. Returns the new pair.
 */
async function rotate(session: BackendSession, family: FamilyTokens, ctx: CheckContext, label = 'refresh'): Promise<void> {
  const response = await session.driver.refresh(family.current);
  ctx.step(`${label} generation ${family.refresh.length - 1} → ${response.status}`);
  const pair = tokenPair(session, response);
  if (family.refresh.includes(pair.refresh_token)) {
    throw new Violation('RT-01', 'a new refresh token (rotation)', `the refresh token ${fingerprint(pair.refresh_token)} again`, 'the refresh did not rotate the refresh token');
  }
  family.refresh.push(pair.refresh_token);
  family.access.push(pair.access_token);
}

// ---------------------------------------------------------------------------------------------
// The model-based check

interface FamiliesReal {
  session: BackendSession;
  tokens: FamilyTokens[];
  ctx: CheckContext;
  otherClientId: string;
}

function syncTime(model: TokenFamiliesModel, real: FamiliesReal): void {
  const now = real.session.targetNow();
  if (now > model.now) model.advance(now - model.now);
}

class NewFamilyCommand implements fc.AsyncCommand<TokenFamiliesModel, FamiliesReal> {
  constructor(readonly marker: Marker) {}
  check(model: Readonly<TokenFamiliesModel>): boolean {
    return model.families.length < 4;
  }
  async run(model: TokenFamiliesModel, real: FamiliesReal): Promise<void> {
    const pair = await real.session.newFamily(this.marker);
    // The family starts at its own issue time on the target's clock (it may be older than this
    // command: a spare, or one a slow command made), never at the time of its first use.
    syncTime(model, real);
    const family = model.addFamily(this.marker, pair.clientId, pair.expiresIn * 1000, { at: Math.min(pair.issuedAt, model.now), uncertaintyMs: pair.issueUncertaintyMs });
    real.tokens.push(new FamilyTokens(pair));
    real.ctx.step(`new ${this.marker} family #${family.id}`);
  }
  toString(): string {
    return `newFamily(${this.marker})`;
  }
}

class RefreshCommand implements fc.AsyncCommand<TokenFamiliesModel, FamiliesReal> {
  constructor(
    readonly pick: number,
    /** 0 = the current token; k = the token k rotations old. */
    readonly back: number,
    readonly foreignClient: boolean,
  ) {}
  check(model: Readonly<TokenFamiliesModel>): boolean {
    return model.families.length > 0;
  }
  async run(model: TokenFamiliesModel, real: FamiliesReal): Promise<void> {
    await this.present(model, real, true);
  }

  private predict(model: TokenFamiliesModel, real: FamiliesReal, familyId: number): { generation: number; clientId: string; prediction: RefreshPrediction } {
    const family = model.family(familyId);
    const generation = Math.max(0, Math.min(family.generation, real.tokens[familyId]!.refresh.length - 1) - this.back);
    const clientId = this.foreignClient ? real.otherClientId : family.clientId;
    return { generation, clientId, prediction: model.predictRefresh(familyId, generation, clientId) };
  }

  /**
   * Presents the token and judges the answer. `bracket`: when the presentation is expected to
   * kill a family (replay, idle expiry) or is a foreign client's, the families concerned are
   * refreshed right before and right after it (every other live family; or this family with its
   * own client), so that a refusal seen there has one possible cause: this presentation (RT-06,
   * RT-08), not time passing since their last rotation (RT-09).
   */
  private async present(model: TokenFamiliesModel, real: FamiliesReal, bracket: boolean): Promise<void> {
    syncTime(model, real);
    const familyId = this.pick % model.families.length;
    const preview = this.predict(model, real, familyId).prediction;
    const foreign = bracket && preview.kind === 'foreign-client';
    // The foreign case's own refresh before it may be what kills this family (idle expiry).
    const ownPreview = foreign ? model.predictRefresh(familyId, model.family(familyId).generation, model.family(familyId).clientId) : preview;
    const kills = bracket && (preview.kind === 'superseded' || preview.kind === 'idle-expired' || ownPreview.kind === 'idle-expired');
    const others = () => model.families.filter((f) => f.id !== familyId && !f.dead && !f.indeterminate).map((f) => f.id);
    if (kills) for (const other of others()) await new RefreshCommand(other, 0, false).present(model, real, false);
    if (foreign) await new RefreshCommand(familyId, 0, false).present(model, real, false);
    syncTime(model, real);
    const family = model.family(familyId);
    const tokens = real.tokens[familyId]!;
    const { generation, clientId, prediction } = this.predict(model, real, familyId);
    const response = await real.session.driver.refresh(tokens.refresh[generation]!, { clientId });
    const label = `refresh family #${familyId} with generation ${generation}${generation === family.generation ? ' (current)' : ''}${this.foreignClient ? ` as client ${clientId}` : ''}`;
    real.ctx.step(`${label} → ${response.status}${oauthErrorCode(response) ? ` ${oauthErrorCode(response)}` : ''}`);
    const expected = prediction.allowed.length > 1 ? '200 tokens or 400 invalid_grant' : prediction.allowed[0] === 'rotated' ? '200 with a new token pair' : '400 invalid_grant';
    const outcome = refreshOutcome(real.session, response, prediction.requirement, expected);
    if (!prediction.allowed.includes(outcome)) {
      if (prediction.or) throw new Ambiguous(`${label}: ${prediction.because}, yet it was ${outcome} — ${prediction.requirement} or ${prediction.or}, which the model cannot tell`);
      throw new Violation(prediction.requirement, expected, describe(real.session, response), `${label}: ${prediction.because}, yet it was ${outcome}`);
    }
    // A prediction that allowed one outcome only judged its requirement, and the target met it; a
    // rotation also exercised RT-01's shape and novelty.
    if (prediction.allowed.length === 1) real.ctx.exercised(prediction.requirement);
    if (outcome === 'rotated') real.ctx.exercised('RT-01');
    if (outcome === 'rejected' && prediction.allowed.length === 1 && !(prediction.kind === 'foreign-client' && isClientRefusal(response))) {
      // The refusal itself must be the one the requirement names (400 invalid_grant). A foreign
      // presentation refused as invalid_client / unauthorized_client was refused for the client,
      // not the token: its code cannot be judged (the bracketing refreshes still judge the rest).
      expectOAuthError(real.session, response, ['invalid_grant'], prediction.requirement, `${label} was refused, but not with invalid_grant`);
    }
    if (outcome === 'rotated') {
      const pair = tokenPair(real.session, response);
      // Under grace, a retry of the immediately previous token inside the window may be answered
      // with the successor already issued for it (an idempotent retry, as RT-07's grace clause
      // accepts "the same pair"): nothing new was issued, the family is as it was.
      if (prediction.kind === 'grace-previous' && pair.refresh_token === tokens.refresh[generation + 1]) {
        real.ctx.step('  (the grace retry returned the successor already issued: an idempotent retry)');
        return;
      }
      if (tokens.refresh.includes(pair.refresh_token)) {
        throw new Violation('RT-01', 'a new refresh token', `${fingerprint(pair.refresh_token)} again`, 'the refresh did not rotate the refresh token');
      }
      if (prediction.kind === 'current') {
        tokens.refresh.push(pair.refresh_token);
        tokens.access.push(pair.access_token);
      }
    }
    model.applyRefresh(familyId, prediction, outcome, tokens.pair.expiresIn * 1000);
    if (kills) for (const other of others()) await new RefreshCommand(other, 0, false).present(model, real, false);
    // A replay that killed the family: its newest refresh token and access token are looked at
    // right away (RT-04, RT-05), so that every replay the sequence makes is judged to the end.
    if (bracket && prediction.kind === 'superseded' && model.family(familyId).dead) {
      await new RefreshCommand(familyId, 0, false).present(model, real, false);
      await new UseAccessCommand(familyId, 0).run(model, real);
    }
    if (foreign && outcome === 'rejected' && !model.family(familyId).dead && !model.family(familyId).indeterminate) {
      await new RefreshCommand(familyId, 0, false).present(model, real, false);
    }
  }
  toString(): string {
    return `refresh(family ${this.pick}, ${this.back === 0 ? 'current' : `${this.back} back`}${this.foreignClient ? ', foreign client' : ''})`;
  }
}

class UseAccessCommand implements fc.AsyncCommand<TokenFamiliesModel, FamiliesReal> {
  constructor(
    readonly pick: number,
    readonly back: number,
  ) {}
  check(model: Readonly<TokenFamiliesModel>): boolean {
    return model.families.length > 0;
  }
  async run(model: TokenFamiliesModel, real: FamiliesReal): Promise<void> {
    syncTime(model, real);
    const familyId = this.pick % model.families.length;
    const tokens = real.tokens[familyId]!;
    const generation = Math.max(0, tokens.access.length - 1 - this.back);
    const prediction = model.predictAccess(familyId, generation);
    const response = await real.session.driver.probe(bearer(tokens.access[generation]!));
    const outcome = authOutcome(real.session, response, prediction.requirement, `an access token of family #${familyId}`);
    real.ctx.step(`use the access token of family #${familyId} generation ${generation} → ${response.status}`);
    if (!prediction.allowed.includes(outcome)) {
      throw new Violation(prediction.requirement, outcome === 'accepted' ? '401' : '2xx', describe(real.session, response), `${prediction.because}, yet the access token was ${outcome}`);
    }
    if (prediction.allowed.length === 1) real.ctx.exercised(prediction.requirement);
  }
  toString(): string {
    return `useAccess(family ${this.pick}, ${this.back === 0 ? 'newest' : `${this.back} back`})`;
  }
}

class AdvanceCommand implements fc.AsyncCommand<TokenFamiliesModel, FamiliesReal> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(model: TokenFamiliesModel, real: FamiliesReal): Promise<void> {
    await real.session.advanceClock(this.ms);
    syncTime(model, real);
    real.ctx.step(`let ${formatDuration(this.ms)} pass`);
  }
  toString(): string {
    return `advance(${formatDuration(this.ms)})`;
  }
}

const rotationModel: Check = {
  id: 'rt.rotation.model',
  title: 'Refresh rotation, replay detection, client binding, idle window and access tokens, against the model of token families',
  requirements: ['RT-01', 'RT-02', 'RT-03', 'RT-04', 'RT-05', 'RT-06', 'RT-08', 'RT-09'],
  // RT-08 only with a second client the target takes (learnt before the checks); RT-02 and
  // RT-09 only with a clock.
  requirementsFor: (s) =>
    rotationModel.requirements.filter((r) => (s.hasClock || (r !== 'RT-02' && r !== 'RT-09')) && (r !== 'RT-08' || s.otherClientProblem() === null)),
  defaultRuns: 30,
  exclusive: true,
  creditsOnlyExercised: true,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  limitsFor: (s) => ({ ...graceLimits(s, ['RT-03', 'RT-04', 'RT-05']), ...isolationLimits(s) }),
  property: (session, ctx) => {
    const idleMs = session.options.idleWindowSeconds * 1000;
    const kinds = markers(session);
    // Past a violation already found, the model cannot predict what follows it: leave out the
    // commands that would only run into it again, so that the rest is still explored (a foreign
    // client refreshing, RT-08, must not keep RT-01/RT-03/… unexplored).
    const known = ctx.known;
    const replays = !(['RT-03', 'RT-04', 'RT-05'] as const).some((id) => known.has(id));
    const commands: fc.Arbitrary<fc.AsyncCommand<TokenFamiliesModel, FamiliesReal>>[] = [
      fc.constantFrom(...kinds).map((m) => new NewFamilyCommand(m)),
      fc
        .tuple(fc.nat(3), replays ? fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) }) : fc.constant(0))
        .map(([p, b]) => new RefreshCommand(p, b, false)),
      // A second client the target does not take would only be refused as a client (RT-08
      // cannot be judged with it): no foreign presentations then; nor once RT-08 is known.
      ...(session.otherClientProblem() === null && !known.has('RT-08') ? [fc.nat(3).map((p) => new RefreshCommand(p, 0, true))] : []),
      ...(known.has('RT-02') ? [] : [fc.tuple(fc.nat(3), fc.nat(2)).map(([p, b]) => new UseAccessCommand(p, b))]),
    ];
    if (session.hasClock && !known.has('RT-09')) {
      commands.push(
        fc
          .oneof(fc.integer({ min: 1_000, max: 10 * 60_000 }), fc.integer({ min: Math.floor(idleMs * 0.3), max: Math.floor(idleMs * 1.2) }))
          .map((ms) => new AdvanceCommand(ms)),
      );
    }
    return modelProperty(
      ctx,
      commands,
      async () => {
        if (session.hasClock) await session.advanceClock(0);
        const model = new TokenFamiliesModel(session.policy, session.targetNow(), idleMs);
        // Every sequence starts with two families of the same user, so that its commands have
        // something to act on and every replay or expiry has a bystander to be isolated from (RT-06).
        const real: FamiliesReal = { session, tokens: [], ctx, otherClientId: session.options.otherClientId };
        await new NewFamilyCommand(kinds[0]!).run(model, real);
        await new NewFamilyCommand(kinds[kinds.length - 1]!).run(model, real);
        return { model, real };
      },
      { maxCommands: 14 },
    );
  },
};

// ---------------------------------------------------------------------------------------------
// Targeted checks

const shape: Check = {
  id: 'rt.rotation.shape',
  title: 'A refresh returns a new access token and a new refresh token in the RFC 6749 §5.1 shape',
  requirements: ['RT-01'],
  defaultRuns: 5,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  property: (session, ctx) =>
    property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.integer({ min: 1, max: 4 })), async ([marker, rotations]) => {
      const family = new FamilyTokens(await session.newFamily(marker));
      ctx.step(`new ${marker} family`);
      for (let i = 0; i < rotations; i++) {
        await rotate(session, family, ctx);
        const use = await session.driver.probe(bearer(family.access[family.access.length - 1]!));
        ctx.step(`use the new access token → ${use.status}`);
        if (authOutcome(session, use, 'RT-01', 'a freshly issued access token') !== 'accepted') {
          throw new Violation('RT-01', '2xx', describe(session, use), 'the access token from a refresh does not authenticate');
        }
      }
    }),
};

/** Longest wait in real time a check takes on without a clock hook. */
const REAL_TIME_WAIT_LIMIT_S = 10;

/** Lets time pass on the target: its clock hook, else real time. */
async function passTime(session: BackendSession, ms: number, signal: AbortSignal): Promise<void> {
  if (session.hasClock) await session.advanceClock(ms);
  else await sleep(ms, signal);
}

function canPassIdleWindow(session: BackendSession): boolean {
  return session.hasClock || session.options.idleWindowSeconds <= REAL_TIME_WAIT_LIMIT_S;
}

/** RT-06: what isolation claims the configuration leaves unexplored (grace window, idle expiry). */
function isolationLimits(session: BackendSession): Record<string, string> {
  const notes = [
    graceLimits(session, ['RT-06'])['RT-06'],
    canPassIdleWindow(session) ? undefined : `isolation from another family's idle expiry (window ${formatDuration(session.options.idleWindowSeconds * 1000)}) not explored: needs a clock hook`,
  ].filter((n): n is string => Boolean(n));
  return notes.length ? { 'RT-06': notes.join('; ') } : {};
}

/** Whether a run can get past the declared grace window: a clock hook, or a window short enough to wait. */
function canPassGraceWindow(session: BackendSession): boolean {
  return session.policy.kind !== 'grace' || session.hasClock || session.policy.seconds <= REAL_TIME_WAIT_LIMIT_S;
}

/**
 * What a grace policy leaves unexplored when the run cannot get past its window: a presentation
 * of the previous token after the window (it must then be a replay, with all that follows).
 */
function graceLimits(session: BackendSession, ids: readonly string[]): Record<string, string> {
  if (session.policy.kind !== 'grace' || canPassGraceWindow(session)) return {};
  const text = `presentations of the previous refresh token after the ${session.policy.seconds} s grace window not explored: needs a clock hook (or a window of 10 s or less)`;
  return Object.fromEntries(ids.map((id) => [id, text]));
}

function markersOrCli(session: BackendSession): Marker[] {
  const m = markers(session);
  return m.length ? m : ['Cli'];
}

const superseded: Check = {
  id: 'rt.superseded',
  title: 'After a rotation the superseded refresh token is refused with invalid_grant (grace: only the previous one, only within the window)',
  requirements: ['RT-03'],
  defaultRuns: 6,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  limitsFor: (s) => graceLimits(s, ['RT-03']),
  property: (session, ctx) => {
    const policy = session.policy;
    // Under grace, the previous token may legitimately work inside the window: present tokens
    // two or more rotations old, or the previous one once the window is over — where the run can
    // get past the window (a clock hook, or a window short enough to wait for).
    const olderTokens = (min: number) => fc.integer({ min, max: 4 }).chain((n) => fc.record({ rotations: fc.constant(n), back: fc.integer({ min, max: n }), afterWindow: fc.constant(false) }));
    const scenario =
      policy.kind === 'strict'
        ? olderTokens(1)
        : canPassGraceWindow(session)
          ? fc.oneof(olderTokens(2), fc.record({ rotations: fc.integer({ min: 1, max: 3 }), back: fc.constant(1), afterWindow: fc.constant(true) }))
          : olderTokens(2);
    return property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), scenario), async ([marker, s]) => {
      const family = new FamilyTokens(await session.newFamily(marker));
      for (let i = 0; i < s.rotations; i++) await rotate(session, family, ctx);
      if (s.afterWindow && policy.kind === 'grace') {
        const wait = policy.seconds * 1000 + 6_000;
        if (session.hasClock) await session.advanceClock(wait);
        else await sleep(wait, ctx.signal);
        ctx.step(`let ${formatDuration(wait)} pass (past the grace window)`);
      }
      const generation = family.refresh.length - 1 - s.back;
      const response = await session.driver.refresh(family.refresh[generation]!);
      ctx.step(`present generation ${generation} (${s.back} rotation(s) old) → ${response.status} ${oauthErrorCode(response) ?? ''}`);
      expectOAuthError(session, response, ['invalid_grant'], 'RT-03', `a refresh token superseded ${s.back} rotation(s) ago was not refused with invalid_grant`);
    });
  },
};

const replayRevokesFamily: Check = {
  id: 'rt.replay.family',
  title: "A replayed refresh token revokes the whole family: its newest refresh token and its access tokens",
  requirements: ['RT-04', 'RT-05'],
  defaultRuns: 6,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  limitsFor: (s) => graceLimits(s, ['RT-04', 'RT-05']),
  property: (session, ctx) => {
    const minBack = session.policy.kind === 'grace' ? 2 : 1;
    return property(
      ctx,
      fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.integer({ min: minBack, max: 4 })).chain(([marker, n]) => fc.tuple(fc.constant(marker), fc.constant(n), fc.integer({ min: minBack, max: n }))),
      async ([marker, rotations, back]) => {
        const family = new FamilyTokens(await session.newFamily(marker));
        for (let i = 0; i < rotations; i++) await rotate(session, family, ctx);
        const replayed = family.refresh.length - 1 - back;
        const replay = await session.driver.refresh(family.refresh[replayed]!);
        ctx.step(`replay generation ${replayed} → ${replay.status} ${oauthErrorCode(replay) ?? ''}`);
        // Each of RT-03, RT-04 and RT-05 is judged on its own: a replay that was not refused, or a
        // family that was not revoked, still leaves the access tokens to be looked at.
        goOn(() => expectOAuthError(session, replay, ['invalid_grant'], 'RT-03', 'a replayed refresh token was not refused'));
        const newest = await session.driver.refresh(family.current);
        ctx.step(`refresh with the newest token (generation ${family.refresh.length - 1}) → ${newest.status} ${oauthErrorCode(newest) ?? ''}`);
        if (refreshOutcome(session, newest, 'RT-04', '400 invalid_grant') !== 'rejected') {
          deviation(new Violation('RT-04', '400 invalid_grant (the family is revoked)', describe(session, newest), "after a replay, the family's newest refresh token still worked"));
        }
        const access = await session.driver.probe(bearer(family.access[family.access.length - 1]!));
        ctx.step(`use the family's newest access token → ${access.status}`);
        if (authOutcome(session, access, 'RT-05', "the family's newest access token") !== 'rejected') {
          throw new Violation('RT-05', '401', describe(session, access), "after replay detection, the family's access token still authenticated");
        }
      },
    );
  },
};

const isolation: Check = {
  id: 'rt.isolation',
  title: 'Replay detection or expiry in one family never affects another family of the same user',
  requirements: ['RT-06'],
  defaultRuns: 5,
  exclusive: true,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  limitsFor: isolationLimits,
  property: (session, ctx) =>
    // Every run tries both ways a family dies, a replay first (a run drawing one of them at
    // random let a target that revokes every family of the user on a replay pass all five runs
    // now and then); a family is let run out of its idle window only where the run can get there.
    property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.constantFrom(...markersOrCli(session)), fc.integer({ min: 1, max: 3 })), async ([markerA, markerB, rotations]) => {
      for (const how of canPassIdleWindow(session) ? (['replay', 'idle'] as const) : (['replay'] as const)) await isolationRound(session, ctx, markerA, markerB, how, rotations);
    }),
};

/** One round of `rt.isolation`: family A dies (`how`), family B of the same user still works. */
async function isolationRound(session: BackendSession, ctx: CheckContext, markerA: Marker, markerB: Marker, how: 'replay' | 'idle', rotations: number): Promise<void> {
  const victim = new FamilyTokens(await session.newFamily(markerA));
  let bystander = new FamilyTokens(await session.newFamily(markerB));
  ctx.step(`families A (${markerA}) and B (${markerB}) of the same user`);
  for (let i = 0; i < rotations; i++) {
    await rotate(session, victim, ctx, 'A: refresh');
    await rotate(session, bystander, ctx, 'B: refresh');
  }
  if (how === 'replay') {
    const replay = await session.driver.refresh(victim.refresh[0]!);
    ctx.step(`A: replay generation 0 → ${replay.status}`);
  } else {
    // Let A's idle window run out while B stays inside its own. B is a family started after
    // the first half, so that its own window covers the rest whether or not rotations slide
    // it (sliding is RT-09's business, not isolation's).
    const idleMs = session.options.idleWindowSeconds * 1000;
    await passTime(session, Math.floor(idleMs * 0.6), ctx.signal);
    bystander = new FamilyTokens(await session.newFamily(markerB));
    ctx.step(`B: a new ${markerB} family of the same user`);
    await rotate(session, bystander, ctx, 'B: refresh');
    await passTime(session, Math.floor(idleMs * 0.6), ctx.signal);
    ctx.step(`let A's idle window (${formatDuration(idleMs)}) run out`);
    const stale = await session.driver.refresh(victim.current);
    ctx.step(`A: refresh after its window → ${stale.status}`);
  }
  const after = await session.driver.refresh(bystander.current);
  ctx.step(`B: refresh → ${after.status}`);
  if (after.status !== 200) throw new Violation('RT-06', '200 with a new pair', describe(session, after), `family B stopped working after ${how === 'replay' ? 'a replay' : 'an idle expiry'} in family A`);
  const pair = tokenPair(session, after, 'RT-06');
  const use = await session.driver.probe(bearer(pair.access_token));
  ctx.step(`B: use its new access token → ${use.status}`);
  expectThat(authOutcome(session, use, 'RT-06', "family B's access token") === 'accepted', 'RT-06', "family B's access token was refused", '2xx', describe(session, use));
}

const concurrent: Check = {
  id: 'rt.concurrent',
  title: 'Concurrent refreshes of one refresh token leave at most one live successor (no fork)',
  requirements: ['RT-07'],
  defaultRuns: 40,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  property: (session, ctx) => {
    const maxBurst = Math.max(2, Math.min(8, session.options.concurrency));
    return property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.integer({ min: 2, max: maxBurst }), fc.nat(2)), async ([marker, burst, warmup]) => {
      const family = new FamilyTokens(await session.newFamily(marker));
      for (let i = 0; i < warmup; i++) await rotate(session, family, ctx);
      const presented = family.current;
      // Separate connections, fired in the same tick, so that the requests really overlap.
      const answers = await Promise.all(Array.from({ length: burst }, () => session.driver.refresh(presented, { freshConnection: true })));
      const successes = answers.filter((a) => a.status === 200).map((a) => tokenPair(session, a, 'RT-07'));
      ctx.step(`${burst} concurrent refreshes of generation ${warmup} → ${answers.map((a) => a.status).join(', ')}`);
      for (const answer of answers) {
        if (answer.status >= 500) throw new Violation('RT-07', '200 or 400 for each request', describe(session, answer), 'a concurrent refresh failed with a server error');
      }
      // A success handing back the presented token did not rotate at all: that is RT-01, not a fork.
      if (successes.some((p) => p.refresh_token === presented)) {
        throw new Violation('RT-01', 'a new refresh token (rotation)', `the presented refresh token ${fingerprint(presented)} again`, 'the refresh did not rotate the refresh token');
      }
      const distinct = new Map(successes.map((p) => [p.refresh_token, p]));
      if (session.policy.kind === 'strict' && successes.length > 1) {
        throw new Violation('RT-07', 'at most one success under strict', `${successes.length} of ${burst} concurrent refreshes succeeded (${distinct.size} distinct successors)`, 'concurrent refreshes forked the family');
      }
      // Probe every successor: count the ones whose refresh token still works.
      let live = 0;
      for (const [refreshToken, pair] of distinct) {
        const probe = await session.driver.refresh(refreshToken, { freshConnection: true });
        const access = await session.driver.probe(bearer(pair.access_token));
        ctx.step(`probe successor ${fingerprint(refreshToken)} → refresh ${probe.status}, access token ${access.status}`);
        if (probe.status === 200) live += 1;
      }
      if (live > 1) {
        throw new Violation('RT-07', 'at most one live successor', `${live} successors can still be refreshed`, 'concurrent refreshes forked the family');
      }
    });
  },
};

const clientBinding: Check = {
  id: 'rt.client-binding',
  title: 'A refresh token presented by another client fails with invalid_grant and is not rotated',
  requirements: ['RT-08'],
  defaultRuns: 4,
  // A second client the target does not know (or does not authenticate) cannot show that tokens
  // are bound to their client: skipped, naming how to configure one — never failed.
  skipReason: (s) => needsClient(s) ?? s.otherClientProblem() ?? needsFamilies(s),
  property: (session, ctx) =>
    property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.nat(2)), async ([marker, rotations]) => {
      const family = new FamilyTokens(await session.newFamily(marker));
      for (let i = 0; i < rotations; i++) await rotate(session, family, ctx);
      const other = session.options.otherClientId;
      const foreign = await session.driver.refresh(family.current, { clientId: other });
      ctx.step(`present the current token as client ${other} → ${foreign.status} ${oauthErrorCode(foreign) ?? ''}`);
      if (isClientRefusal(foreign)) {
        throw new Skip(
          `RT-08 cannot be judged: the target refused the second client ${JSON.stringify(other)} itself (${foreign.status} ${oauthErrorCode(foreign)}), not the token; ` +
            'set --other-client-id ID or the profile key otherClientId to another client registered on the target',
        );
      }
      expectOAuthError(session, foreign, ['invalid_grant'], 'RT-08', `a refresh token issued to ${family.pair.clientId} was not refused for ${other}`);
      const own = await session.driver.refresh(family.current);
      ctx.step(`present it as its own client → ${own.status}`);
      if (own.status !== 200) throw new Violation('RT-08', '200 (the token was neither rotated nor consumed)', describe(session, own), 'the refused foreign presentation consumed or revoked the token');
    }),
};

const idleWindow: Check = {
  id: 'rt.idle-window',
  title: 'A refresh token dies after the idle window, and each rotation restarts the window (sliding)',
  requirements: ['RT-09'],
  defaultRuns: 4,
  exclusive: true,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s) ?? (s.hasClock || s.options.idleWindowSeconds <= 10 ? null : `${s.noClockReason} (or a profile refreshIdleWindowSeconds ≤ 10 to wait in real time)`),
  property: (session, ctx) => {
    const idleMs = session.options.idleWindowSeconds * 1000;
    const margin = session.hasClock ? Math.min(60_000, Math.floor(idleMs / 10)) : 2_000;
    const pass = async (ms: number) => {
      if (ms <= 0) return;
      if (session.hasClock) await session.advanceClock(ms);
      else await sleep(ms, ctx.signal);
      ctx.step(`let ${formatDuration(ms)} pass`);
    };
    // At least two slides of more than half the window each, so that the total always exceeds it
    // (one slide alone would pass under a window that does not slide).
    return property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.integer({ min: 2, max: 3 }), fc.double({ min: 0.55, max: 0.95, noNaN: true })), async ([marker, slides, fraction]) => {
      const family = new FamilyTokens(await session.newFamily(marker));
      // The window runs from the family's issue time (the earliest it may have been: a family is
      // as old as its issue time says, not as old as this check's first use of it).
      let lastActivity = family.pair.issuedAt - family.pair.issueUncertaintyMs;
      // Each step stays inside the window but the total exceeds it: only a sliding window passes.
      for (let i = 0; i < slides; i++) {
        const step = Math.min(idleMs - margin, Math.max(margin, Math.floor(idleMs * fraction)));
        if (session.targetNow() - lastActivity > idleMs - margin) {
          throw new Inconclusive(`the ${marker} family was already ${formatDuration(session.targetNow() - lastActivity)} old when the check got it (idle window ${formatDuration(idleMs)}): the token source is too slow for this window`);
        }
        await pass(lastActivity + step - session.targetNow());
        lastActivity = session.targetNow();
        const response = await session.driver.refresh(family.current);
        ctx.step(`refresh inside the window (slide ${i + 1}) → ${response.status}`);
        if (response.status !== 200) {
          throw new Violation('RT-09', '200 (the window restarts at every rotation)', describe(session, response), 'a refresh inside the sliding idle window was refused');
        }
        const pair = tokenPair(session, response, 'RT-09');
        family.refresh.push(pair.refresh_token);
        family.access.push(pair.access_token);
      }
      await pass(idleMs + margin);
      const late = await session.driver.refresh(family.current);
      ctx.step(`refresh after the idle window → ${late.status} ${oauthErrorCode(late) ?? ''}`);
      expectOAuthError(session, late, ['invalid_grant'], 'RT-09', 'a refresh token still worked after the idle window');
    });
  },
};

type Garbage = { label: string; token: ((real: string | null) => string | null) };

const garbageTokens: fc.Arbitrary<Garbage> = fc.oneof(
  fc.base64String({ minLength: 40, maxLength: 64 }).map((t): Garbage => ({ label: 'an unknown random token', token: () => t.replace(/[+/=]/g, 'x') })),
  fc.constant<Garbage>({ label: 'an empty token', token: () => '' }),
  fc.constantFrom('null', 'undefined', '{}', ' ', 'Bearer x', '%00', 'é∂ƒ©', '../../etc/passwd', "' OR '1'='1").map((t): Garbage => ({ label: `a malformed token ${JSON.stringify(t)}`, token: () => t })),
  fc.integer({ min: 1, max: 20 }).map((cut): Garbage => ({ label: `a real token truncated by ${cut}`, token: (real) => (real && real.length > cut ? real.slice(0, -cut) : null) })),
  fc.nat(40).map((at): Garbage => ({ label: 'a real token with one character changed', token: (real) => (real ? flip(real, at % real.length) : null) })),
  fc.integer({ min: 2_000, max: 8_000 }).map((n): Garbage => ({ label: `a ${n}-character token`, token: () => 'A'.repeat(n) })),
);

function flip(text: string, at: number): string {
  const ch = text[at] === 'A' ? 'B' : 'A';
  return text.slice(0, at) + ch + text.slice(at + 1);
}

const garbage: Check = {
  id: 'rt.garbage',
  title: 'Unknown, malformed, truncated or empty refresh tokens get a 400 OAuth error, never tokens or a 5xx',
  requirements: ['RT-10'],
  defaultRuns: 15,
  skipReason: needsClient,
  property: (session, ctx) => {
    const kinds = markers(session);
    return property(ctx, garbageTokens, async (g) => {
      const real = kinds.length ? (await session.newFamily(kinds[0]!)).refreshToken : null;
      const token = g.token(real);
      if (token === null) return; // needs a real token and there is no token source
      const response = await session.driver.refresh(token);
      ctx.step(`refresh with ${g.label} → ${response.status} ${oauthErrorCode(response) ?? ''}`);
      expectOAuthError(session, response, ['invalid_grant', 'invalid_request'], 'RT-10', `${g.label} was not refused with a 400 OAuth error`);
    });
  },
};

const cacheHeaders: Check = {
  id: 'rt.cache-headers',
  title: 'Token responses carry Cache-Control: no-store',
  requirements: ['RT-11'],
  defaultRuns: 3,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  property: (session, ctx) =>
    property(ctx, fc.constantFrom(...markersOrCli(session)), async (marker) => {
      const family = await session.newFamily(marker);
      const response = await session.driver.refresh(family.refreshToken);
      const cacheControl = response.headers['cache-control'] ?? '';
      ctx.step(`refresh → ${response.status}, Cache-Control: ${cacheControl || '(none)'}`);
      tokenPair(session, response);
      expectThat(/(^|,)\s*no-store\s*(,|$)/i.test(cacheControl), 'RT-11', 'a token response may be cached', 'Cache-Control: no-store', cacheControl ? `Cache-Control: ${cacheControl}` : 'no Cache-Control header');
    }),
};

const accessExpiry: Check = {
  id: 'rt.access-expiry',
  title: 'An access token authenticates until it expires and gets 401 afterwards',
  requirements: ['RT-02'],
  defaultRuns: 3,
  exclusive: true,
  skipReason: (s) => needsClient(s) ?? needsFamilies(s),
  property: (session, ctx) =>
    property(ctx, fc.tuple(fc.constantFrom(...markersOrCli(session)), fc.boolean()), async ([marker, refreshed]) => {
      if (session.hasClock) await session.advanceClock(0);
      const family = new FamilyTokens(await session.newFamily(marker));
      // When the token was issued, on the target's clock: between `earliest` and `latest` (the
      // family's own issue time — it may be older than this run — or the rotation's).
      let earliest = family.pair.issuedAt - family.pair.issueUncertaintyMs;
      let latest = family.pair.issuedAt;
      if (refreshed) {
        earliest = session.targetNow();
        await rotate(session, family, ctx);
        latest = session.targetNow();
      }
      const lifetime = family.pair.expiresIn * 1000;
      if (!session.hasClock && lifetime > 10_000) throw new Skip(`${session.noClockReason} (access tokens live ${family.pair.expiresIn} s)`);
      const token = family.access[family.access.length - 1]!;
      const early = await session.driver.probe(bearer(token));
      ctx.step(`use the access token right away → ${early.status}`);
      // Judged only while the token is surely unexpired (1 s of margin for the request itself).
      if (session.targetNow() < earliest + lifetime - 1_000) {
        expectThat(authOutcome(session, early, 'RT-02', 'a fresh access token') === 'accepted', 'RT-02', 'a fresh access token was refused', '2xx', describe(session, early));
      }
      const past = latest + lifetime + 6_000 - session.targetNow();
      if (session.hasClock) await session.advanceClock(past);
      else await sleep(past, ctx.signal);
      ctx.step(`let the token expire (${family.pair.expiresIn} s + 6 s)`);
      const late = await session.driver.probe(bearer(token));
      ctx.step(`use it after expiry → ${late.status}`);
      expectThat(authOutcome(session, late, 'RT-02', 'an expired access token') === 'rejected', 'RT-02', 'an expired access token still authenticated', '401', describe(session, late));
    }),
};

export const ROTATION_CHECKS: readonly Check[] = [rotationModel, shape, superseded, replayRevokesFamily, isolation, concurrent, clientBinding, idleWindow, garbage, cacheHeaders, accessExpiry];
