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
  marker: Marker;
  user: UserRole;
  clientId: string;
}

export interface TokenSource {
  /** Null when this source can (try to) produce the family; otherwise why not, naming an option. */
  unavailable(marker: Marker, user: UserRole): string | null;
  newFamily(marker: Marker, user: UserRole): Promise<TokenPair>;
}

function pairFrom(json: unknown, marker: Marker, user: UserRole, clientId: string, origin: string): TokenPair {
  const parsed = parseWire(TokenResponse, json);
  if (!parsed.ok) throw new Inconclusive(`${origin} did not give a token pair: ${parsed.error}`);
  return {
    accessToken: parsed.value.access_token,
    refreshToken: parsed.value.refresh_token,
    expiresIn: parsed.value.expires_in,
    obtainedAt: Date.now(),
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
    const response = await this.driver.hookToken(marker, user);
    if (response.status !== 200) throw new Inconclusive(`test hook /token answered ${response.status} for a ${marker} family`);
    return pairFrom(response.json, marker, user, this.driver.clientId, 'test hook /token');
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
    const pair = pairFrom(json, marker, user, this.driver.clientId, '--token-command');
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
    return null;
  }

  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const reason = this.unavailable(marker, user);
    if (reason) throw new Skip(reason);
    const start = await this.driver.deviceAuthorize();
    const device = parseWire(DeviceAuthorizationResponse, start.json);
    if (start.status !== 200 || !device.ok) {
      throw new Inconclusive(`device authorization answered ${start.status}${device.ok ? '' : `: ${device.error}`}`);
    }
    this.driver.http.redactor.add(device.value.device_code);
    await this.approver.act(device.value, 'approve');
    let interval = Math.max(device.value.interval, 0) * 1000;
    const deadline = Date.now() + device.value.expires_in * 1000;
    for (;;) {
      const poll = await this.driver.pollDevice(device.value.device_code);
      if (poll.status === 200) return pairFrom(poll.json, 'Cli', user, this.driver.clientId, 'the device flow');
      const error = parseWire(OAuthError, poll.json);
      const code = error.ok ? error.value.error : `HTTP ${poll.status}`;
      if (code === 'slow_down') interval += 5000;
      else if (code !== 'authorization_pending') throw new Inconclusive(`the device flow ended with ${code} after approval`);
      if (Date.now() + interval > deadline || this.signal?.aborted) throw new Inconclusive('the device flow did not yield tokens before the code expired');
      await sleep(Math.max(interval, 200), this.signal);
    }
  }
}

/**
 * Picks a source per kind of family. Cli: the device flow when an approver command is given,
 * else the token command, else test hooks. Web: the token command, else test hooks.
 */
export class TokenSources implements TokenSource {
  /** Families obtained ahead (the preflight's), handed out before any new one is made. */
  private readonly spares: Array<{ marker: Marker; user: UserRole; pair: TokenPair }> = [];

  constructor(private readonly sources: { device?: TokenSource; command?: TokenSource; hooks?: TokenSource }) {}

  /** Keeps an unused family for the next `newFamily(marker, user)`. */
  keep(marker: Marker, user: UserRole, pair: TokenPair): void {
    this.spares.push({ marker, user, pair });
  }

  /** Which kind of source serves `marker` families for `user` (for messages). */
  describe(marker: Marker, user: UserRole): string {
    const source = this.pick(marker, user);
    return source === this.sources.device ? '--device-approve-command (device flow)' : source === this.sources.command ? '--token-command' : 'the test hooks';
  }

  private pick(marker: Marker, user: UserRole): TokenSource | null {
    const order = marker === 'Cli' ? [this.sources.device, this.sources.command, this.sources.hooks] : [this.sources.command, this.sources.hooks];
    return order.find((s): s is TokenSource => Boolean(s) && s!.unavailable(marker, user) === null) ?? null;
  }

  unavailable(marker: Marker, user: UserRole): string | null {
    if (this.pick(marker, user)) return null;
    const tried = [this.sources.device, this.sources.command, this.sources.hooks]
      .map((s) => s?.unavailable(marker, user))
      .filter((r): r is string => Boolean(r));
    const option =
      marker === 'Cli'
        ? 'needs --device-approve-command or --token-command (or a target with test hooks)'
        : 'needs --token-command producing Web families (or a target with test hooks)';
    return `no source of ${marker} token families: ${option}${tried.length ? ` (${tried.join('; ')})` : ''}`;
  }

  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    const spare = this.spares.findIndex((s) => s.marker === marker && s.user === user);
    if (spare >= 0) return this.spares.splice(spare, 1)[0]!.pair;
    const source = this.pick(marker, user);
    if (!source) throw new Skip(this.unavailable(marker, user) ?? 'no token source');
    return source.newFamily(marker, user);
  }
}
