/**
 * Where OAuth token families come from (CONTRACT §2): the test hooks of a target that has them,
 * a user's `--token-command`, or the device flow driven by the harness with a
 * `--device-approve-command`. A source that cannot produce what a check needs says so with a
 * reason naming the option that would enable it — the check is then skipped, never passed.
 */
import { Inconclusive, Skip } from '../../engine/outcomes.js';
import type { Redactor } from '../../engine/redact.js';
import { DeviceAuthorizationResponse, OAuthError, TokenResponse, parseWire } from '../../spec/wire.js';
import { sleep } from '../../engine/limits.js';
import { lastLines, runShell } from '../shell.js';
import type { BackendDriver, Marker, UserRole } from './driver.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds, as the target said. */
  expiresIn: number;
  /** Harness wall-clock time (ms) when the pair was received. */
  obtainedAt: number;
  /** Harness wall-clock time (ms) when the request (or command) that yielded it began. */
  requestedAt: number;
  /**
   * Target time (epoch ms) by which the family had been issued: when it arrived, on the target's
   * clock as the harness knows it (`TokenSources` stamps it). A family is as old as this says —
   * not as old as the moment a check first uses it.
   */
  issuedAt: number;
  /** How much earlier than `issuedAt` it may have been issued (how long obtaining it took). */
  issueUncertaintyMs: number;
  marker: Marker;
  user: UserRole;
  clientId: string;
}

export interface TokenSource {
  /** Null when this source can (try to) produce the family; otherwise why not, naming an option. */
  unavailable(marker: Marker, user: UserRole): string | null;
  newFamily(marker: Marker, user: UserRole): Promise<TokenPair>;
}

/**
 * The device flow answered outside RFC 8628 (a DF-* requirement the device-flow checks judge):
 * at check time the family is inconclusive; in the preflight the device flow stops being a source
 * and what needed it is skipped with this reason — the target's fault, reported as the DF
 * failure it is, never as a run-stopping "target unusable".
 */
export class DeviceFlowDeviation extends Inconclusive {
  constructor(
    readonly requirement: 'DF-01' | 'DF-02',
    diagnosis: string,
  ) {
    super(diagnosis);
  }
}

/** RFC 6749 §5.2 / RFC 8628 §3.2 refusals of the client itself (not of the grant). */
export const CLIENT_REFUSALS: readonly string[] = ['invalid_client', 'unauthorized_client'];

function pairFrom(json: unknown, marker: Marker, user: UserRole, clientId: string, origin: string, requestedAt: number): TokenPair {
  const parsed = parseWire(TokenResponse, json);
  if (!parsed.ok) throw new Inconclusive(`${origin} did not give a token pair: ${parsed.error}`);
  const obtainedAt = Date.now();
  return {
    accessToken: parsed.value.access_token,
    refreshToken: parsed.value.refresh_token,
    expiresIn: parsed.value.expires_in,
    obtainedAt,
    requestedAt,
    // Harness time until `TokenSources` puts it on the target's clock.
    issuedAt: obtainedAt,
    issueUncertaintyMs: obtainedAt - requestedAt,
    marker,
    user,
    clientId,
  };
}

/** CONTRACT §4: `/__conformance/token` of the embedded reference or `serve --test-hooks`. */
export class HookTokenSource implements TokenSource {
  constructor(private readonly driver: BackendDriver) {}

  unavailable(): string | null {
    return this.driver.hasTestHooks ? null : 'the target has no test hooks';
  }

  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const requestedAt = Date.now();
    const response = await this.driver.hookToken(marker, user);
    if (response.status !== 200) throw new Inconclusive(`test hook /token answered ${response.status} for a ${marker} family`);
    return pairFrom(response.json, marker, user, this.driver.clientId, 'test hook /token', requestedAt);
  }
}

/** `--token-command CMD`: prints `{access_token, refresh_token, expires_in, token_type}`; exit 3 = cannot. */
export class CommandTokenSource implements TokenSource {
  private readonly cannot = new Set<string>();

  constructor(
    private readonly command: string,
    private readonly driver: BackendDriver,
    private readonly redactor: Redactor,
    private readonly timeoutMs = 60_000,
    /** Ctrl-C / --max-time: a command still running is ended. */
    private readonly signal?: AbortSignal,
  ) {}

