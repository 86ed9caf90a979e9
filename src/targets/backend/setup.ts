/**
 * Setting up a backend target for a run and cleaning it up after: the identities (given keys,
 * or keys minted through the test hooks), the token sources tried before any check, the session
 * the checks use — and at the end, the revocation of every key the run minted, reconciled with the
 * target's listing.
 */
import type { CleanupLedger } from '../../engine/ledger.js';
import type { Redactor } from '../../engine/redact.js';
import { Inconclusive, Skip } from '../../engine/outcomes.js';
import type { Policy } from '../../model/policy.js';
import { TargetUnusableError } from '../../run/common.js';
import { KeyListing, MintResponse, parseWire } from '../../spec/wire.js';
import { TransportError, type HttpClient } from '../http.js';
import { BackendDriver, bearer, type UserRole } from './driver.js';
import { DEFAULT_PROFILE } from './profile.js';
import { BackendSession, type Identity } from './session.js';
import {
  CommandDeviceApprover,
  CommandTokenSource,
  DeviceFlowTokenSource,
  HookDeviceApprover,
  describeSource,
  DeviceFlowDeviation,
  HookTokenSource,
  TokenSources,
  type TokenPair,
} from './token-sources.js';

/** What the session set-up reads of a run's options. */
export interface SessionOptions {
  adminKey?: string;
  userKey?: string;
  tokenCommand?: string;
  deviceApproveCommand?: string;
  otherClientId?: string;
  policy: Policy;
  checkRateLimit: boolean;
  concurrency: number;
}

/**
 * Revokes every key the ledger holds with the admin identity (H-02), through a client of its own:
 * the run's client may have been stopped by Ctrl-C or --max-time. A target that stops answering
 * is not waited for key by key: after a few transport failures in a row the rest are counted as
 * leaked, with the reason.
 *
 * Before the admin identity's own key goes (last), the target's key listing is reconciled with the
 * ledger: a key named with the run's tag that the ledger does not know — its mint got no answer,
 * or created a key although refused — is recorded and revoked as well.
 */
export async function revokeMinted(http: HttpClient, driver: BackendDriver, admin: Identity, ledger: CleanupLedger, timeoutSeconds: number): Promise<string[]> {
  if (!ledger.outstanding().length && !ledger.mintsSent) return [];
  const client = http.sibling();
  const cleaner = new BackendDriver(driver.baseUrl, driver.profile, client, driver.clientId);
  cleaner.endpoints = driver.endpoints;
  let transportFailures = 0;
  let gaveUp = false;
  let lastFailure = '';
  const revoke = async (id: string): Promise<boolean> => {
    if (gaveUp) return false;
    try {
      const answer = await cleaner.revokeKey(bearer(admin.key), id);
      transportFailures = 0;
      return answer.status >= 200 && answer.status < 300;
    } catch (error) {
      if (error instanceof TransportError) {
        transportFailures += 1;
        lastFailure = error.message;
        // Choice: one timeout (a full --timeout already spent) or two other transport failures
        // in a row mean the target is gone; waiting that long for every key would hold the exit.
        gaveUp = error.failure === 'timeout' || transportFailures >= 2;
      }
      return false;
    }
  };
  const notes: string[] = [];
  try {
    await ledger.revokeAll(revoke, { holdLast: true });
    if (ledger.mintsSent && !gaveUp) notes.push(...(await reconcileWithListing(cleaner, admin, ledger, revoke)));
    await ledger.revokeAll(revoke);
  } finally {
    client.close();
  }
  if (gaveUp) notes.push(`cleanup: the target stopped answering (${lastFailure}); the remaining keys were not revoked (timeout ${timeoutSeconds} s per request)`);
  return notes;
}

/**
 * Lists the target's keys and settles every one named with the run's tag: unknown to the ledger →
 * recorded (minted) and revoked; acknowledged as revoked but listed active (`revokedAt: null`) →
 * revoked again. Returns the diagnostics to report.
 */
