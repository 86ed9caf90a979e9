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
import { ClockHookResponse, MintResponse, parseWire } from '../../spec/wire.js';
import { ForeignHostError, TransportError, type HttpResponse } from '../http.js';
import { bearer, type BackendDriver, type Credential, type Marker, type UserRole } from './driver.js';
import type { DeviceApprover, TokenPair, TokenSources } from './token-sources.js';

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
}

export class BackendSession {
  /** Who approves or denies device requests (test hooks or --device-approve-command), if anyone. */
  approver: DeviceApprover | undefined;
  /** Target time minus harness time (ms), learnt from the clock hook; moves with every advance. */
  private clockOffset = 0;

  constructor(
    readonly driver: BackendDriver,
    readonly redactor: Redactor,
    readonly ledger: CleanupLedger,
    readonly tokens: TokenSources,
    readonly identities: { admin?: Identity; user?: Identity },
    readonly options: BackendSessionOptions,
  ) {}

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

  newFamily(marker: Marker, user: UserRole = 'admin'): Promise<TokenPair> {
    return this.tokens.newFamily(marker, user);
  }

  /** The token sources themselves (the preflight keeps the family it obtained for a check). */
  get tokenSources(): TokenSources {
    return this.tokens;
  }

  /** Moves the target's clock; anything but a 2xx makes the check inconclusive. */
  async advanceClock(ms: number): Promise<void> {
    if (!this.hasClock) throw new Skip('needs a clock hook: a target with test hooks, or the profile key testClock');
    const before = Date.now();
    const response = await this.driver.advanceClock(ms);
    if (response.status < 200 || response.status >= 300) throw new Inconclusive(`the clock hook answered ${response.status}`);
    const parsed = parseWire(ClockHookResponse, response.json);
    const now = parsed.ok ? Date.parse(parsed.value.now) : Number.NaN;
    if (Number.isNaN(now)) throw new Inconclusive('the clock hook did not answer {"now": ISO-8601}');
    this.clockOffset = now - Math.round((before + Date.now()) / 2);
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
