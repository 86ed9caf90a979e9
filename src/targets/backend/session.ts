/**
 * Everything a backend check can use: the driver, the identities (admin and user API keys), the
 * token sources, the target's clock (if it has one), the declared policy, the cleanup ledger.
 * It adds bookkeeping to the driver (every key minted goes into the ledger at once) but no
 * judgement: responses are returned as they came.
 */
import type { CleanupLedger } from '../../engine/ledger.js';
import { Inconclusive, Skip } from '../../engine/outcomes.js';
import type { Redactor } from '../../engine/redact.js';
import type { Policy } from '../../model/policy.js';
import { ClockHookResponse, MintResponse, OAuthError, parseWire } from '../../spec/wire.js';
import { ForeignHostError, TransportError, type HttpResponse } from '../http.js';
import { bearer, type BackendDriver, type Credential, type Marker, type UserRole } from './driver.js';
import { CLIENT_REFUSALS, type DeviceApprover, type FamilyProblem, type TargetClock, type TokenPair, type TokenSources } from './token-sources.js';

export interface Identity {
  key: string;
  /** Known when the harness minted it itself (test hooks): then it is revoked at the end. */
  id?: string;
}

export interface BackendSessionOptions {
  policy: Policy;
  /** ERR-04 bursts past the target's rate limit (opt-in). */
  checkRateLimit: boolean;
  /** The refresh idle window the profile declares (RT-09). */
  idleWindowSeconds: number;
  /** Most requests in flight at once (caps the RT-07 burst size). */
  concurrency: number;
  /** The second client id (RT-08). */
  otherClientId: string;
  /** Where the second client id came from (named in skip reasons). */
  otherClientIdFrom?: 'default' | 'profile' | 'flag';
}

/** Whether the token endpoint takes a client at all (learnt once, before the checks). */
export interface ClientStanding {
  /** Null: the target authenticated the client (it judged the grant); else why not. */
  refused: string | null;
}

export class BackendSession implements TargetClock {
  /** Who approves or denies device requests (test hooks or --device-approve-command), if anyone. */
  approver: DeviceApprover | undefined;
  /** Target time minus harness time (ms), learnt from the clock hook; moves with every advance. */
  private clockOffset = 0;
  /** Forward moves of the target's clock so far (a family obtained before one is older than it looks). */
  clockMoves = 0;
  /** Why the clock hook is not used although one was named or advertised (shown in skip reasons). */
  clockProblem: string | undefined;
  /** The token endpoint's answer to each client id (`probeClients`), for RT-08 and every refresh. */
  private readonly clients = new Map<string, ClientStanding>();

  constructor(
    readonly driver: BackendDriver,
    readonly redactor: Redactor,
    readonly ledger: CleanupLedger,
    readonly tokens: TokenSources,
    readonly identities: { admin?: Identity; user?: Identity },
    readonly options: BackendSessionOptions,
  ) {
    // Families are stamped with their issue time on the target's clock.
    tokens.clock = this;
  }

  get policy(): Policy {
    return this.options.policy;
  }

  get hasClock(): boolean {
    return Boolean(this.driver.endpoints.testClock);
  }

  /** Skip reason when the identity is missing, naming the option. */
  missingIdentity(role: UserRole): string | null {
    if (this.identities[role]) return null;
    return role === 'admin'
      ? 'needs a super-admin API key: --admin-key KEY (EKSO_ADMIN_API_KEY)'
      : 'needs a non-admin API key: --user-key KEY (EKSO_USER_API_KEY)';
  }

  credentialOf(role: UserRole): Credential {
    const identity = this.identities[role];
    if (!identity) throw new Skip(this.missingIdentity(role) ?? '');
    return bearer(identity.key);
  }