async function reconcileWithListing(cleaner: BackendDriver, admin: Identity, ledger: CleanupLedger, revoke: (id: string) => Promise<boolean>): Promise<string[]> {
  const unanswered = ledger.mintsUnanswered;
  const lookFor = `look for keys named "… ${ledger.tag}" on the target`;
  let listing: ReturnType<typeof parseWire<typeof KeyListing>> | undefined;
  let problem: string;
  try {
    const response = await cleaner.listKeys(bearer(admin.key));
    listing = response.status === 200 ? parseWire(KeyListing, response.json) : undefined;
    problem = listing && !listing.ok ? listing.error : `answered ${response.status}`;
  } catch (error) {
    problem = (error as Error).message;
  }
  if (!listing?.ok) {
    return unanswered ? [`cleanup: ${unanswered} mint(s) got no answer, and the key listing that would find their keys failed (${problem}): ${lookFor}`] : [];
  }
  const notes: string[] = [];
  let found = 0;
  for (const entry of listing.value) {
    const name = (entry as { name?: unknown }).name;
    if (!ledger.isNamedByThisRun(name)) continue;
    const revokedAt = (entry as { revokedAt?: unknown }).revokedAt;
    if (!ledger.has(entry.id)) {
      found += 1;
      ledger.recordMint(entry.id, `${String(name)}, found in the listing: its mint got no answer or was refused`);
      if (revokedAt !== null && revokedAt !== undefined) ledger.recordRevoked(entry.id);
      else if (await revoke(entry.id)) ledger.recordRevoked(entry.id);
    } else if (ledger.isRevoked(entry.id) && revokedAt === null) {
      ledger.recordStillActive(entry.id);
      notes.push(`cleanup: key ${entry.id} was still listed as active after its revocation was acknowledged; revoked again`);
      if (await revoke(entry.id)) ledger.recordRevoked(entry.id);
    }
  }
  if (found) notes.push(`cleanup: ${found} key(s) named by this run were not in the ledger (their mint got no answer, or created a key although refused); found in the listing and counted`);
  if (unanswered > found) notes.push(`cleanup: ${unanswered - found} mint(s) got no answer and no key of theirs is listed: a target that creates it later leaves it active — ${lookFor}`);
  return notes;
}

/** The last report assembled (for tests and the replay command). */
export async function openSession(
  driver: BackendDriver,
  options: SessionOptions,
  redactor: Redactor,
  ledger: CleanupLedger,
  identities: { admin?: Identity; user?: Identity },
  signal: AbortSignal,
): Promise<{ session: BackendSession; notes: string[]; sourceFailures: string[] }> {
  // Given keys are checked before anything is minted: a rejected key ends the run (exit 3) with
  // nothing left behind on the target. A key a check would use with a 401 yields only bogus
  // verdicts (e.g. AK-11 expects 403 from the user key).
  for (const [role, key, option] of [
    ['admin', options.adminKey, '--admin-key / EKSO_ADMIN_API_KEY'],
    ['user', options.userKey, '--user-key / EKSO_USER_API_KEY'],
  ] as const) {
    if (!key) continue;
    const probe = await driver.probe(bearer(key));
    if (probe.status === 401) throw new TargetUnusableError(`the ${role} key (${option}) was rejected with 401`);
  }
  if (options.adminKey) identities.admin = { key: options.adminKey };
  if (options.userKey) identities.user = { key: options.userKey };
  // The admin identity first: it is what revokes everything else at the end.
  for (const role of ['admin', 'user'] as const) {
    if (!identities[role] && driver.hasTestHooks) identities[role] = await hookIdentity(driver, role, redactor, ledger);
  }
  const hooks = driver.hasTestHooks ? new HookTokenSource(driver) : undefined;
  const command = options.tokenCommand ? new CommandTokenSource(options.tokenCommand, driver, redactor, undefined, signal) : undefined;
  const approver = options.deviceApproveCommand
    ? new CommandDeviceApprover(options.deviceApproveCommand, driver, redactor, undefined, signal)
    : driver.hasTestHooks
      ? new HookDeviceApprover(driver)
      : undefined;
  const device = options.deviceApproveCommand && approver ? new DeviceFlowTokenSource(driver, approver, signal) : undefined;
  const idleWindowSeconds = driver.profile.refreshIdleWindowSeconds ?? DEFAULT_PROFILE.refreshIdleWindowSeconds;
  const session = new BackendSession(
    driver,
    redactor,
    ledger,
    // Choice: a spare family is handed out only while younger than 10 s and than a tenth of the
    // idle window (a check treats a family as just issued only within its issue time's margin).
    new TokenSources({ ...(device ? { device } : {}), ...(command ? { command } : {}), ...(hooks ? { hooks } : {}) }, Math.min(10_000, idleWindowSeconds * 100)),
    identities,
    {
      policy: options.policy,
      checkRateLimit: options.checkRateLimit,
      idleWindowSeconds,
      concurrency: options.concurrency,
      otherClientId: options.otherClientId ?? driver.profile.otherClientId ?? DEFAULT_PROFILE.otherClientId,
      otherClientIdFrom: options.otherClientId ? 'flag' : driver.profile.otherClientId ? 'profile' : 'default',
    },
  );
  session.approver = approver;
  const notes: string[] = [];
  const clockNote = await session.readClock();
  if (clockNote) notes.push(clockNote);
  let sourceFailures: string[] = [];
  if (hooks || command || device) {
    // Whether the token endpoint takes the harness's client, and the second client of RT-08.
    for (const clientId of new Set([driver.clientId, session.options.otherClientId])) {
      const standing = await session.probeClient(clientId);
      if (standing.refused && clientId === driver.clientId) notes.push(`${session.clientRefusal()}; the checks that refresh tokens are skipped`);
    }
    const otherProblem = session.otherClientProblem();
    if (otherProblem) notes.push(otherProblem);
  }
  if (command || device) sourceFailures = await preflightTokenSources(session, driver, signal);
  return { session, notes: [...notes, ...sourceFailures.map((f) => `${f}; the checks that need those families are not run`)], sourceFailures };
}