  unavailable(marker: Marker, user: UserRole): string | null {
    return this.cannot.has(`${marker}/${user}`) ? `--token-command cannot produce ${marker} families for ${user} (it exited 3)` : null;
  }

  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const reason = this.unavailable(marker, user);
    if (reason) throw new Skip(reason);
    const requestedAt = Date.now();
    const result = await runShell(
      this.command,
      {
        EKSO_CONFORMANCE_MARKER: marker,
        EKSO_CONFORMANCE_USER: user,
        EKSO_CONFORMANCE_BASE_URL: this.driver.baseUrl,
        EKSO_CONFORMANCE_CLIENT_ID: this.driver.clientId,
      },
      this.timeoutMs,
      this.signal,
    );
    if (result.code === 3) {
      this.cannot.add(`${marker}/${user}`);
      throw new Skip(this.unavailable(marker, user) ?? '');
    }
    if (this.signal?.aborted) throw new Inconclusive('--token-command was stopped (Ctrl-C or --max-time)');
    if (result.timedOut) throw new Inconclusive(`--token-command did not finish within ${this.timeoutMs / 1000} s`);
    if (result.code !== 0) {
      throw new Inconclusive(`--token-command exited ${result.code}: ${this.redactor.text(lastLines(result.stderr) || '(no stderr)')}`);
    }
    if (result.overlongLastLine) throw new Inconclusive(`--token-command ${result.overlongLastLine}`);
    let json: unknown;
    try {
      json = JSON.parse(result.stdout.trim().split(/\r?\n/).pop() ?? '');
    } catch {
      throw new Inconclusive('--token-command did not print one JSON object on stdout');
    }
    const pair = pairFrom(json, marker, user, this.driver.clientId, '--token-command', requestedAt);
    this.redactor.add(pair.accessToken);
    this.redactor.add(pair.refreshToken);
    return pair;
  }
}

/** Acts on a pending device request: approve or deny it (a person's step, automated). */
export interface DeviceApprover {
  readonly description: string;
  act(device: DeviceAuthorizationResponse, decision: 'approve' | 'deny'): Promise<void>;
}

export class HookDeviceApprover implements DeviceApprover {
  readonly description = 'test hook /device/approve';
  constructor(private readonly driver: BackendDriver) {}

  async act(device: DeviceAuthorizationResponse, decision: 'approve' | 'deny'): Promise<void> {
    const response = await this.driver.hookApprove(device.user_code, decision);
    if (response.status < 200 || response.status >= 300) throw new Inconclusive(`test hook /device/approve answered ${response.status}`);
  }
}

export class CommandDeviceApprover implements DeviceApprover {
  readonly description = '--device-approve-command';
  constructor(
    private readonly command: string,
    private readonly driver: BackendDriver,
    private readonly redactor: Redactor,
    private readonly timeoutMs = 120_000,
    private readonly signal?: AbortSignal,
  ) {}

  async act(device: DeviceAuthorizationResponse, decision: 'approve' | 'deny'): Promise<void> {
    const result = await runShell(
      this.command,
      {
        EKSO_CONFORMANCE_USER_CODE: device.user_code,
        EKSO_CONFORMANCE_VERIFICATION_URI: device.verification_uri,
        EKSO_CONFORMANCE_VERIFICATION_URI_COMPLETE: device.verification_uri_complete ?? '',
        EKSO_CONFORMANCE_BASE_URL: this.driver.baseUrl,
        EKSO_CONFORMANCE_DECISION: decision,
      },
      this.timeoutMs,
      this.signal,
    );
    if (this.signal?.aborted) throw new Inconclusive('--device-approve-command was stopped (Ctrl-C or --max-time)');
    if (result.timedOut) throw new Inconclusive(`--device-approve-command did not finish within ${this.timeoutMs / 1000} s`);
    if (result.code !== 0) {
      throw new Inconclusive(`--device-approve-command exited ${result.code}: ${this.redactor.text(lastLines(result.stderr) || '(no stderr)')}`);
    }
  }
}

/** Runs the device flow (RFC 8628) to obtain a `Cli` family. */
export class DeviceFlowTokenSource implements TokenSource {
  /** Set when the target refused the harness's client at the device authorization endpoint. */
  private refusedClient: string | undefined;

  constructor(
    private readonly driver: BackendDriver,
    private readonly approver: DeviceApprover,
    private readonly signal?: AbortSignal,
  ) {}

