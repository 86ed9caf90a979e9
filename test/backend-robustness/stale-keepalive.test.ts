/**
 * Issue 14, point 1: a pooled keep-alive connection the target closes while idle must not end a
 * check as inconclusive. The server variant drops (unanswered, unprocessed) every request that
 * arrives on a connection idle for its keep-alive time — the race a real server loses now and
 * then, made to happen every time.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Redactor } from '../../src/engine/redact.js';
import { materialize, type RecordedExchange } from '../../src/engine/transcript.js';
import { createReferenceBackend, type ReferenceBackend } from '../../src/reference/backend/index.js';
import { HttpClient } from '../../src/targets/http.js';
import { checkPatterns } from '../../src/cli/options.js';
import { removeDir, runBackend, statuses } from '../support/harness.js';
import { startStaleKeepAliveServer, type StaleKeepAliveServer } from './fixtures/stale-keepalive.js';

const TOKEN_COMMAND = `node ${join(import.meta.dirname, '../backend/fixtures/token-command.mjs')}`;

let server: StaleKeepAliveServer | undefined;
let backend: ReferenceBackend | undefined;
afterEach(async () => {
  await server?.close();
  await backend?.close();
  server = backend = undefined;
});

function recordingClient(baseUrl: string): { http: HttpClient; exchanges: RecordedExchange[] } {
  const exchanges: RecordedExchange[] = [];
  const http = new HttpClient({ redactor: new Redactor(), allowedOrigins: [baseUrl] });
  http.sink = { record: (e) => void exchanges.push(materialize(e)) };
  return { http, exchanges };
}

describe('a pooled connection the target closed while idle', () => {
  it('is retried once on a fresh connection; the target sees the POST once; both attempts are in the transcript', async () => {
    const bodies: string[] = [];
    server = await startStaleKeepAliveServer(
      (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (req.method === 'POST') bodies.push(body);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        });
      },
      { idleCloseMs: 150 },
    );
    const { http, exchanges } = recordingClient(server.baseUrl);
    try {
      expect((await http.send({ method: 'GET', url: `${server.baseUrl}/warm` })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 400)); // longer than the server's keep-alive, shorter than the pool's idle limit
      const answer = await http.send({ method: 'POST', url: `${server.baseUrl}/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=rt_0123456789abcdefghijklmnopqrstuvwxyz' });
      expect(answer.status).toBe(200);
    } finally {
      http.close();
    }
    expect(server.dropped).toBe(1);
    expect(bodies).toEqual(['grant_type=refresh_token&refresh_token=rt_0123456789abcdefghijklmnopqrstuvwxyz']);
    expect(exchanges.map((e) => [e.request.method, e.response?.status ?? 'error'])).toEqual([
      ['GET', 200],
      ['POST', 'error'],
      ['POST', 200],
    ]);
    expect(exchanges[1]!.error).toMatch(/reused keep-alive connection.*retried once on a fresh connection/);
    expect(exchanges[1]!.request.body).not.toContain('rt_0123456789abcdefghijklmnopqrstuvwxyz'); // redacted like any other attempt
  });

  it('is not retried when it was not reused, or when the target answered something', async () => {
    let calls = 0;
    server = await startStaleKeepAliveServer(
      (req) => {
        calls += 1;
        req.socket.destroy(); // on a fresh connection: a real failure, reported as such
      },
      { idleCloseMs: 60_000 },
    );
    const { http, exchanges } = recordingClient(server.baseUrl);
    try {
      await expect(http.send({ method: 'POST', url: `${server.baseUrl}/token`, body: 'a=b' })).rejects.toMatchObject({ failure: 'reset' });
    } finally {
      http.close();
    }
    expect(calls).toBe(1);
    expect(exchanges).toHaveLength(1);
  });

  it('is not reused after the pool idle limit (1 s): Node-default 5 s keep-alive never races', async () => {
    server = await startStaleKeepAliveServer((_req, res) => res.end('{}'), { idleCloseMs: 1_200 });
    const { http } = recordingClient(server.baseUrl);
    try {
      await http.send({ method: 'GET', url: `${server.baseUrl}/a` });
      await new Promise((r) => setTimeout(r, 1_400));
      expect((await http.send({ method: 'GET', url: `${server.baseUrl}/b` })).status).toBe(200);
    } finally {
      http.close();
    }
    expect(server.dropped).toBe(0);
  });

  it('a check that waits for a token to expire (real time, no clock hook) ends with a verdict, not inconclusive', async () => {
    // The reference backend with 3 s access tokens, behind a 5 s (Node's default) keep-alive
    // that loses the race; no discovery (so no test hooks or clock: the check waits for real).
    backend = createReferenceBackend({ testHooks: true, accessTokenTtlSeconds: 3 });
    const listening = await backend.listen(0);
    void listening;
    const reference = backend;
    server = await startStaleKeepAliveServer(
      (req, res) => {
        if (req.url?.startsWith('/.well-known/')) {
          res.writeHead(404).end();
          return;
        }
        reference.handle(req, res);
      },
      { idleCloseMs: 5_000 },
    );
    const { report, outDir } = await runBackend({ baseUrl: server.baseUrl, tokenCommand: TOKEN_COMMAND, check: checkPatterns('rt.access-expiry'), checkText: 'rt.access-expiry', numRuns: 1, seed: 3 });
    try {
      expect(statuses(report)['RT-02']).toBe('passed');
      expect(report.checks.find((c) => c.id === 'rt.access-expiry')?.status).toBe('passed');
    } finally {
      await removeDir(outDir);
    }
  });
});
