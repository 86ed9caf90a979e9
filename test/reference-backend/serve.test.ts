import { describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { runServe } from '../../src/cli/serve.js';
import { createReferenceBackend, parsePolicy, SystemClock } from '../../src/reference/backend/index.js';
import { get, json } from './helpers.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

describe('serve command', () => {
  it('prints the URL and both keys, serves, and stops cleanly on the stop signal', async () => {
    const out = capture();
    const err = capture();
    const stop = new AbortController();
    let listening: (url: string) => void = () => {};
    const ready = new Promise<string>((resolve) => (listening = resolve));
    const exit = runServe(
      { port: 0, host: '127.0.0.1', testHooks: true },
      { stdout: out.stream, stderr: err.stream },
      { signal: stop.signal, handleSignals: false, onListening: ({ baseUrl }) => listening(baseUrl) },
    );
    const baseUrl = await ready;
    const printed = out.text();
    expect(printed).toContain(`EKSO_BASE_URL=${baseUrl}`);
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const adminKey = /EKSO_ADMIN_API_KEY=(ek_live_\S+)/.exec(printed)?.[1];
    const userKey = /EKSO_USER_API_KEY=(ek_live_\S+)/.exec(printed)?.[1];
    expect(adminKey).toBeDefined();
    expect(userKey).toBeDefined();
    expect(printed).toContain('policy strict');
    expect((await get(baseUrl, '/api/field', adminKey)).status).toBe(200);
    expect((await json(baseUrl, 'POST', '/api/admin/api-key', { name: 'x' }, userKey)).status).toBe(403);
    expect((await get(baseUrl, '/.well-known/oauth-authorization-server')).json.ekso_conformance_test_hooks).toBe('/__conformance');
    stop.abort();
    expect(await exit).toBe(0);
    await expect(get(baseUrl, '/api/field', adminKey)).rejects.toThrow();
  });

  it('stops on SIGINT', async () => {
    const out = capture();
    let listening: () => void = () => {};
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const before = process.listenerCount('SIGINT');
    const exit = runServe({ port: 0, host: '127.0.0.1', testHooks: false }, { stdout: out.stream, stderr: capture().stream }, { onListening: () => listening() });
    await ready;
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    // Call our own listener rather than signalling the test process.
    process.emit('SIGINT', 'SIGINT');
    expect(await exit).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(out.text()).toContain('test hooks off');
  });

  it('resolves 3 with one stderr line when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = capture();
      const code = await runServe({ port, host: '127.0.0.1', testHooks: false }, { stdout: capture().stream, stderr: err.stream }, { handleSignals: false });
      expect(code).toBe(3);
      expect(err.text().trim().split('\n')).toHaveLength(1);
      expect(err.text()).toContain('in use');
    } finally {
      blocker.close();
    }
  });

  it('resolves 2 for an invalid policy', async () => {
    const err = capture();
    expect(await runServe({ port: 0, host: '127.0.0.1', testHooks: false, policy: 'lenient' }, { stdout: capture().stream, stderr: err.stream }, { handleSignals: false })).toBe(2);
    expect(err.text()).toContain('invalid policy');
  });
});

describe('backend plumbing', () => {
  it('parsePolicy accepts strict and grace=<s> only', () => {
    expect(parsePolicy('strict')).toEqual({ kind: 'strict' });
    expect(parsePolicy('grace=30')).toEqual({ kind: 'grace', seconds: 30 });
    expect(parsePolicy('grace=2.5')).toEqual({ kind: 'grace', seconds: 2.5 });
    for (const bad of ['', 'grace', 'grace=', 'grace=0', 'grace=-1', 'grace=abc', 'Strict', 'grace=1s']) {
      expect(() => parsePolicy(bad), bad).toThrow();
    }
  });

  it('handle() can be mounted on another server', async () => {
    const backend = createReferenceBackend();
    const server = http.createServer(backend.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      expect((await get(baseUrl, '/api/field', backend.bootstrap.adminKey)).status).toBe(200);
      expect((await get(baseUrl, '/.well-known/oauth-authorization-server')).json.token_endpoint).toBe(`${baseUrl}/token`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the default clock runs on real time and moves with the clock hook', async () => {
    const backend = createReferenceBackend({ testHooks: true });
    expect(backend.clock).toBeInstanceOf(SystemClock);
    const { baseUrl } = await backend.listen(0);
    try {
      const before = Date.now();
      const reply = await json(baseUrl, 'POST', '/__conformance/clock', { advanceMs: 3_600_000 });
      const now = Date.parse(reply.json.now);
      expect(now).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(now).toBeLessThan(Date.now() + 3_600_000 + 1000);
    } finally {
      await backend.close();
    }
  });

  it('listen() twice is refused; close() twice is harmless', async () => {
    const backend = createReferenceBackend();
    await backend.listen(0);
    await expect(backend.listen(0)).rejects.toThrow();
    await backend.close();
    await backend.close();
  });
});
