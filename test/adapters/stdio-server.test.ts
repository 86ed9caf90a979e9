/** `serveAdapterOverStdio` on in-memory streams: the adapter side of the protocol, line by line. */
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import type { SdkAdapter, TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { serveAdapterOverStdio } from '../../src/reference/sdk/stdio-server.js';

/** A scripted adapter: `call` waits `body.delayMs` and answers with its path; raises a notification on `/notify`. */
function scriptedAdapter(caps: { clock: boolean }): SdkAdapter & { shutdowns: number } {
  const listeners: Array<(e: TokensRefreshedParams) => void> = [];
  const adapter = {
    shutdowns: 0,
    async initialize() {
      return { name: 's', version: '1', protocolVersion: 1 as const, capabilities: { apiKey: true, refreshable: true, clock: caps.clock, tokenStore: false } };
    },
    async createClient() {
      return {};
    },
    async resolveBaseUrl() {
      return { baseUrl: 'https://x.ekso.app' };
    },
    async call(p: { path: string; body?: unknown }) {
      const delay = (p.body as { delayMs?: number } | undefined)?.delayMs ?? 0;
      await new Promise((r) => setTimeout(r, delay));
      if (p.path === '/notify') for (const l of listeners) l({ client: 'c', accessToken: 'A', refreshToken: 'R', expiresAt: '2030-01-01T00:00:00.000Z' });
      if (p.path === '/boom') throw new Error('bug');
      return { outcome: 'response' as const, status: 200, body: p.path };
    },
    async advanceClock() {
      return {};
    },
    async disposeClient() {
      return {};
    },
    async shutdown() {
      adapter.shutdowns++;
      return {};
    },
    onTokensRefreshed(l: (e: TokensRefreshedParams) => void) {
      listeners.push(l);
    },
  };
  return adapter;
}

function harness(adapter: SdkAdapter) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const received: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: stdout }).on('line', (line) => {
    received.push(JSON.parse(line) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  const served = serveAdapterOverStdio(adapter, { stdin, stdout, stderr });
  const send = (msg: unknown) => stdin.write(typeof msg === 'string' ? `${msg}\n` : `${JSON.stringify(msg)}\n`);
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((r) => waiters.push(r));
  };
  const answer = async (id: number) => {
    await until(() => received.some((m) => m['id'] === id));
    return received.find((m) => m['id'] === id)!;
  };
  return { stdin, send, received, answer, until, served };
}

describe('serveAdapterOverStdio', () => {
  it('answers concurrent calls in completion order, not request order', async () => {
    const h = harness(scriptedAdapter({ clock: true }));
    h.send({ jsonrpc: '2.0', id: 1, method: 'call', params: { client: 'c', method: 'GET', path: '/slow', body: { delayMs: 80 } } });
    h.send({ jsonrpc: '2.0', id: 2, method: 'call', params: { client: 'c', method: 'GET', path: '/fast', body: { delayMs: 0 } } });
    await h.answer(1);
    expect(h.received.map((m) => m['id'])).toEqual([2, 1]);
    expect(h.received[1]).toEqual({ jsonrpc: '2.0', id: 1, result: { outcome: 'response', status: 200, body: '/slow' } });
    h.stdin.end();
    expect(await h.served).toBe(0);
  });

  it('writes tokensRefreshed before the response of the call that raised it', async () => {
    const h = harness(scriptedAdapter({ clock: true }));
    h.send({ jsonrpc: '2.0', id: 7, method: 'call', params: { client: 'c', method: 'GET', path: '/notify' } });
    await h.answer(7);
    expect(h.received[0]).toEqual({ jsonrpc: '2.0', method: 'tokensRefreshed', params: { client: 'c', accessToken: 'A', refreshToken: 'R', expiresAt: '2030-01-01T00:00:00.000Z' } });
    expect(h.received[1]!['id']).toBe(7);
    h.stdin.end();
    await h.served;
  });

  it('protocol faults: parse error, invalid request, unknown method, bad params, internal error', async () => {
    const h = harness(scriptedAdapter({ clock: true }));
    h.send('{not json');
    h.send({ jsonrpc: '1.0', id: 2, method: 'call' });
    h.send({ jsonrpc: '2.0', id: 3, method: 'frobnicate', params: {} });
    h.send({ jsonrpc: '2.0', id: 4, method: 'call', params: { client: 5 } });
    h.send({ jsonrpc: '2.0', id: 5, method: 'call', params: [1, 2] });
    h.send({ jsonrpc: '2.0', id: 6, method: 'call', params: { client: 'c', method: 'GET', path: '/boom' } });
    await h.until(() => h.received.length === 6);
    const codeOf = (id: unknown) => (h.received.find((m) => m['id'] === id)!['error'] as { code: number }).code;
    expect(codeOf(null)).toBe(-32700);
    expect(codeOf(2)).toBe(-32600);
    expect(codeOf(3)).toBe(-32601);
    expect(codeOf(4)).toBe(-32602);
    expect(codeOf(5)).toBe(-32602);
    expect(codeOf(6)).toBe(-32603);
    h.stdin.end();
    await h.served;
  });

  it('a method whose capability the adapter lacks is -32601', async () => {
    const h = harness(scriptedAdapter({ clock: false }));
    h.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } });
    await h.answer(1);
    h.send({ jsonrpc: '2.0', id: 2, method: 'advanceClock', params: { ms: 5 } });
    h.send({ jsonrpc: '2.0', id: 3, method: 'storeLoad', params: { tenant: 't', clientId: 'c', environment: 'e' } }); // no method at all
    expect(((await h.answer(2))['error'] as { code: number }).code).toBe(-32601);
    expect(((await h.answer(3))['error'] as { code: number }).code).toBe(-32601);
    h.stdin.end();
    await h.served;
  });

  it('shutdown is answered, then the server resolves 0 and ignores further input', async () => {
    const adapter = scriptedAdapter({ clock: true });
    const h = harness(adapter);
    h.send({ jsonrpc: '2.0', id: 1, method: 'shutdown', params: {} });
    expect(await h.served).toBe(0);
    expect(h.received).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(adapter.shutdowns).toBe(1);
  });

  it('end of input shuts the adapter down and resolves 0', async () => {
    const adapter = scriptedAdapter({ clock: true });
    const h = harness(adapter);
    h.stdin.end();
    expect(await h.served).toBe(0);
    expect(adapter.shutdowns).toBe(1);
  });
});