  /**
   * Mints with the given identity's key; any key the target creates goes into the ledger. The
   * name carries the run's tag (`ledger.keyName`), so that a key whose mint got no answer — or a
   * key created by a refused mint — is still found in the listing at the end and revoked.
   */
  async mintKey(by: UserRole | Credential, body: unknown): Promise<HttpResponse> {
    const credential = typeof by === 'string' ? this.credentialOf(by) : by;
    const named = withTaggedName(body, this.ledger);
    const answered = this.ledger.mintSent();
    let response: HttpResponse;
    try {
      response = await this.driver.mintKey(credential, named);
    } catch (error) {
      // Only a mint that may have reached the target stays unanswered: one refused before it
      // was sent (another origin, or the run already stopped) created nothing.
      if (error instanceof ForeignHostError || (error instanceof TransportError && error.failure === 'aborted' && / not sent$/.test(error.message))) answered();
      throw error;
    }
    answered();
    if (response.status >= 200 && response.status < 300) {
      const minted = parseWire(MintResponse, response.json);
      if (minted.ok) {
        this.redactor.add(minted.value.rawKey);
        this.ledger.recordMint(minted.value.id, typeof body === 'object' && body && 'name' in body ? String((body as { name: unknown }).name) : 'key');
      }
    }
    return response;
  }

  /** Revokes with the admin key (unless told otherwise); a 2xx marks the ledger entry revoked. */
  async revokeKey(id: string, options: { via?: 'post-revoke' | 'delete'; by?: UserRole | Credential } = {}): Promise<HttpResponse> {
    const by = options.by ?? 'admin';
    const credential = typeof by === 'string' ? this.credentialOf(by) : by;
    const response = await this.driver.revokeKey(credential, id, options.via);
    if (response.status >= 200 && response.status < 300) this.ledger.recordRevoked(id);
    return response;
  }

  unavailableFamily(marker: Marker, user: UserRole = 'admin'): string | null {
    return this.tokens.unavailable(marker, user);
  }

  /** The markers whose families this configuration can provide (learnt by the preflight). */
  familyMarkers(user: UserRole = 'admin', among: readonly Marker[] = ['Cli', 'Web']): Marker[] {
    return among.filter((m) => this.unavailableFamily(m, user) === null);
  }

  /**
   * For a check's `skipReason`: null when a family of one of `among` can be had; a skip reason
   * when the configuration cannot provide any; throws Inconclusive when a configured source
   * failed (the run cannot say anything about these requirements, and must not look green).
   */
  familyProblem(among: readonly Marker[] = ['Cli', 'Web'], user: UserRole = 'admin'): string | null {
    if (this.familyMarkers(user, among).length) return null;
    const problems = among.map((m) => this.tokens.problem(m, user)).filter((p): p is FamilyProblem => Boolean(p));
    const failed = problems.find((p) => p.verdict === 'inconclusive');
    if (failed) throw new Inconclusive(failed.reason);
    return problems[0]?.reason ?? 'no token source';
  }

  /**
   * Asks the token endpoint once per client id whether it takes the client: a refresh with a
   * token that cannot exist. RFC 6749 §5.2: `invalid_grant` (or `invalid_request`) means the
   * client was authenticated and the grant judged; `invalid_client` or `unauthorized_client` (400
   * or 401) means the client itself was refused — a configuration the harness got wrong (an
   * unregistered client id, a missing secret), never a verdict on the target.
   */
  async probeClient(clientId: string): Promise<ClientStanding> {
    const known = this.clients.get(clientId);
    if (known) return known;
    let response: HttpResponse;
    try {
      response = await this.driver.refresh('ekso-conformance-client-probe-no-such-token-0123456789', { clientId });
    } catch (error) {
      // What the client probe learns is a courtesy: a token endpoint that resets, hangs or lives
      // on another origin is the refreshing checks' to find and report, not a reason to stop here.
      if ((error instanceof TransportError && error.failure !== 'aborted') || error instanceof ForeignHostError) {
        const standing: ClientStanding = { refused: null };
        this.clients.set(clientId, standing);
        return standing;
      }
      throw error;
    }
    const parsed = parseWire(OAuthError, response.json);
    const code = parsed.ok ? parsed.value.error : null;
    const standing: ClientStanding = {
      refused:
        (response.status === 400 || response.status === 401) && code && CLIENT_REFUSALS.includes(code)
          ? `the token endpoint refused the client ${JSON.stringify(clientId)} itself (${response.status} ${code}): it is not registered there, or not authenticated`
          : null,
    };
    this.clients.set(clientId, standing);
    return standing;
  }

