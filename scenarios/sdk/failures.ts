/**
 * SDK: failures — 401 handling, refused refreshes, transient token-endpoint failures and the
 * mapping of errors to exception types (SDK-09, SDK-10, SDK-11, SDK-13).
 */
import fc from 'fast-check';
import type { CheckDefinition } from '../../src/engine/check.js';
import { Violation, expectThat } from '../../src/engine/outcomes.js';
import type { FaultAction } from '../../src/targets/sdk/model-server.js';
import type { CallResult, SdkSession } from '../../src/targets/sdk/session.js';
import { apiCall } from './api-key.js';
import {
  apiRequests,
  concurrently,
  describeOutcome,
  describeRequest,
  expectResponse,
  mark,
  needsCapability,
  requestsSince,
  schedulerArb,
  sdkProperty,
  single,
  tokenRequests,
} from './support.js';

type Check = CheckDefinition<SdkSession>;

const needsRefreshable = (s: SdkSession) => needsCapability(s, 'refreshable');

const UNAUTHORIZED: FaultAction = {
  kind: 'status',
  status: 401,
  body: { message: 'authentication required' },
  headers: { 'www-authenticate': 'Bearer realm="ekso", error="invalid_token", error_description="expired"' },
};

const unauthorizedRetry: Check = {
  id: 'sdk.unauthorized-retry',
  title: 'A 401 leads to fresh credentials and one retry; a second 401 surfaces EksoAuthException, with no loop',
  requirements: ['SDK-09'],
  defaultRuns: 8,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), apiCall), async ([scheduler, c], session) => {
      try {
        // Choice: every run tries both a single 401 and a 401 on every request (fresh clients),
        // so that a retry loop — which only the second shows — is caught by every run.
        for (const how of ['once', 'always'] as const) {
          const client = await session.refreshableClient();
          session.server.inject({ on: 'api', action: UNAUTHORIZED, times: how === 'once' ? 1 : 1_000 });
          const from = mark(session);
          const result = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
          const seen = requestsSince(session, from);
          ctx.step(`${c.method} ${c.path} with the API answering 401 ${how === 'once' ? 'once' : 'every time'} → ${describeOutcome(session, result.outcome)}`);
          for (const r of seen) ctx.step(`  server saw ${describeRequest(session, r)}`);
          const api = apiRequests(seen);
          const refreshes = tokenRequests(seen);
          expectThat(refreshes.length >= 1 || api.some((r) => (r.generation ?? 0) > 0), 'SDK-09', 'a 401 did not lead to fresh credentials', 'a refresh (or a token rotated meanwhile) before giving up', `${refreshes.length} refreshes`);
          expectThat(refreshes.length <= 1, 'SDK-09', 'more than one refresh for one call', 'at most one refresh of its own', `${refreshes.length} refreshes`);
          expectThat(api.length <= 2, 'SDK-09', 'the call was retried more than once (a loop)', 'the request and one retry', `${api.length} API requests`);
          // The retry must carry the fresh credentials: the server accepts the rejected token again
          // once the injected 401 is spent, so a 2xx alone does not show that they were used.
          const [rejected, retry] = api;
          if (rejected && retry && (retry.generation ?? -1) <= (rejected.generation ?? -1)) {
            throw new Violation('SDK-09', 'the retry with a newer access token than the rejected one', describeRequest(session, retry), 'the call was retried with the credentials that had just been rejected');
          }
          if (how === 'once') {
            expectThat(api.length === 2, 'SDK-09', 'the call was not retried after fresh credentials', 'exactly one retry', `${api.length} API requests`);
            expectResponse(session, result, 'SDK-09', 'the retry with fresh credentials did not succeed');
          } else {
            const o = result.outcome;
            if (o.outcome !== 'error' || o.error.type !== 'EksoAuthException') {
              throw new Violation('SDK-09', 'EksoAuthException after the second 401', describeOutcome(session, o), 'a second 401 did not surface as an auth failure');
            }
          }
          session.server.clearFaults();
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

const refreshRefused: Check = {
  id: 'sdk.refresh-refused',
  title: 'A refused refresh (invalid_grant) fails every waiting call with EksoAuthException Expired, and is not retried',
  requirements: ['SDK-10'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(apiCall, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 })), async ([scheduler, calls, later], session) => {
      try {
        // Its access token expired 1 s ago (issued so in real time, at no wait).
        const client = await session.refreshableClient({ expiresInMs: -1_000, signal: ctx.signal });
        session.server.inject({ on: 'token', action: { kind: 'status', status: 400, body: { error: 'invalid_grant', error_description: 'refresh token revoked' }, headers: { 'cache-control': 'no-store' } }, times: 1_000 });
        const results = await concurrently<CallResult>(session, scheduler, calls.map((c) => () => session.call(client.client, c.method, c.path, c.body)));
        ctx.step(`${calls.length} call(s) after expiry, the refresh refused → ${results.map((r) => describeOutcome(session, r.outcome)).join(', ')}`);
        for (const r of results) {
          const o = r.outcome;
          if (o.outcome !== 'error' || o.error.type !== 'EksoAuthException' || o.error.reason !== 'Expired') {
            throw new Violation('SDK-10', 'EksoAuthException with reason Expired for every waiting call', describeOutcome(session, o), 'a call waiting for a refused refresh did not fail as Expired');
          }
        }
        const from = mark(session);
        for (let i = 0; i < later; i++) {
          const result = await single(session, scheduler, () => session.call(client.client, 'GET', '/api/field'));
          ctx.step(`a later call → ${describeOutcome(session, result.outcome)}`);
        }
        const retried = tokenRequests(requestsSince(session, from)).find((r) => r.refusedBefore);
        if (retried) throw new Violation('SDK-10', 'no further refresh with the refused token', describeRequest(session, retried), 'the SDK tried the refused refresh token again');
      } finally {
        await session.disposeClients();
      }
    }),
};

const transientFailure: Check = {
  id: 'sdk.transient-failure',
  title: 'A transient token-endpoint failure keeps the session: a later call refreshes with the same token and succeeds',
  requirements: ['SDK-11'],
  defaultRuns: 6,
  skipReason: needsRefreshable,
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.constantFrom<FaultAction>({ kind: 'status', status: 500, body: { kind: 'Exception', message: 'boom' } }, { kind: 'status', status: 503 }, { kind: 'reset' }), apiCall), async ([scheduler, fault, c], session) => {
      try {
        // Its access token expired 1 s ago (issued so in real time, at no wait).
        const client = await session.refreshableClient({ expiresInMs: -1_000, signal: ctx.signal });
        session.server.inject({ on: 'token', action: fault, times: 1 });
        const first = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
        ctx.step(`after expiry, the token endpoint fails (${fault.kind === 'status' ? fault.status : fault.kind}) → ${describeOutcome(session, first.outcome)}`);
        const from = mark(session);
        const second = await single(session, scheduler, () => session.call(client.client, c.method, c.path, c.body));
        ctx.step(`a later call → ${describeOutcome(session, second.outcome)}`);
        const refresh = tokenRequests(requestsSince(session, from), client.family)[0];
        expectThat(Boolean(refresh), 'SDK-11', 'the session was discarded after a transient failure', 'a refresh on the later call', 'no refresh request');
        expectThat(refresh!.generation === 0, 'SDK-11', 'the later refresh did not present the same refresh token', 'the same refresh token', describeRequest(session, refresh!));
        expectResponse(session, second, 'SDK-11', 'the later call did not succeed');
      } finally {
        await session.disposeClients();
      }
    }),
};