  unavailable(marker: Marker, user: UserRole): string | null {
    if (marker !== 'Cli') return 'the device flow yields Cli families only';
    if (user !== 'admin') return 'the device approver acts as the admin user only';
    if (!this.driver.endpoints.deviceAuthorizationEndpoint) {
      return 'no device authorization endpoint (discovery metadata or the profile key deviceAuthorizationEndpoint)';
    }
    return this.refusedClient ?? null;
  }

  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const reason = this.unavailable(marker, user);
    if (reason) throw new Skip(reason);
    const start = await this.driver.deviceAuthorize();
    const device = parseWire(DeviceAuthorizationResponse, start.json);
    if (start.status !== 200 || !device.ok) {
      const refusal = parseWire(OAuthError, start.json);
      if ((start.status === 400 || start.status === 401) && refusal.ok && CLIENT_REFUSALS.includes(refusal.value.error)) {
        // RFC 8628 §3.2 / RFC 6749 §5.2: the client itself is refused — the harness's
        // configuration, not a fault of the target.
        this.refusedClient =
          `the device authorization endpoint refused the client ${JSON.stringify(this.driver.clientId)} (${refusal.value.error}): ` +
          'set --client-id to a client the target allows the device flow';
        throw new Skip(this.refusedClient);
      }
      throw new DeviceFlowDeviation('DF-01', `device authorization answered ${start.status}${device.ok ? '' : `: ${device.error}`} (DF-01)`);
    }
    this.driver.http.redactor.add(device.value.device_code);
    await this.approver.act(device.value, 'approve');
    let interval = Math.max(device.value.interval, 0) * 1000;
    const deadline = Date.now() + device.value.expires_in * 1000;
    for (;;) {
      const requestedAt = Date.now();
      const poll = await this.driver.pollDevice(device.value.device_code);
      if (poll.status === 200) return pairFrom(poll.json, 'Cli', user, this.driver.clientId, 'the device flow', requestedAt);
      const error = parseWire(OAuthError, poll.json);
      const code = error.ok ? error.value.error : `HTTP ${poll.status}`;
      if (code === 'slow_down') interval += 5000;
      else if (code !== 'authorization_pending') throw new DeviceFlowDeviation('DF-02', `the device flow ended with ${code} after approval (DF-02)`);
      if (Date.now() + interval > deadline || this.signal?.aborted) throw new Inconclusive('the device flow did not yield tokens before the code expired');
      await sleep(Math.max(interval, 200), this.signal);
    }
  }
}

/** The target's clock as the session knows it (from the clock hook; else the harness's own). */
export interface TargetClock {
  /** The target's current time (epoch ms), as best known. */
  targetNow(): number;
  /** How many times the harness has moved the target's clock forward so far. */
  readonly clockMoves: number;
}

export type SourceName = 'device' | 'command' | 'hooks';

/** Why a kind of family cannot be had: by configuration (skip) or because its source failed. */
export interface FamilyProblem {
  reason: string;
  /** `skip`: configuration, or a target fault another check reports; `inconclusive`: a source failed. */
  verdict: 'skip' | 'inconclusive';
}

/**
 * Picks a source per kind of family.
 *
 * Choice: families come from the sources the user names. With `--device-approve-command` or
 * `--token-command`, only those are used — Cli: the device flow, else the token command; Web: the
 * token command — and the test hooks (if the target advertises them) serve the clock, the
 * identities and device approvals only. Without either option, the test hooks make every
 * family. A user who configured a source is testing it; a family quietly made by a hook instead
 * would hide that the source cannot make it.
 *
 * A source that fails in the preflight for a kind of family is not asked again for that kind;
 * the next configured source (if any) takes over, else the checks needing that kind are skipped or
 * inconclusive with the reason — the rest of the run goes on.
 */
export class TokenSources implements TokenSource {
  /** Families obtained ahead (the preflight's), handed out while still fresh. */
  private readonly spares: Array<{ pair: TokenPair; clockMoves: number }> = [];
  /** Sources that failed in the preflight, per kind of family. */
  private readonly failed = new Map<string, { source: SourceName; problem: FamilyProblem }>();
  /** Set by the session: the target time that families are stamped with. */
  clock: TargetClock = { targetNow: () => Date.now(), clockMoves: 0 };

  constructor(
    private readonly sources: { device?: TokenSource; command?: TokenSource; hooks?: TokenSource },
    /** A spare older than this (target time) is not handed out. */
    private readonly maxSpareAgeMs = 10_000,
  ) {}

  /** The sources that may make `marker` families, in order of preference. */
  private order(marker: Marker): Array<[SourceName, TokenSource]> {
    const user = this.sources.device || this.sources.command;
    const names: SourceName[] = user ? (marker === 'Cli' ? ['device', 'command'] : ['command']) : ['hooks'];
    return names.flatMap((name): Array<[SourceName, TokenSource]> => (this.sources[name] ? [[name, this.sources[name]!]] : []));
  }

  private key(marker: Marker, user: UserRole, source: SourceName): string {
    return `${source}:${marker}/${user}`;
  }

  /** Keeps an unused family for the next `newFamily` of its kind (while it stays fresh). */
  keep(pair: TokenPair): void {
    this.spares.push({ pair, clockMoves: this.clock.clockMoves });
  }

  /**
   * Marks `source` as failed for `marker` families (the preflight): it is not asked again for
   * them; the next source takes over, if any.
   */
  fail(source: SourceName, marker: Marker, user: UserRole, problem: FamilyProblem): void {
    this.failed.set(this.key(marker, user, source), { source, problem });
  }