  /** Null when the harness's own client was taken by the token endpoint (or not probed); else why not, naming the options. */
  clientRefusal(): string | null {
    const refused = this.clients.get(this.driver.clientId)?.refused;
    return refused ? `${refused}: set --client-id to a client of the target (and the profile key clientSecret for a confidential one)` : null;
  }

  /** Null when the second client (RT-08) can be judged with; else why not, naming how to configure one. */
  otherClientProblem(): string | null {
    const id = this.options.otherClientId;
    if (id === this.driver.clientId) return `the second client id ${JSON.stringify(id)} is the harness's own client: set --other-client-id ID (or the profile key otherClientId) to another registered client`;
    const refused = this.clients.get(id)?.refused;
    if (!refused) return null;
    const from = this.options.otherClientIdFrom === 'flag' ? ' (--other-client-id)' : this.options.otherClientIdFrom === 'profile' ? ' (profile otherClientId)' : ' (the default)';
    return `RT-08 cannot be judged with this second client${from}: ${refused}; set --other-client-id ID or the profile key otherClientId to another client registered on the target`;
  }

  newFamily(marker: Marker, user: UserRole = 'admin'): Promise<TokenPair> {
    return this.tokens.newFamily(marker, user);
  }

  /** The token sources themselves (the preflight keeps the family it obtained for a check). */
  get tokenSources(): TokenSources {
    return this.tokens;
  }

  /** Why there is no clock, naming the options (and what a clock hook that failed answered). */
  get noClockReason(): string {
    return `needs a clock hook: a target with test hooks, or the profile key testClock${this.clockProblem ? ` (${this.clockProblem})` : ''}`;
  }

  /** Moves the target's clock; anything but a 2xx makes the check inconclusive. */
  async advanceClock(ms: number): Promise<void> {
    if (!this.hasClock) throw new Skip(this.noClockReason);
    if (ms > 0) this.clockMoves += 1;
    const before = Date.now();
    const response = await this.driver.advanceClock(ms);
    if (response.status < 200 || response.status >= 300) throw new Inconclusive(`the clock hook answered ${response.status}`);
    const parsed = parseWire(ClockHookResponse, response.json);
    const now = parsed.ok ? Date.parse(parsed.value.now) : Number.NaN;
    if (Number.isNaN(now)) throw new Inconclusive('the clock hook did not answer {"now": ISO-8601}');
    this.clockOffset = now - Math.round((before + Date.now()) / 2);
  }

  /**
   * Reads the clock hook once before the checks (`advanceMs: 0`): the target's time is known from
   * the start — a target whose clock an earlier run moved is days ahead of the harness — and a
   * clock hook that does not answer is dropped, with the reason, instead of making every check
   * that needs it inconclusive. Returns that reason, if any.
   */
  async readClock(): Promise<string | undefined> {
    if (!this.hasClock) return undefined;
    const url = this.driver.endpoints.testClock!;
    try {
      await this.advanceClock(0);
      return undefined;
    } catch (error) {
      if (!(error instanceof Inconclusive)) throw error;
      this.clockProblem = `the clock hook ${url} ${error.diagnosis.replace(/^the clock hook /, '')}`;
      const { testClock: _dropped, ...rest } = this.driver.endpoints;
      this.driver.endpoints = rest;
      return `${this.clockProblem}: no clock — checks that need one wait in real time where that is short, or are skipped`;
    }
  }

  /**
   * The target's current time (epoch ms) as best known: harness time plus the offset the clock
   * hook reported. Without a clock hook, the harness's own clock.
   */
  targetNow(): number {
    return Date.now() + this.clockOffset;
  }
}

/** The mint body with its name tagged for this run (a body without a string name is sent as it is). */
function withTaggedName(body: unknown, ledger: CleanupLedger): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const name = (body as { name?: unknown }).name;
  return typeof name === 'string' ? { ...body, name: ledger.keyName(name) } : body;
}
