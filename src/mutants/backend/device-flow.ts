/**
 * Mutants of the device flow (DF-*).
 */
import { InMemoryBackendStore, ReferenceBackend, type DeviceClaimResult, type RequestContext } from '../../reference/backend/index.js';
import { sendJson } from '../../reference/backend/http-util.js';
import type { BackendMutant } from '../registry.js';
import { storeMutant, subclassMutant } from './support.js';

/** DF-01: `verification_uri` is a relative path, not an absolute URL. */
class RelativeVerificationUri extends ReferenceBackend {
  protected override async handleDeviceAuthorization(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const clientId = await this.resolveClient(ctx, form.params);
    if (!clientId) return;
    const started = await this.startDeviceAuthorization(clientId);
    // The break: the base URL is left off.
    const verificationUri = '/auth/device';
    sendJson(ctx.res, 200, {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(started.userCode)}`,
      expires_in: started.expiresIn,
      interval: started.interval,
    });
  }
}

/** DF-02: redeeming does not mark the device code spent: it yields a new pair every time. */
class RedeemableTwiceStore extends InMemoryBackendStore {
  override async claimDeviceCode(hash: string, now: number, familyId: string): Promise<DeviceClaimResult> {
    const record = this.deviceCodes.get(hash);
    if (record && record.status === 'redeemed' && now < record.expiresAt) record.status = 'approved';
    return super.claimDeviceCode(hash, now, familyId);
  }
}

/** DF-03: a denied request keeps answering authorization_pending (the denial is never reported). */
class DenialReportedPendingStore extends InMemoryBackendStore {
  override async claimDeviceCode(hash: string, now: number, familyId: string): Promise<DeviceClaimResult> {
    const result = await super.claimDeviceCode(hash, now, familyId);
    return result.kind === 'denied' ? { ...result, kind: 'pending' } : result;
  }
}

export const DEVICE_FLOW_MUTANTS: readonly BackendMutant[] = [
  subclassMutant(
    { name: 'device-relative-verification-uri', description: 'The device authorization response gives verification_uri as a relative path', breaks: ['DF-01'] },
    RelativeVerificationUri,
  ),
  storeMutant(
    {
      name: 'device-code-redeemable-twice',
      description: 'A redeemed device code is not marked spent: every poll after approval yields a new token pair',
      breaks: ['DF-02'],
      modelledOn: 'RFC 8628 §3.5 / RFC 6749 §4.1.2 one-time-use violations (cf. authorization-code replay)',
    },
    () => new RedeemableTwiceStore(),
  ),
  storeMutant(
    { name: 'device-denial-reported-pending', description: 'A denied device request keeps answering authorization_pending instead of access_denied', breaks: ['DF-03'] },
    () => new DenialReportedPendingStore(),
  ),
];