interface ErrorCase {
  label: string;
  action: FaultAction;
  /** What is wrong with the outcome (null: nothing); `toleranceMs` is the timeline's. */
  expect: (o: CallResult['outcome'], toleranceMs: number) => string | null;
}

const ERROR_CASES: fc.Arbitrary<ErrorCase> = fc.oneof(
  fc.integer({ min: 1, max: 120 }).map((seconds): ErrorCase => ({
    label: `429 with Retry-After: ${seconds}`,
    action: { kind: 'status', status: 429, body: { message: 'slow down' }, headers: { 'retry-after': String(seconds) } },
    expect: (o) => (o.outcome === 'error' && o.error.type === 'EksoRateLimitException' && o.error.retryAfterMs === seconds * 1000 ? null : `EksoRateLimitException with retryAfterMs ${seconds * 1000}`),
  })),
  fc.integer({ min: 2, max: 120 }).map((seconds): ErrorCase => ({
    label: `429 with Retry-After as an HTTP date ${seconds} s ahead`,
    // The date is computed when the fault fires (on the shared timeline, rounded up to a second).
    action: { kind: 'status', status: 429, body: { message: 'slow down' }, retryAfterDateInSeconds: seconds },
    // The date has a one-second resolution, and the answer takes a moment to reach the SDK.
    expect: (o, toleranceMs) => {
      const within = Math.max(1_500, toleranceMs);
      return o.outcome === 'error' && o.error.type === 'EksoRateLimitException' && o.error.retryAfterMs !== undefined && Math.abs(o.error.retryAfterMs - seconds * 1000) <= within
        ? null
        : `EksoRateLimitException with retryAfterMs ≈ ${seconds * 1000} (HTTP date, ±${within / 1000} s)`;
    },
  })),
  fc.record({ field: fc.constantFrom('name', 'expiresAt', 'title', 'priority'), code: fc.constantFrom('required', 'too_long', 'invalid', 'in_the_past') }).map(({ field, code }): ErrorCase => ({
    label: `400 Validation on ${field} (${code})`,
    action: { kind: 'status', status: 400, body: { kind: 'Validation', message: 'The request is invalid', fields: [{ field, code }] } },
    expect: (o) => (o.outcome === 'error' && o.error.type === 'EksoValidationException' && (o.error.fieldErrors?.[field]?.length ?? 0) > 0 ? null : `EksoValidationException with field errors for ${field}`),
  })),
  fc.constantFrom(403, 404, 409, 422, 500, 502, 503).map((status): ErrorCase => ({
    label: `${status}`,
    action: { kind: 'status', status, body: status === 422 ? { kind: 'Logic', message: 'not allowed now' } : status === 403 ? { kind: 'Permission', message: 'no' } : { kind: 'Exception', message: 'failure' } },
    expect: (o) => (o.outcome === 'error' && o.error.type === 'EksoApiException' && o.error.statusCode === status ? null : `EksoApiException with status ${status}`),
  })),
  fc.constant<ErrorCase>({
    label: 'a reset connection',
    action: { kind: 'reset' },
    expect: (o) => (o.outcome === 'error' && o.error.type === 'EksoNetworkException' ? null : 'EksoNetworkException'),
  }),
);

