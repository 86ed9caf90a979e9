/**
 * Backend: the device flow (DF-01 … DF-03), RFC 8628, driven by the harness. Approval and denial
 * are a person's steps: the test hooks or `--device-approve-command` perform them.
 */
import fc from 'fast-check';
import type { CheckContext, CheckDefinition } from '../../src/engine/check.js';
import { sleep } from '../../src/engine/limits.js';
import { Inconclusive, Skip, Violation, deviation, expectThat } from '../../src/engine/outcomes.js';
import { property } from '../../src/engine/properties.js';
import { bearer } from '../../src/targets/backend/driver.js';
import type { BackendSession } from '../../src/targets/backend/session.js';
import type { HttpResponse } from '../../src/targets/http.js';
import { DeviceAuthorizationResponse, parseWire } from '../../src/spec/wire.js';
import { authOutcome, describe, isClientRefusal, oauthErrorCode, tokenPair } from './support.js';

type Check = CheckDefinition<BackendSession>;

function needsEndpoint(session: BackendSession): string | null {
  if (session.driver.endpoints.deviceAuthorizationEndpoint) return null;
  return `no device authorization endpoint: discovery metadata lacks device_authorization_endpoint${session.driver.endpoints.discoveryProblem ? ` (${session.driver.endpoints.discoveryProblem})` : ''}; set the profile key deviceAuthorizationEndpoint`;
}

function needsApprover(session: BackendSession): string | null {
  return needsEndpoint(session) ?? (session.approver ? null : 'needs --device-approve-command (or a target with test hooks) to approve and deny device requests');
}

/** Starts a device request and checks its RFC 8628 §3.2 shape (DF-01). */
async function startDevice(session: BackendSession, ctx: CheckContext): Promise<DeviceAuthorizationResponse> {
  const response = await session.driver.deviceAuthorize();
  const parsed = parseWire(DeviceAuthorizationResponse, response.json);
  ctx.step(`device authorization → ${response.status}`);
  if (isClientRefusal(response)) {
    // RFC 8628 §3.2 / RFC 6749 §5.2: the client itself was refused — the harness's configuration.
    throw new Skip(`the device authorization endpoint refused the client ${JSON.stringify(session.driver.clientId)} (${response.status} ${oauthErrorCode(response)}): set --client-id to a client the target allows the device flow`);
  }
  const violation = (): Violation => new Violation('DF-01', '200 {device_code, user_code, verification_uri, expires_in, interval}', `${parsed.ok ? '' : `${parsed.error}: `}${describe(session, response)}`, 'the device authorization response is not RFC 8628 §3.2');
  if (response.status === 200 && !parsed.ok) {
    // A shape deviation (no `interval`, say) is DF-01's failure; once it is known, the flow goes on
    // with the codes the target gave and RFC 8628's defaults for the rest (interval 5 s, §3.2), so
    // that DF-02 and DF-03 get verdicts of their own instead of stopping on DF-01 (issue 9.4).
    const body = (response.json ?? {}) as Record<string, unknown>;
    if (typeof body.device_code === 'string' && body.device_code && typeof body.user_code === 'string' && body.user_code) {
      session.redactor.add(body.device_code);
      deviation(violation());
      return {
        ...body,
        device_code: body.device_code,
        user_code: body.user_code,
        verification_uri: typeof body.verification_uri === 'string' ? body.verification_uri : '',
        expires_in: typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 600,
        interval: typeof body.interval === 'number' && body.interval >= 0 ? body.interval : 5,
      };
    }
  }
  if (response.status !== 200 || !parsed.ok) throw violation();
  session.redactor.add(parsed.value.device_code);
  return parsed.value;
}

/** Polls once; returns the answer and the OAuth error code if any. */
async function poll(session: BackendSession, device: DeviceAuthorizationResponse, ctx: CheckContext, label: string): Promise<{ response: HttpResponse; error: string | null }> {
  const response = await session.driver.pollDevice(device.device_code);
  const error = response.status === 200 ? null : oauthErrorCode(response);
  ctx.step(`${label} → ${response.status}${error ? ` ${error}` : ''}`);
  return { response, error };
}