/** Whether a selected check has something to run in this session (its skip reason is null). */
export function canRun(check: { skipReason?: (s: BackendSession) => string | null }, session: BackendSession): boolean {
  try {
    return !check.skipReason?.(session);
  } catch {
    return false;
  }
}

/**
 * The token sources the user gave are tried before the checks, for each kind of family (Cli,
 * Web) in turn: one admin family from the source that would serve it, its access token presented
 * to the authenticated probe. So the run knows which kinds it can have before any property is
 * built (generators draw only from those), and a source that fails is found once, up front,
 * with one clear line — not as a page of inconclusive checks. A source that fails for a kind
 * hands over to the next configured source for it; if none is left, the checks needing that kind
 * are skipped (a device flow answering outside RFC 8628 is the DF checks' failure) or
 * inconclusive (a command that crashed, a token the target refused: the run cannot say which
 * side is wrong). A command that exits 3 ("cannot") is not a failure. The families obtained are
 * kept for the first checks that want them, while they stay fresh. Returns the failures.
 */
async function preflightTokenSources(session: BackendSession, driver: BackendDriver, signal: AbortSignal): Promise<string[]> {
  const sources = session.tokenSources;
  const failures: string[] = [];
  for (const marker of ['Cli', 'Web'] as const) {
    for (let name = sources.pickName(marker, 'admin'); name; name = sources.pickName(marker, 'admin')) {
      const source = describeSource(name);
      let pair: TokenPair;
      try {
        pair = await sources.fromSource(name, marker, 'admin');
      } catch (error) {
        // Stopped by Ctrl-C or --max-time: not the source's fault (the caller reports the stop).
        if (signal.aborted) throw new TransportError('aborted', driver.baseUrl, 'stopped while the token source ran');
        if (error instanceof Skip) {
          // "Cannot" (exit 3), or the target refused the harness's client: the source says so from now on.
          if (sources.pickName(marker, 'admin') === name) sources.fail(name, marker, 'admin', { reason: error.reason, verdict: 'skip' });
          continue;
        }
        if (!(error instanceof Inconclusive)) throw error;
        const deviation = error instanceof DeviceFlowDeviation;
        const reason = deviation ? `${error.diagnosis}; df.* reports it` : error.diagnosis;
        sources.fail(name, marker, 'admin', { reason, verdict: deviation ? 'skip' : 'inconclusive' });
        failures.push(`the token source (${source}) failed for ${marker} families before any check ran: ${reason}`);
        continue;
      }
      const probe = await driver.probe(bearer(pair.accessToken));
      if (probe.status === 401) {
        const reason = `the access token from ${source} was rejected with 401 by the authenticated probe`;
        sources.fail(name, marker, 'admin', { reason, verdict: 'inconclusive' });
        failures.push(`${reason} (${marker} family)`);
        continue;
      }
      sources.keep(pair);
      break;
    }
  }
  return failures;
}

/** An identity minted through the test hooks; revoked at the end (the admin one last). */
async function hookIdentity(driver: BackendDriver, role: UserRole, redactor: Redactor, ledger: CleanupLedger): Promise<Identity> {
  const answered = ledger.mintSent();
  const response = await driver.hookApiKey(role, ledger.keyName(`ekso-conformance ${role} ${new Date().toISOString()}`));
  answered();
  const parsed = parseWire(MintResponse, response.json);
  if (response.status !== 200 || !parsed.ok) {
    const why = response.status !== 200 ? `answered ${response.status}` : `answered ${response.status} without {id, rawKey} (${parsed.ok ? '' : parsed.error})`;
    throw new TargetUnusableError(`the test hook /api-key ${why}: cannot obtain the ${role} identity`);
  }
  redactor.add(parsed.value.rawKey);
  ledger.recordMint(parsed.value.id, `${role} identity`, role === 'admin' ? { last: true } : {});
  return { key: parsed.value.rawKey, id: parsed.value.id };
}
