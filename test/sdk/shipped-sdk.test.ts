/**
 * An in-process SDK as shipped (issue 12): it takes no transport from the harness — it calls the
 * global `fetch` with its built-in default base URL `https://{tenant}.ekso.app` — and is still
 * tested: a tenant-only client's request is intercepted with nock (no DNS, no network) and
 * answered by the model server, so SDK-02's default URL is observed on the wire. Proven both ways:
 * the reference SDK passes, a variant that sends tenant-only requests elsewhere fails SDK-02.
 */
import { describe, expect, it } from 'vitest';
import { createReferenceSdkAdapter, runSdkConformance, type CreateClientParams, type InProcessAdapterModule } from '../../src/index.js';

/** The reference SDK as a module that takes no injection: global fetch, real time. */
const asShipped: InProcessAdapterModule = { createAdapter: () => createReferenceSdkAdapter({ log: () => undefined }), acceptsInjection: false };

/** The same, except that a client given only a tenant sends to https://{tenant}.ekso.io. */
const wrongDefault: InProcessAdapterModule = {
  acceptsInjection: false,
  createAdapter: () => {
    const inner = createReferenceSdkAdapter({ log: () => undefined });
    return { ...inner, createClient: (params: CreateClientParams) => inner.createClient(params.baseUrl ? params : { ...params, baseUrl: `https://${params.tenant}.ekso.io` }) };
  },
};

describe('an in-process SDK that uses the global fetch and its default base URL', () => {
  it('is tested over the wire: SDK-02 passes for the reference SDK as shipped', async () => {
    const report = await runSdkConformance({ adapter: asShipped, adapterName: 'reference SDK as shipped', seed: 3, check: 'sdk.base-url' });
    expect(report.target.adapter).toMatch(/reference SDK as shipped/);
    const verdict = report.requirements.find((r) => r.id === 'SDK-02');
    expect(verdict?.status, JSON.stringify(report.checks)).toBe('passed');
    const steps = report.checks.find((c) => c.id === 'sdk.base-url');
    expect(steps?.status).toBe('passed');
  });

  it('a tenant-only client that sends elsewhere fails SDK-02, the request intercepted before any network', async () => {
    const report = await runSdkConformance({ adapter: wrongDefault, adapterName: 'wrong default URL', seed: 3, check: 'sdk.base-url' });
    const check = report.checks.find((c) => c.id === 'sdk.base-url');
    expect(check?.status).toBe('failed');
    expect(check?.message).toMatch(/SDK-02: a tenant-only client did not send to https:\/\/\{tenant\}\.ekso\.app/);
  });
});
