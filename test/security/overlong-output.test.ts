/**
 * Issue 11 point 6: what an adapter, a target or a command prints is bounded. An over-long line
 * or body is a diagnosis (a protocol fault, an inconclusive check, an unusable adapter), never a
 * crash of the harness (`RangeError: Invalid string length` for a 600 MB adapter line), and the
 * reports are written. The limits are small in the unit tests (an option) and the default ones are
 * shown to apply with outputs a few times over them.
 */
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answers } from '../../src/targets/launch.js';
import { Redactor } from '../../src/engine/redact.js';
import { AdapterProtocolError, StdioAdapter } from '../../src/targets/adapters/index.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/targets/adapters/stdio.js';
import { HarnessClock, MAX_REQUEST_BYTES, ModelServer } from '../../src/targets/sdk/model-server.js';
import { runShell, STDOUT_KEPT_BYTES } from '../../src/targets/shell.js';
import { startFixture, type Fixture } from '../backend-robustness/fixtures/targets.js';
import { readReports, ROOT } from '../support/cli.js';
import { removeDir, runBackend } from '../support/harness.js';
import { runSdk } from '../support/sdk-harness.js';

const LONG_LINES = join(ROOT, 'test/security/fixtures/long-lines.mjs');
const ALL = ['json', 'junit', 'md', 'html'] as const;

const adapters: StdioAdapter[] = [];
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.kill()));
});

describe('stdio adapters', () => {
  it('a stdout line over maxLineBytes fails the pending call as a protocol fault; the next call works', async () => {
    const adapter = await StdioAdapter.start(`node ${LONG_LINES} stdout-call 50000`, { maxLineBytes: 1000, requestTimeoutMs: 10_000 });
    adapters.push(adapter);
    await adapter.initialize({ protocolVersion: 1 });
    const first = adapter.call({ client: 'c1', method: 'GET', path: '/api/x' });
    await expect(first).rejects.toBeInstanceOf(AdapterProtocolError);
    await expect(first).rejects.toThrow(/a line of more than 1000 bytes on stdout/);
    await expect(adapter.call({ client: 'c1', method: 'GET', path: '/api/x' })).resolves.toMatchObject({ outcome: 'response', status: 200 });
    expect(adapter.protocolFaults().join('\n')).toMatch(/more than 1000 bytes/);
  });

  it('the default limit: a 5×-over stdout line (the issue\'s `head -c … /dev/zero | tr` adapter) makes the adapter unusable (exit 3), reports written', { timeout: 60_000 }, async () => {
    const bytes = DEFAULT_MAX_LINE_BYTES * 5;
    const run = await runSdk({ adapter: `head -c ${bytes} /dev/zero | tr '\\0' a`, timeout: 20, seed: 1, reporter: [...ALL], keepOut: true });
    expect(run.code).toBe(3);
    expect(run.report.diagnostics.join('\n')).toMatch(new RegExp(`a line of more than ${DEFAULT_MAX_LINE_BYTES} bytes on stdout`));
    const { files } = await readReports(run.outDir);
    expect(Object.keys(files)).toHaveLength(4);
    await removeDir(run.outDir);
  });

  it('an over-long stderr line is cut in the stderr tail, and the run goes on', { timeout: 60_000 }, async () => {
    const run = await runSdk({ adapter: `node ${LONG_LINES} stderr 2000000`, timeout: 20, seed: 1, numRuns: 1, check: [/^sdk\.api-key\.bearer$/] });
    expect(run.report.checks.find((c) => c.id === 'sdk.api-key.bearer')?.status).not.toBe('inconclusive');
    await removeDir(run.outDir);
    // The tail itself (what goes into the diagnostics when a check fails).
    const adapter = await StdioAdapter.start(`node ${LONG_LINES} stderr 2000000`);
    adapters.push(adapter);
    await adapter.initialize({ protocolVersion: 1 });
    await expect.poll(() => adapter.stderrTail().join('\n'), { timeout: 20_000 }).toMatch(/^b{100,2000}… \(a line of more than 65536 bytes, cut\)$/);
  });
});

describe('the model server (SDK mode)', () => {
  it(`answers a request body over ${MAX_REQUEST_BYTES} bytes with 413 and keeps serving`, async () => {
    const server = new ModelServer(new HarnessClock(), new Redactor());
    const base = await server.listen();
    try {
      const post = (bytes: number) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(`${base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end(Buffer.alloc(bytes, 'a'));
        });
      expect(await post(MAX_REQUEST_BYTES * 3)).toBe(413);
      expect(await post(100)).not.toBe(413);
    } finally {
      await server.close();
    }
  });
});

describe('shell commands (token sources)', () => {
  it('a last line over the kept bytes is reported, not parsed; output is never held whole', async () => {
    const result = await runShell(`head -c ${STDOUT_KEPT_BYTES * 5} /dev/zero | tr '\\0' a`, {}, 20_000);
    expect(result.overlongLastLine).toMatch(new RegExp(`a line of more than ${STDOUT_KEPT_BYTES} bytes`));
    expect(result.stdout).toBe('');
    // Many lines before a JSON last line: the answer is still read.
    const ok = await runShell(`yes log-line | head -c ${STDOUT_KEPT_BYTES * 3}; echo; echo '{"ok": true}'`, {}, 20_000);
    expect(ok.overlongLastLine).toBeUndefined();
    expect(ok.stdout.trim().split('\n').pop()).toBe('{"ok": true}');
  });
});

describe('--server-cmd readiness', () => {
  it('a ready URL that answers with an endless body is ready at once; the body is not read', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const endless = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => clearInterval(timer));
    });
    try {
      expect(await answers(`${endless.baseUrl}/health`)).toBe(true);
    } finally {
      await endless.close();
    }
  });
});

describe('backends (HTTP bodies)', () => {
  let target: Fixture;
  beforeAll(async () => {
    // 12 MB bodies everywhere: three times the client's bound.
    target = await startFixture((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < 12; i++) res.write(chunk);
      res.end();
    });
  });
  afterAll(async () => {
    await target.close();
  });

  it('a body over the bound is a transport failure with the reason: the target is unusable (exit 3), the reports are written', { timeout: 60_000 }, async () => {
    const { code, report, outDir } = await runBackend({ baseUrl: target.baseUrl, reporter: [...ALL], check: [/^ERR-01$/] });
    expect(code).toBe(3);
    expect(report.diagnostics.join('\n')).toMatch(/response body over 4194304 bytes/);
    const { files } = await readReports(outDir);
    expect(Object.keys(files)).toHaveLength(4);
    await removeDir(outDir);
  });
});

