/**
 * Refresh-token families, as the requirements describe them (RT-*), under a declared policy.
 * Pure: tokens are (family, generation) handles; the check holds the raw values.
 *
 * A family is the chain of refresh tokens descending from one grant. Generation 0 is the token
 * the grant issued; a successful refresh of the current generation issues the next one.
 * Predictions are sets of allowed outcomes. Where the policy leaves a choice (a grace retry may
 * succeed or not) or the harness cannot know the target's time precisely (within `skewMs` of an
 * instant), several outcomes are allowed and the family becomes *indeterminate*: from then on the
 * model no longer predicts its refresh outcomes (only shapes and status classes are judged), as
 * a Porcupine-style nondeterministic model would after an `:info` operation.
 */
import type { FamilyMarker } from '../spec/wire.js';
import type { Policy } from './policy.js';
import type { RequirementId } from '../spec/requirements.js';

/** A family's marker (one type for the concept: src/spec/wire.ts). */
export type Marker = FamilyMarker;
export type RefreshOutcome = 'rotated' | 'rejected';
export type AccessOutcome = 'accepted' | 'rejected';

export interface AccessTokenRecord {
  readonly generation: number;
  /** Latest target time at which it may expire (issued at most `uncertaintyMs` earlier than assumed). */
  readonly expiresAt: number;
  /** How much earlier than `expiresAt` it may really expire (the issue time's uncertainty). */
  readonly uncertaintyMs: number;
}

/** When a family was issued, in target time, as well as the harness knows it. */
export interface IssueTime {
  /** Target time (epoch ms) by which the grant had been issued (the answer's arrival). */
  readonly at: number;
  /** How much earlier it may have been issued (how long obtaining it took). */
  readonly uncertaintyMs: number;
}

export interface FamilyState {
  readonly id: number;
  readonly marker: Marker;
  readonly clientId: string;
  /** The current (newest) generation. */
  generation: number;
  /** Target time at which each generation was issued (index = generation). */
  readonly issuedAt: number[];
  /** Start of the sliding idle window (last successful rotation or the grant). */
  lastActivity: number;
  /** How much earlier than `lastActivity` it may really have been (the grant's issue uncertainty; 0 after a rotation). */
  lastActivityUncertaintyMs: number;
  /** Replay detected (or idle expiry): every token of the family is dead. */
  dead: boolean;
  /** Why the family died (for explanations). */
  deathCause: 'replay' | 'idle' | null;
  indeterminate: boolean;
  readonly accessTokens: AccessTokenRecord[];
  /** A presentation with a foreign client_id since the last rotation (RT-08 explanations). */
  foreignAttemptSinceRotation: boolean;
  /** Number of model events when the family last rotated (or began): what happened since is after it. */
  eventsAtLastActivity: number;
}

export interface RefreshPrediction {
  readonly allowed: readonly RefreshOutcome[];
  /** The requirement a disallowed outcome violates. */
  readonly requirement: RequirementId;
  /** Why the model expects this (for the failure message). */
  readonly because: string;
  /** What kind of presentation this is. */
  readonly kind: 'current' | 'superseded' | 'grace-previous' | 'foreign-client' | 'dead-family' | 'idle-expired' | 'indeterminate';
  /**
   * Another requirement a disallowed outcome may just as well contradict: the model cannot tell
   * which (the execution is then set aside, and each requirement is decided by its own check).
   */
  readonly or?: string;
}

export interface AccessPrediction {
  readonly allowed: readonly AccessOutcome[];
  readonly requirement: RequirementId;
  readonly because: string;
}

export class TokenFamiliesModel {
  readonly families: FamilyState[] = [];
  /** Deaths of families and clock moves, for explaining an unexpected refusal. */
  private readonly events: Array<{ at: number; kind: 'death' | 'advance'; familyId?: number }> = [];

  constructor(
    readonly policy: Policy,
    /** Target time now (epoch ms). */
    public now: number,
    readonly idleWindowMs: number,
    readonly skewMs = 5_000,
  ) {}

  /**
   * A family the target issued at `issued` (target time; default now). A family obtained before
   * the model began — or before the clock moved — starts at its own issue time, not at the time
   * it is first used: its idle window and its first access token have been running since then.
   */
  addFamily(marker: Marker, clientId: string, accessTtlMs: number, issued: IssueTime = { at: this.now, uncertaintyMs: 0 }): FamilyState {
    if (issued.at > this.now) throw new Error('a family issued in the model\'s future (advance the model to the target\'s time first)');
    const uncertaintyMs = Math.max(0, issued.uncertaintyMs);
    const family: FamilyState = {
      id: this.families.length,
      marker,
      clientId,
      generation: 0,
      issuedAt: [issued.at],
      lastActivity: issued.at,
      lastActivityUncertaintyMs: uncertaintyMs,
      dead: false,
      deathCause: null,
      indeterminate: false,
      accessTokens: [{ generation: 0, expiresAt: issued.at + accessTtlMs, uncertaintyMs }],
      foreignAttemptSinceRotation: false,
      eventsAtLastActivity: this.events.length,
    };
    this.families.push(family);
    return family;
  }