const authorization: Check = {
  id: 'df.authorization',
  title: 'The device authorization endpoint returns device_code, user_code, verification_uri, expires_in and interval',
  requirements: ['DF-01'],
  defaultRuns: 3,
  skipReason: needsEndpoint,
  property: (session, ctx) =>
    property(ctx, fc.constant(null), async () => {
      const device = await startDevice(session, ctx);
      expectThat(/^https?:\/\//.test(device.verification_uri), 'DF-01', 'verification_uri is not an absolute URL', 'an absolute http(s) URL', device.verification_uri);
      // Choice: verification_uri_complete is a SHOULD inside a MUST requirement; its absence is
      // recorded as a step (visible in verbose output), not failed.
      ctx.step(device.verification_uri_complete ? 'verification_uri_complete present' : 'note: verification_uri_complete absent (SHOULD)');
    }),
};

const polling: Check = {
  id: 'df.polling',
  title: 'Polling before approval gets authorization_pending; after approval one token pair; the code is not redeemable twice',
  requirements: ['DF-02'],
  defaultRuns: 2,
  skipReason: needsApprover,
  property: (session, ctx) =>
    property(ctx, fc.constant(null), async () => {
      const device = await startDevice(session, ctx);
      const first = await poll(session, device, ctx, 'poll before approval');
      if (first.response.status !== 400 || (first.error !== 'authorization_pending' && first.error !== 'slow_down')) {
        throw new Violation('DF-02', '400 authorization_pending', describe(session, first.response), 'polling before approval did not answer authorization_pending');
      }
      await session.approver!.act(device, 'approve');
      ctx.step('approve the request');
      let interval = Math.max(device.interval, 0) * 1000 + (first.error === 'slow_down' ? 5000 : 0);
      const deadline = Date.now() + device.expires_in * 1000;
      let tokens: HttpResponse | undefined;
      while (!tokens) {
        await sleep(interval, ctx.signal);
        const next = await poll(session, device, ctx, 'poll after approval');
        if (next.response.status === 200) tokens = next.response;
        else if (next.error === 'slow_down') interval += 5000;
        else if (next.error !== 'authorization_pending') {
          throw new Violation('DF-02', '200 with a token pair', describe(session, next.response), 'an approved device request did not yield tokens');
        }
        if (!tokens && Date.now() > deadline) throw new Inconclusive('the approved device request never yielded tokens before expires_in');
      }
      const pair = tokenPair(session, tokens, 'DF-02');
      const use = await session.driver.probe(bearer(pair.access_token));
      ctx.step(`use the access token → ${use.status}`);
      expectThat(authOutcome(session, use, 'DF-02', 'a device-flow access token') === 'accepted', 'DF-02', 'the device-flow access token does not authenticate', '2xx', describe(session, use));
      await sleep(interval, ctx.signal);
      const again = await poll(session, device, ctx, 'redeem the device code again');
      if (again.response.status === 200) {
        throw new Violation('DF-02', 'an OAuth error (the device code is spent)', describe(session, again.response), 'a device code was redeemed twice');
      }
      expectThat(again.response.status >= 400 && again.response.status < 500 && Boolean(again.error), 'DF-02', 'a second redemption did not get an OAuth error', '400 with an OAuth error', describe(session, again.response));
    }),
};

const denied: Check = {
  id: 'df.denied',
  title: 'A denied device request gets access_denied',
  requirements: ['DF-03'],
  defaultRuns: 2,
  skipReason: needsApprover,
  property: (session, ctx) => property(ctx, fc.constant(null), () => denyOrExpire(session, ctx, 'deny')),
};

const expired: Check = {
  id: 'df.expired',
  title: 'An expired device code gets expired_token',
  requirements: ['DF-03'],
  defaultRuns: 1,
  exclusive: true,
  skipReason: needsEndpoint,
  property: (session, ctx) => property(ctx, fc.constant(null), () => denyOrExpire(session, ctx, 'expire')),
};

async function denyOrExpire(session: BackendSession, ctx: CheckContext, how: 'deny' | 'expire'): Promise<void> {
  const device = await startDevice(session, ctx);
  if (how === 'deny') {
    await session.approver!.act(device, 'deny');
    ctx.step('deny the request');
    await sleep(Math.max(device.interval, 0) * 1000, ctx.signal);
    const answer = await poll(session, device, ctx, 'poll after denial');
    expectThat(answer.response.status === 400 && answer.error === 'access_denied', 'DF-03', 'a denied device request did not get access_denied', '400 access_denied', describe(session, answer.response));
    return;
  }
  const wait = device.expires_in * 1000 + 5_000;
  if (session.hasClock) await session.advanceClock(wait);
  else if (device.expires_in <= 10) await sleep(wait, ctx.signal);
  else throw new Skip(`checking expired_token needs a clock hook (device codes live ${device.expires_in} s)`);
  ctx.step(`let the device code expire (${device.expires_in} s + 5 s)`);
  const answer = await poll(session, device, ctx, 'poll after expiry');
  expectThat(answer.response.status === 400 && answer.error === 'expired_token', 'DF-03', 'an expired device code did not get expired_token', '400 expired_token', describe(session, answer.response));
}

export const DEVICE_FLOW_CHECKS: readonly Check[] = [authorization, polling, denied, expired];
