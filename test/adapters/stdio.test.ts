/** `StdioAdapter` against real processes: the reference SDK served over stdio, and broken adapters. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdapterRpcError, RPC_ERRORS, type TokensRefreshedParams } from '../../src/spec/adapter-protocol.js';
import { AdapterCrashedError, AdapterProtocolError, AdapterTimeoutError, StdioAdapter } from '../../src/targets/adapters/index.js';
import { startLocalEkso, type LocalEkso } from './local-ekso.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/adapters/fixtures');
const REFERENCE = `node --import tsx ${join(FIXTURES, 'reference-stdio.ts')}`;
const misbehave = (mode: string) => `node ${join(FIXTURES, 'misbehave.mjs')} ${mode}`;

const started: StdioAdapter[] = [];
async function start(command: string, options: Parameters<typeof StdioAdapter.start>[1] = {}): Promise<StdioAdapter> {
  const adapter = await StdioAdapter.start(command, { cwd: ROOT, ...options });
  started.push(adapter);
  return adapter;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.kill()));
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (killed, not yet reaped by its new parent) counts as dead.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('StdioAdapter + serveAdapterOverStdio: the reference SDK round trip', () => {
  let ekso: LocalEkso;
  let storeDir: string;
  beforeAll(async () => {
    ekso = await startLocalEkso();
    storeDir = await mkdtemp(join(tmpdir(), 'ekso-stdio-store-'));
  });
  afterAll(async () => {
    await ekso.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it('initialize, concurrent calls with one shared refresh, notifications before results, store, shutdown', async () => {
    const adapter = await start(REFERENCE, { env: { EKSO_TEST_STORE_DIR: storeDir } });
    const init = await adapter.initialize({ protocolVersion: 1 });
    expect(init.capabilities).toMatchObject({ apiKey: true, refreshable: true, clock: true, tokenStore: true, refreshMarginMs: 30_000, storePath: join(storeDir, 'tokens.json') });

    const order: string[] = [];
    const notes: TokensRefreshedParams[] = [];
    adapter.onTokensRefreshed((e) => {
      notes.push(e);
      order.push('notify');
    });
    const pair = ekso.issue(10_000); // inside the 30 s margin: the first calls refresh
    await adapter.createClient({
      client: 'c1',
      tenant: 'acme',
      baseUrl: `${ekso.baseUrl}/`,
      auth: { type: 'refreshable', accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt: pair.expiresAt, tokenEndpoint: ekso.tokenEndpoint, clientId: 'ekso-sdk' },
    });
    const release = ekso.holdTokens();
    const calls = Array.from({ length: 8 }, (_, i) =>
      adapter.call({ client: 'c1', method: 'GET', path: `/api/field?i=${i}` }).then((o) => {
        order.push('result');
        return o;
      }),
    );
    while (ekso.tokenRequests.length === 0) await new Promise((r) => setTimeout(r, 10));
    release();
    const outcomes = await Promise.all(calls);
    expect(ekso.tokenRequests).toHaveLength(1);
    expect(notes).toHaveLength(1);
    expect(order[0]).toBe('notify');
    for (const o of outcomes) expect(o).toMatchObject({ outcome: 'response', status: 200, body: { via: notes[0]!.accessToken } });

    expect(await adapter.storeLoad({ tenant: 'acme', clientId: 'ekso-sdk', environment: 'default' })).toEqual({
      tokens: { accessToken: notes[0]!.accessToken, refreshToken: notes[0]!.refreshToken, expiresAt: notes[0]!.expiresAt },
    });
    expect((await stat(join(storeDir, 'tokens.json'))).mode & 0o777).toBe(0o600);

    expect(await adapter.call({ client: 'c1', method: 'GET', path: '/api/status/429' })).toMatchObject({ outcome: 'error', error: { type: 'EksoRateLimitException', retryAfterMs: 2000 } });
    expect(await adapter.resolveBaseUrl({ tenant: 'acme' })).toEqual({ baseUrl: 'https://acme.ekso.app' });

    await expect(adapter.rawRequest('frobnicate', {})).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
    await expect(adapter.rawRequest('call', { client: 1 })).rejects.toMatchObject({ code: RPC_ERRORS.invalidParams });
    await expect(adapter.call({ client: 'ghost', method: 'GET', path: '/' })).rejects.toBeInstanceOf(AdapterRpcError);

    expect(await adapter.shutdown()).toEqual({});
    expect(adapter.exitStatus()).toEqual({ code: 0, signal: null });
    expect(adapter.protocolFaults()).toEqual([]);
  });

  it('end of stdin makes the served adapter exit 0', async () => {
    const child = spawn(REFERENCE, { shell: true, cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 1 } })}\n`);
    child.stdin.end();
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split('\n')[0]!)).toMatchObject({ id: 1, result: { protocolVersion: 1 } });
  });
});

describe('StdioAdapter against misbehaving adapters', () => {
  it('a crash while a call is pending → AdapterCrashedError with the exit code and stderr tail', async () => {
    const adapter = await start(misbehave('crash'));
    await adapter.initialize({ protocolVersion: 1 });
    const e = await adapter.call({ client: 'c', method: 'GET', path: '/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterCrashedError);
    expect((e as AdapterCrashedError).exitCode).toBe(3);
    expect((e as AdapterCrashedError).stderrTail).toContain('fatal: the SDK blew up');
    expect((e as Error).message).not.toContain('\n');
    // Later requests fail at once with the same diagnosis.
    await expect(adapter.call({ client: 'c', method: 'GET', path: '/' })).rejects.toBeInstanceOf(AdapterCrashedError);
  });

  it('a hanging adapter → AdapterTimeoutError, and it can still be killed', async () => {
    const adapter = await start(misbehave('hang'), { requestTimeoutMs: 300 });
    await adapter.initialize({ protocolVersion: 1 });
    const e = await adapter.call({ client: 'c', method: 'GET', path: '/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterTimeoutError);
    expect((e as AdapterTimeoutError).method).toBe('call');
    await adapter.kill();
    expect(isAlive(adapter.pid!)).toBe(false);
  });

  it('non-JSON on stdout → AdapterProtocolError for the pending calls, recorded as a fault without quoting it', async () => {
    const adapter = await start(misbehave('nonjson'));
    await adapter.initialize({ protocolVersion: 1 });
    const e = await adapter.call({ client: 'c', method: 'GET', path: '/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterProtocolError);
    expect(adapter.protocolFaults()).toHaveLength(1);
    expect(adapter.protocolFaults()[0]).toMatch(/non-JSON line/);
    expect(adapter.protocolFaults()[0]).not.toContain('DEBUG');
  });

  it('an answer to an unknown id → AdapterProtocolError', async () => {
    const adapter = await start(misbehave('unknown-id'));
    await adapter.initialize({ protocolVersion: 1 });
    const e = await adapter.call({ client: 'c', method: 'GET', path: '/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterProtocolError);
    expect((e as Error).message).toMatch(/unknown request id/);
  });

  it('a result that fails the schema → AdapterProtocolError naming the field', async () => {
    const adapter = await start(misbehave('bad-result'));
    await adapter.initialize({ protocolVersion: 1 });
    const e = await adapter.call({ client: 'c', method: 'GET', path: '/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterProtocolError);
    expect((e as Error).message).toMatch(/invalid result of "call"/);
    expect(adapter.protocolFaults()).toHaveLength(1);
  });

  it('capability-gated methods are refused locally when the capability is missing', async () => {
    const adapter = await start(misbehave('ok'));
    await adapter.initialize({ protocolVersion: 1 });
    await expect(adapter.advanceClock({ ms: 1 })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
    await expect(adapter.storeLoad({ tenant: 't', clientId: 'c', environment: 'e' })).rejects.toMatchObject({ code: RPC_ERRORS.methodNotFound });
  });

  it('a command that does not exist → AdapterCrashedError with exit code 127 on the first request', async () => {
    const adapter = await start('definitely-not-an-ekso-adapter-command');
    const e = await adapter.initialize({ protocolVersion: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterCrashedError);
    expect((e as AdapterCrashedError).exitCode).toBe(127);
  });

  it('kill() ends the whole process group, escalating to SIGKILL, and is idempotent', async () => {
    const adapter = await start(misbehave('group'));
    await adapter.initialize({ protocolVersion: 1 });
    const pidOf = (label: string) => Number(adapter.stderrTail().find((l) => l.startsWith(label))?.split(' ')[1]);
    while (!pidOf('self')) await new Promise((r) => setTimeout(r, 10));
    const grandchild = pidOf('grandchild');
    const self = pidOf('self');
    expect(isAlive(grandchild)).toBe(true);
    await Promise.all([adapter.kill(), adapter.kill()]);
    await adapter.kill();
    expect(adapter.stderrTail()).toContain('ignoring SIGTERM');
    expect(isAlive(self)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    await expect(adapter.call({ client: 'c', method: 'GET', path: '/' })).rejects.toBeInstanceOf(AdapterCrashedError);
  });
});