  family(id: number): FamilyState {
    const family = this.families[id];
    if (!family) throw new Error(`no family ${id}`);
    return family;
  }

  advance(ms: number): void {
    this.now += ms;
    this.events.push({ at: this.now, kind: 'advance' });
  }

  /**
   * Which requirement a refusal of a live family's current token contradicts, most specific
   * first: a foreign presentation that must not have consumed it (RT-08), another family's death
   * since this one last rotated (RT-06), time passing within the sliding window (RT-09), else the
   * plain rotation (RT-01). (The model-based check refreshes the families concerned right before
   * and right after a foreign presentation or a family's death, so that only one of these can
   * have happened since the last rotation.)
   */
  private explainCurrentRefused(family: FamilyState): { requirement: RequirementId; because: string; or?: RequirementId } {
    if (family.foreignAttemptSinceRotation) {
      return { requirement: 'RT-08', because: 'the current token, after a refused presentation by another client (which must neither rotate nor consume it)' };
    }
    const since = family.lastActivity;
    // By order, not by time: a death in the same millisecond as a later rotation is not "since".
    const death = this.events.slice(family.eventsAtLastActivity).find((e) => e.kind === 'death' && e.familyId !== family.id);
    const timePassed = this.events.some((e) => e.kind === 'advance' && e.at > since);
    if (death) {
      // Time passed too: a window that does not slide (RT-09) would refuse it just as well.
      return { requirement: 'RT-06', because: `the current token of a live family (family #${death.familyId} died meanwhile; families are independent)`, ...(timePassed ? { or: 'RT-09' } : {}) };
    }
    if (timePassed) {
      return { requirement: 'RT-09', because: `the current token, ${this.now - since} ms after its family's last rotation (inside the idle window)` };
    }
    return { requirement: 'RT-01', because: 'the current refresh token of a live family' };
  }

  private idleState(family: FamilyState): 'alive' | 'expired' | 'ambiguous' {
    // The real idle time is between `idle` and `idle + uncertainty` (a grant obtained by a
    // command that took a while may have been issued any time during it).
    const idle = this.now - family.lastActivity;
    if (idle + family.lastActivityUncertaintyMs < this.idleWindowMs - this.skewMs) return 'alive';
    if (idle > this.idleWindowMs + this.skewMs) return 'expired';
    return 'ambiguous';
  }

  /** RT-01, RT-03, RT-04, RT-08, RT-09: what presenting generation `generation` with `clientId` may get. */
  predictRefresh(familyId: number, generation: number, clientId: string): RefreshPrediction {
    const family = this.family(familyId);
    if (family.indeterminate) {
      return { allowed: ['rotated', 'rejected'], requirement: 'RT-03', because: 'an earlier answer left this family indeterminate', kind: 'indeterminate' };
    }
    // A superseded token must be refused as RT-03 says (400 invalid_grant) whatever the window.
    const idleRequirement = generation < family.generation ? 'RT-03' : 'RT-09';
    if (family.dead) {
      return {
        allowed: ['rejected'],
        requirement: family.deathCause === 'idle' ? idleRequirement : 'RT-04',
        because: family.deathCause === 'idle' ? 'the family outlived its idle window' : 'a replay revoked the whole family',
        kind: 'dead-family',
      };
    }
    if (clientId !== family.clientId) {
      return { allowed: ['rejected'], requirement: 'RT-08', because: `the token was issued to ${family.clientId}, not ${clientId}`, kind: 'foreign-client' };
    }
    const idle = this.idleState(family);
    if (idle === 'expired') {
      return { allowed: ['rejected'], requirement: idleRequirement, because: `no rotation for more than the idle window (${this.idleWindowMs / 1000} s)`, kind: 'idle-expired' };
    }
    if (generation === family.generation) {
      const allowed: RefreshOutcome[] = idle === 'ambiguous' ? ['rotated', 'rejected'] : ['rotated'];
      return { allowed, ...this.explainCurrentRefused(family), kind: 'current' };
    }
    if (generation > family.generation) throw new Error('a generation that was never issued');
    const supersededAt = family.issuedAt[generation + 1] ?? family.issuedAt[family.generation]!;
    if (this.policy.kind === 'grace' && generation === family.generation - 1) {
      const age = this.now - supersededAt;
      const windowMs = this.policy.seconds * 1000;
      if (age < windowMs - this.skewMs) {
        return { allowed: ['rotated', 'rejected'], requirement: 'RT-03', because: `the immediately previous token, ${age} ms after its rotation (grace ${this.policy.seconds} s)`, kind: 'grace-previous' };
      }
      if (age <= windowMs + this.skewMs) {
        return { allowed: ['rotated', 'rejected'], requirement: 'RT-03', because: 'the previous token at the edge of the grace window', kind: 'grace-previous' };
      }
    }
    return {
      allowed: ['rejected'],
      requirement: 'RT-03',
      because:
        this.policy.kind === 'grace' && generation < family.generation - 1
          ? `generation ${generation} is ${family.generation - generation} rotations old (grace covers only the immediately previous token)`
          : `generation ${generation} was superseded by generation ${family.generation}`,
      kind: 'superseded',
    };
  }

