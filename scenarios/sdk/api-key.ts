/**
 * SDK: API-key authentication and base URLs (SDK-01, SDK-02, SDK-14).
 */
import fc from 'fast-check';
import type { CheckDefinition } from '../../src/engine/check.js';
import { tenantName } from '../../src/engine/data.js';
import { Violation, expectThat } from '../../src/engine/outcomes.js';
import type { SdkSession } from '../../src/targets/sdk/session.js';
import { apiRequests, describeOutcome, describeRequest, expectResponse, mark, needsCapability, requestsSince, schedulerArb, sdkProperty, single, tokenRequests } from './support.js';

type Check = CheckDefinition<SdkSession>;

export interface ApiCall {
  method: string;
  path: string;
  body?: unknown;
}

/** API calls an application would make. */
export const apiCall: fc.Arbitrary<ApiCall> = fc.oneof(
  fc.constant<ApiCall>({ method: 'GET', path: '/api/field' }),
  fc.nat(9999).map((n): ApiCall => ({ method: 'GET', path: `/api/item/${n}?expand=fields` })),
  fc.record({ title: fc.string({ maxLength: 30 }), priority: fc.constantFrom('Low', 'Medium', 'High') }).map((body): ApiCall => ({ method: 'POST', path: '/api/item', body })),
  fc.nat(9999).map((n): ApiCall => ({ method: 'PUT', path: `/api/item/${n}`, body: { done: true } })),
  fc.nat(9999).map((n): ApiCall => ({ method: 'DELETE', path: `/api/item/${n}` })),
);

const bearerOnEveryRequest: Check = {
  id: 'sdk.api-key.bearer',
  title: 'ApiKeyAuth sends Authorization: Bearer <key> on every request and never calls the token endpoint',
  requirements: ['SDK-01'],
  defaultRuns: 6,
  skipReason: (s) => needsCapability(s, 'apiKey'),
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.array(apiCall, { minLength: 1, maxLength: 5 })), async ([scheduler, calls], session) => {
      const { client, key } = await session.apiKeyClient();
      const from = mark(session);
      try {
        for (const c of calls) {
          const result = await single(session, scheduler, () => session.call(client, c.method, c.path, c.body));
          ctx.step(`${c.method} ${c.path} → ${describeOutcome(session, result.outcome)}`);
          expectResponse(session, result, 'SDK-01', 'a call with a valid API key did not succeed');
        }
        const seen = requestsSince(session, from);
        const api = seen.filter((r) => r.kind !== 'token');
        expectThat(api.length === calls.length, 'SDK-01', 'the SDK did not send exactly one request per call', `${calls.length} requests`, `${api.length}`);
        for (const r of api) {
          if (r.authorization !== `Bearer ${key}`) {
            throw new Violation('SDK-01', 'Authorization: Bearer <the key>', `${describeRequest(session, r)} with ${session.redactor.text(r.authorization ?? 'no Authorization header')}`, 'a request did not carry the API key as a bearer token');
          }
        }
        const token = tokenRequests(seen)[0];
        if (token) throw new Violation('SDK-01', 'no token request', describeRequest(session, token), 'an API-key client called the token endpoint');
      } finally {
        await session.disposeClients();
      }
    }),
};