  /** The source that would make the next `marker` family, by name (the preflight's question). */
  pickName(marker: Marker, user: UserRole): SourceName | null {
    return this.pick(marker, user)?.[0] ?? null;
  }

  /** Which kind of source serves `marker` families for `user` (for messages). */
  describe(marker: Marker, user: UserRole): string {
    return describeSource(this.pickName(marker, user) ?? 'hooks');
  }

  private pick(marker: Marker, user: UserRole): [SourceName, TokenSource] | null {
    return this.order(marker).find(([name, s]) => !this.failed.has(this.key(marker, user, name)) && s.unavailable(marker, user) === null) ?? null;
  }

  /** Null when a source can (try to) make the family; otherwise why not, and what verdict that means. */
  problem(marker: Marker, user: UserRole): FamilyProblem | null {
    if (this.pick(marker, user)) return null;
    const failures = this.order(marker)
      .map(([name]) => this.failed.get(this.key(marker, user, name)))
      .filter((f): f is { source: SourceName; problem: FamilyProblem } => Boolean(f));
    if (failures.length) {
      return {
        reason: `no working source of ${marker} families: ${failures.map((f) => `${describeSource(f.source)} failed before any check ran: ${f.problem.reason}`).join('; ')}`,
        verdict: failures.some((f) => f.problem.verdict === 'inconclusive') ? 'inconclusive' : 'skip',
      };
    }
    const tried = this.order(marker)
      .map(([, s]) => s.unavailable(marker, user))
      .filter((r): r is string => Boolean(r));
    const hooksUnused = Boolean(this.sources.hooks && (this.sources.device || this.sources.command));
    const option = marker === 'Cli' ? 'needs --device-approve-command or --token-command' : 'needs --token-command producing Web families';
    const hooks = hooksUnused
      ? "; the target's test hooks make families only when neither --token-command nor --device-approve-command is given"
      : ' (or a target with test hooks)';
    return { reason: `no source of ${marker} token families: ${option}${hooks}${tried.length ? ` (${tried.join('; ')})` : ''}`, verdict: 'skip' };
  }

  unavailable(marker: Marker, user: UserRole): string | null {
    return this.problem(marker, user)?.reason ?? null;
  }

  /**
   * A family of `marker` for `user`: a fresh spare, else one from the first source that can make
   * it (a source that says it cannot — exit 3 — hands over to the next). Stamped with its issue
   * time on the target's clock.
   */
  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const spare = this.takeSpare(marker, user);
    if (spare) return spare;
    for (;;) {
      const picked = this.pick(marker, user);
      if (!picked) {
        const problem = this.problem(marker, user);
        if (problem?.verdict === 'inconclusive') throw new Inconclusive(problem.reason);
        throw new Skip(problem?.reason ?? 'no token source');
      }
      try {
        return await this.fromSource(picked[0], marker, user);
      } catch (error) {
        // "Cannot" (exit 3): the source now says so itself; the next one is tried.
        if (error instanceof Skip && picked[1].unavailable(marker, user) !== null) continue;
        throw error;
      }
    }
  }

  /** One family from one named source (the preflight tries each source in turn). */
  async fromSource(name: SourceName, marker: Marker, user: UserRole): Promise<TokenPair> {
    const source = this.sources[name];
    if (!source) throw new Skip(`no ${describeSource(name)}`);
    const pair = await source.newFamily(marker, user);
    // On the target's clock: the offset is known (the clock hook was read at the session's
    // start), and no clock move happens while a family is obtained (clock-moving checks run alone).
    return { ...pair, issuedAt: this.clock.targetNow() - (Date.now() - pair.obtainedAt), issueUncertaintyMs: Math.max(0, pair.obtainedAt - pair.requestedAt) };
  }

  /**
   * A spare is handed out only while it is as good as new: the target's clock has not been moved
   * since it was obtained (a move may have expired it, or its idle window) and it is young next
   * to its access token's lifetime. A stale spare is dropped: a new family costs little, a family
   * older than its user believes costs a false verdict.
   */
  private takeSpare(marker: Marker, user: UserRole): TokenPair | null {
    for (let i = this.spares.length - 1; i >= 0; i--) {
      const { pair, clockMoves } = this.spares[i]!;
      const age = this.clock.targetNow() - pair.issuedAt + pair.issueUncertaintyMs;
      const fresh = clockMoves === this.clock.clockMoves && age <= Math.min(this.maxSpareAgeMs, (pair.expiresIn * 1000) / 10);
      if (!fresh) {
        this.spares.splice(i, 1);
        continue;
      }
      if (pair.marker === marker && pair.user === user) {
        this.spares.splice(i, 1);
        return pair;
      }
    }
    return null;
  }
}

export function describeSource(name: SourceName): string {
  return name === 'device' ? '--device-approve-command (device flow)' : name === 'command' ? '--token-command' : 'the test hooks';
}
