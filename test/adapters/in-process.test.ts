import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RPC_ERRORS, type TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { AdapterLoadError, AdapterProtocolError, AdapterRpcError, loadInProcessAdapter } from '../../src/targets/adapters/index.js';
import { FakeEkso } from '../reference-sdk/fake-ekso.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/adapters/fixtures');

describe('loadInProcessAdapter', () => {
  it('loads the reference SDK adapter from its .ts source and injects fetch and now', async () => {
    const fake = new FakeEkso();
    const base = fake.clock;
    const { adapter, acceptsInjection } = await loadInProcessAdapter(join(ROOT, 'src/reference/sdk/adapter.ts'), { fetch: fake.fetch, now: () => base });
    expect(acceptsInjection).toBe(true);
    const init = await adapter.initialize({ protocolVersion: 1 });
    expect(init.capabilities).toMatchObject({ apiKey: true, refreshable: true, clock: true, tokenStore: true });

    const notes: TokensRefreshedParams[] = [];
    adapter.onTokensRefreshed((e) => void notes.push(e));
    const pair = fake.issue(60_000);
    await adapter.createClient({
      client: 'c1',
      tenant: 'acme',
      baseUrl: 'http://127.0.0.1:1',
      auth: { type: 'refreshable', accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: pair.expiresAt.toISOString(), tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk' },
    });
    fake.advance(50_000);
    await adapter.advanceClock!({ ms: 50_000 });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => adapter.call({ client: 'c1', method: 'GET', path: '/api/field' })));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(notes).toHaveLength(1);
    for (const o of outcomes) expect(o).toEqual({ outcome: 'response', status: 200, body: { via: notes[0]!.accessToken } });
    await expect(adapter.call({ client: 'nope', method: 'GET', path: '/' })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await adapter.shutdown({});
  });

  it('loads .mjs with a parameter (injection), validating results and events', async () => {
    const calls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      calls.push(String(input));
      return new Response(null, { status: 204 });
    };
    const loaded = await loadInProcessAdapter(join(FIXTURES, 'inproc-esm.mjs'), { fetch, now: () => 0 });
    expect(loaded.acceptsInjection).toBe(true);
    const { adapter } = loaded;
    await adapter.initialize({ protocolVersion: 1 });
    expect(await adapter.call({ client: 'c', method: 'GET', path: '/fetch' })).toEqual({ outcome: 'response', status: 204 });
    expect(calls).toEqual(['http://127.0.0.1:1/x']);

    const events: TokensRefreshedParams[] = [];
    adapter.onTokensRefreshed((e) => void events.push(e));
    await adapter.call({ client: 'c', method: 'GET', path: '/ok' });
    expect(events).toEqual([{ client: 'c', accessToken: 'a', refreshToken: 'r', expiresAt: '1970-01-01T00:00:00.000Z' }]);
    expect(loaded.protocolFaults().some((f) => /invalid tokensRefreshed event/.test(f))).toBe(true);

    await expect(adapter.call({ client: 'c', method: 'GET', path: '/bad' })).rejects.toBeInstanceOf(AdapterProtocolError);
    await expect(adapter.call({ client: 'c', method: 'GET', path: '/throw' })).rejects.toThrow(/"call" threw Error: adapter bug/);
    const rpc = await adapter.call({ client: 'c', method: 'GET', path: '/rpc' }).catch((x: unknown) => x);
    expect(rpc).toBeInstanceOf(AdapterRpcError);
    expect((rpc as AdapterRpcError).code).toBe(-32602);
    // No clock capability, and no method: refused as -32601.
    await expect(adapter.advanceClock!({ ms: 1 })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
    await expect(adapter.storeLoad!({ tenant: 't', clientId: 'c', environment: 'e' })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
  });

  it('loads .cjs; `acceptsInjection = true` makes a length-0 createAdapter receive the options', async () => {
    const { adapter, acceptsInjection } = await loadInProcessAdapter(join(FIXTURES, 'inproc-cjs.cjs'), { now: () => 1 });
    expect(acceptsInjection).toBe(true);
    expect(await adapter.initialize({ protocolVersion: 1 })).toMatchObject({ name: 'inproc-cjs', sawNow: true });
    expect(await adapter.call({ client: 'c', method: 'GET', path: '/' })).toEqual({ outcome: 'response', status: 204 });
  });

  it('a module that does not declare injection is created without options', async () => {
    const { adapter, acceptsInjection } = await loadInProcessAdapter(join(FIXTURES, 'no-injection.mjs'), { now: () => 1 });
    expect(acceptsInjection).toBe(false);
    expect((await adapter.initialize({ protocolVersion: 1 })).name).toBe('args-0');
  });

  it('load failures are AdapterLoadError with a one-line message', async () => {
    const cases: Array<[string, RegExp]> = [
      [join(FIXTURES, 'missing.mjs'), /not found/],
      [join(FIXTURES, 'no-create.mjs'), /does not export a createAdapter\(\) function/],
      [join(FIXTURES, 'throws.mjs'), /failed to load: Error: cannot load: missing SDK build/],
      [join(FIXTURES, 'incomplete.mjs'), /lacks createClient, resolveBaseUrl, call, disposeClient, shutdown, onTokensRefreshed/],
      [join(FIXTURES, 'misbehave.py'), /unsupported extension/],
    ];
    for (const [path, message] of cases) {
      const e = await loadInProcessAdapter(path, {}).catch((x: unknown) => x);
      expect(e, path).toBeInstanceOf(AdapterLoadError);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});