const errorMapping: Check = {
  id: 'sdk.error-mapping',
  title: 'Errors map to the documented exception types (rate limit, validation, API, network)',
  requirements: ['SDK-13'],
  defaultRuns: 15,
  skipReason: (s) => (s.capabilities.apiKey || s.capabilities.refreshable ? null : 'the adapter has neither the apiKey nor the refreshable capability'),
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), ERROR_CASES, apiCall, fc.boolean()), async ([scheduler, errorCase, c, useKey], session) => {
      try {
        const client = useKey && session.capabilities.apiKey ? (await session.apiKeyClient()).client : session.capabilities.refreshable ? (await session.refreshableClient()).client : (await session.apiKeyClient()).client;
        session.server.inject({ on: 'api', action: errorCase.action, times: 1_000 });
        const result = await single(session, scheduler, () => session.call(client, c.method, c.path, c.body));
        ctx.step(`${c.method} ${c.path} answered with ${errorCase.label} → ${describeOutcome(session, result.outcome)}`);
        const wanted = errorCase.expect(result.outcome, session.timelineToleranceMs);
        if (wanted) throw new Violation('SDK-13', wanted, describeOutcome(session, result.outcome), `${errorCase.label} was not mapped to the documented exception`);
      } finally {
        await session.disposeClients();
      }
    }),
};

export const FAILURE_SDK_CHECKS: readonly Check[] = [unauthorizedRetry, refreshRefused, transientFailure, errorMapping];
