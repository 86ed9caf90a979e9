/**
 * The reference backend, remembering every secret it hands out (raw API keys, access tokens,
 * refresh tokens, device codes, authorization codes), so that a test can scan reports and console
 * output for each of them (H-01).
 */
import { ReferenceBackend, type ReferenceBackendOptions } from '../../src/reference/backend/index.js';

// Kept outside the instance: the constructor mints the bootstrap keys before any field of a
// subclass is initialised.
const ISSUED = new WeakMap<object, Set<string>>();

function remember(owner: object, secret: string): string {
  let set = ISSUED.get(owner);
  if (!set) ISSUED.set(owner, (set = new Set()));
  set.add(secret);
  return secret;
}

export class RecordingReferenceBackend extends ReferenceBackend {
  /** Every secret issued so far (bootstrap keys included). */
  get issued(): string[] {
    return [...(ISSUED.get(this) ?? [])];
  }

  protected override generateRawKey(): string {
    return remember(this, super.generateRawKey());
  }

  protected override newRefreshToken(...args: Parameters<ReferenceBackend['newRefreshToken']>): ReturnType<ReferenceBackend['newRefreshToken']> {
    const token = super.newRefreshToken(...args);
    remember(this, token.raw);
    return token;
  }

  protected override signAccessToken(...args: Parameters<ReferenceBackend['signAccessToken']>): string {
    return remember(this, super.signAccessToken(...args));
  }

  protected override async startDeviceAuthorization(...args: Parameters<ReferenceBackend['startDeviceAuthorization']>): ReturnType<ReferenceBackend['startDeviceAuthorization']> {
    const started = await super.startDeviceAuthorization(...args);
    remember(this, started.deviceCode);
    return started;
  }

  protected override async createAuthorizationCode(...args: Parameters<ReferenceBackend['createAuthorizationCode']>): Promise<string> {
    return remember(this, await super.createAuthorizationCode(...args));
  }
}

export function createRecordingBackend(options: ReferenceBackendOptions = {}): RecordingReferenceBackend {
  return new RecordingReferenceBackend({ testHooks: true, deviceIntervalSeconds: 0, ...options });
}

/**
 * Where a secret shows up in `text`: the whole secret, or (for long ones) a 16-character piece of
 * its random part — a truncated copy still leaks most of a secret. JWTs are judged by their
 * signature (header and claims are not secret by themselves).
 */
export function leakOf(secret: string, text: string): string | null {
  if (text.includes(secret)) return secret;
  const jwt = /^eyJ[^.]*\.[^.]*\.([A-Za-z0-9_-]+)$/.exec(secret);
  const random = jwt ? jwt[1]! : secret.replace(/^(ek_live_|ekso_[a-z]{2}_)/, '');
  if (random.length < 24) return null;
  for (const piece of [random.slice(0, 16), random.slice(-16), random.slice(Math.floor(random.length / 2) - 8, Math.floor(random.length / 2) + 8)]) {
    if (text.includes(piece)) return piece;
  }
  return null;
}

/** Raw secrets of known shapes (a fingerprint `ek_live_…(len=…)` does not match). */
export const SECRET_SHAPES: readonly RegExp[] = [
  /ek_live_[A-Za-z0-9_-]{16,}/g,
  /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16,}/g,
  /ekso_(?:at|rt|dc)_[A-Za-z0-9_-]{16,}/g,
];

export function secretShapedIn(text: string): string[] {
  return SECRET_SHAPES.flatMap((re) => [...text.matchAll(re)].map((m) => m[0]));
}