const baseUrls: Check = {
  id: 'sdk.base-url',
  title: 'Only a tenant: https://{tenant}.ekso.app; a configured base URL replaces it for every API request',
  requirements: ['SDK-02'],
  defaultRuns: 5,
  // An in-process adapter's tenant-only call is intercepted with nock, which is process-wide.
  sharedState: 'nock',
  skipReason: (s) => needsCapability(s, 'apiKey'),
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), tenantName, fc.constantFrom('', '/ekso', '/self-host/v1'), fc.array(apiCall, { minLength: 1, maxLength: 3 })), async ([scheduler, tenant, prefix, calls], session) => {
      const resolved = await session.adapter.resolveBaseUrl({ tenant });
      ctx.step(`resolveBaseUrl(tenant ${tenant}) → ${resolved.baseUrl}`);
      expectThat(resolved.baseUrl === `https://${tenant}.ekso.app`, 'SDK-02', 'the default base URL is not https://{tenant}.ekso.app', `https://${tenant}.ekso.app`, resolved.baseUrl);
      const configured = `${session.server.baseUrl}${prefix}`;
      const overridden = await session.adapter.resolveBaseUrl({ tenant, baseUrl: configured });
      ctx.step(`resolveBaseUrl(tenant ${tenant}, baseUrl ${configured}) → ${overridden.baseUrl}`);
      expectThat(overridden.baseUrl.replace(/\/+$/, '') === configured, 'SDK-02', 'a configured base URL did not replace the default', configured, overridden.baseUrl);
      const key = session.server.issueApiKey();
      try {
        const client = await session.createClient({ tenant, baseUrl: configured, auth: { type: 'apiKey', key } });
        const from = mark(session);
        for (const c of calls) {
          const result = await single(session, scheduler, () => session.call(client, c.method, c.path, c.body));
          ctx.step(`${c.method} ${c.path} via ${configured} → ${describeOutcome(session, result.outcome)}`);
          expectResponse(session, result, 'SDK-02', 'a call through a configured base URL did not reach it');
        }
        const seen = requestsSince(session, from);
        const expectedHost = new URL(session.server.baseUrl).host;
        for (const [i, r] of seen.entries()) {
          const want = `${prefix}${calls[i]?.path.split('?')[0] ?? ''}`;
          if (r.host !== expectedHost || !r.path.startsWith(want)) {
            throw new Violation('SDK-02', `${configured}${calls[i]?.path ?? ''}`, `${r.host}${r.path}`, 'an API request did not go to the configured base URL');
          }
        }
        if (session.transport === 'scheduled') {
          // In-process with the harness's transport: a client with only a tenant is observable
          // without any network — its requests reach the injected fetch with their real host.
          const plain = await session.createClient({ tenant, auth: { type: 'apiKey', key } });
          const before = mark(session);
          await single(session, scheduler, () => session.call(plain, 'GET', '/api/field'));
          const sent = requestsSince(session, before)[0];
          ctx.step(`tenant-only client: GET /api/field went to ${sent ? `https://${sent.host}${sent.path}` : '(nowhere)'}`);
          expectThat(sent?.host === `${tenant}.ekso.app`, 'SDK-02', 'a tenant-only client did not send to https://{tenant}.ekso.app', `${tenant}.ekso.app`, sent?.host ?? 'no request');
        } else if (session.inProcess) {
          // In-process without injection: intercept the real host with nock, nothing leaves.
          const host = await interceptedCall(session, tenant, key);
          ctx.step(`tenant-only client: GET /api/field went to ${host ?? '(nowhere)'}`);
          expectThat(host === `${tenant}.ekso.app`, 'SDK-02', 'a tenant-only client did not send to https://{tenant}.ekso.app', `${tenant}.ekso.app`, host ?? 'no request');
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

/**
 * Runs one call of a tenant-only client with nock intercepting https://{tenant}.ekso.app: an SDK
 * that uses the global `fetch` or `node:http` and its built-in default URL is observed on the wire
 * with no DNS and no network. The intercepted request is answered by the model server (forwarded
 * to it over loopback with its method, path and headers), so the SDK gets a real answer and the
 * server sees the credential it carried. Returns the host the request was sent to.
 */
async function interceptedCall(session: SdkSession, tenant: string, key: string): Promise<string | undefined> {
  const nock = (await import('nock')).default;
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  let host: string | undefined;
  nock(`https://${tenant}.ekso.app`)
    .get(/.*/)
    .reply(function reply(uri, _body, callback) {
      host = `${tenant}.ekso.app`;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(this.req.headers)) if (typeof value === 'string' && name !== 'host') headers[name] = value;
      fetch(new URL(uri, session.server.baseUrl), { method: 'GET', headers }).then(
        async (answer) => callback(null, [answer.status, await answer.text(), { 'content-type': answer.headers.get('content-type') ?? 'application/json' }]),
        (error: unknown) => callback(error as Error, [502, '']),
      );
    });
  try {
    const plain = await session.createClient({ tenant, auth: { type: 'apiKey', key } });
    await session.call(plain, 'GET', '/api/field');
    return host;
  } finally {
    nock.cleanAll();
    nock.enableNetConnect();
    nock.restore();
  }
}

const rejectedKey: Check = {
  id: 'sdk.api-key.rejected',
  title: 'A rejected API key surfaces EksoAuthException (Revoked or Invalid) and is not retried',
  requirements: ['SDK-14'],
  defaultRuns: 4,
  skipReason: (s) => needsCapability(s, 'apiKey'),
  property: (session, ctx) =>
    sdkProperty(session, ctx, fc.tuple(schedulerArb(session), fc.constantFrom('revoked', 'unknown'), apiCall), async ([scheduler, how, c], session) => {
      try {
        let client: string;
        if (how === 'revoked') {
          const created = await session.apiKeyClient();
          client = created.client;
          session.server.revokeApiKey(created.key);
        } else {
          client = await session.createClient({ tenant: 'acme', baseUrl: session.server.baseUrl, auth: { type: 'apiKey', key: 'ek_live_unknownunknownunknownunknownunknown00' } });
        }
        const from = mark(session);
        const result = await single(session, scheduler, () => session.call(client, c.method, c.path, c.body));
        ctx.step(`${c.method} ${c.path} with a ${how} key → ${describeOutcome(session, result.outcome)}`);
        const o = result.outcome;
        if (o.outcome !== 'error' || o.error.type !== 'EksoAuthException' || (o.error.reason !== 'Revoked' && o.error.reason !== 'Invalid')) {
          throw new Violation('SDK-14', 'EksoAuthException with reason Revoked or Invalid', describeOutcome(session, o), `a ${how} API key did not surface as an auth failure`);
        }
        const seen = requestsSince(session, from);
        expectThat(apiRequests(seen).length === 1, 'SDK-14', 'a rejected API key was retried', 'exactly one request', `${apiRequests(seen).length} requests`);
        // One observation, two requirements: ApiKeyAuth "never calls the token endpoint" (SDK-01).
        const refreshes = tokenRequests(seen);
        if (refreshes.length) {
          throw new Violation('SDK-14', 'no token request', `${refreshes.length} token request(s): ${describeRequest(session, refreshes[0]!)}`, 'an API-key client called the token endpoint after a 401', { also: ['SDK-01'] });
        }
      } finally {
        await session.disposeClients();
      }
    }),
};

export const API_KEY_SDK_CHECKS: readonly Check[] = [bearerOnEveryRequest, baseUrls, rejectedKey];