  /** Records what the target answered and moves the family accordingly. */
  applyRefresh(familyId: number, prediction: RefreshPrediction, outcome: RefreshOutcome, accessTtlMs: number): void {
    const family = this.family(familyId);
    if (!prediction.allowed.includes(outcome)) return; // a violation: the check stops here anyway
    if (prediction.allowed.length > 1) {
      // The policy (or the clock skew) left a choice.
      if (prediction.kind === 'current' && outcome === 'rejected') family.indeterminate = true;
      if (prediction.kind === 'grace-previous') {
        // A grace retry that succeeded issued a new successor; one that failed may or may not
        // have revoked the family. Either way the family's exact state is now the target's call.
        family.indeterminate = true;
        return;
      }
    }
    switch (prediction.kind) {
      case 'current':
        if (outcome === 'rotated') this.rotate(family, accessTtlMs);
        return;
      case 'superseded':
        this.kill(family, 'replay');
        return;
      case 'idle-expired':
        this.kill(family, 'idle');
        return;
      case 'foreign-client':
        family.foreignAttemptSinceRotation = true;
        return;
      default:
        return;
    }
  }

  private kill(family: FamilyState, cause: 'replay' | 'idle'): void {
    if (!family.dead) this.events.push({ at: this.now, kind: 'death', familyId: family.id });
    family.dead = true;
    family.deathCause = cause;
  }

  private rotate(family: FamilyState, accessTtlMs: number): void {
    family.generation += 1;
    family.issuedAt.push(this.now);
    family.lastActivity = this.now;
    family.lastActivityUncertaintyMs = 0;
    family.foreignAttemptSinceRotation = false;
    family.eventsAtLastActivity = this.events.length;
    family.accessTokens.push({ generation: family.generation, expiresAt: this.now + accessTtlMs, uncertaintyMs: 0 });
  }

  /** RT-02, RT-05: what a request with the access token of generation `generation` may get. */
  predictAccess(familyId: number, generation: number): AccessPrediction {
    const family = this.family(familyId);
    const token = family.accessTokens.find((t) => t.generation === generation);
    if (!token) throw new Error('an access token that was never issued');
    if (this.now > token.expiresAt + this.skewMs) {
      return { allowed: ['rejected'], requirement: 'RT-02', because: 'the access token has expired' };
    }
    const nearExpiry = this.now >= token.expiresAt - token.uncertaintyMs - this.skewMs;
    if (family.dead && family.deathCause === 'replay') {
      return { allowed: ['rejected'], requirement: 'RT-05', because: "replay detection revoked the family's access tokens" };
    }
    if (family.indeterminate || family.dead || nearExpiry) {
      return { allowed: ['accepted', 'rejected'], requirement: 'RT-02', because: 'the outcome is not determined' };
    }
    // A refusal after another family died since this token was issued contradicts RT-06 first.
    const issuedAt = family.issuedAt[generation] ?? family.lastActivity;
    const death = this.events.find((e) => e.kind === 'death' && e.familyId !== family.id && e.at >= issuedAt);
    if (death) return { allowed: ['accepted'], requirement: 'RT-06', because: `an unexpired access token of a live family (family #${death.familyId} died meanwhile; families are independent)` };
    return { allowed: ['accepted'], requirement: 'RT-02', because: 'an unexpired access token of a live family' };
  }

  /** Families that a command may still usefully refresh. */
  liveFamilies(): FamilyState[] {
    return this.families.filter((f) => !f.dead && !f.indeterminate);
  }
}
