/**
 * The HTTP client every target request goes through: transport failures are classified (never
 * thrown raw), the run's stop signal ends requests in flight, cleanup's sibling client is not
 * stopped by it, foreign origins are refused before anything is sent, and transcripts are
 * redacted (H-01, H-05, H-06).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import { createServer, type Socket } from 'node:net';
import { Redactor, fingerprint } from '../../src/engine/redact.js';
import { materialize, type RecordedExchange } from '../../src/engine/transcript.js';
import { ForeignHostError, HttpClient, TransportError } from '../../src/targets/http.js';
import { hang, reset, startFixture, type Fixture } from './fixtures/targets.js';

let hanging: Fixture;
let resetting: Fixture;
let echo: Fixture;

beforeAll(async () => {
  hanging = await startFixture(hang);
  resetting = await startFixture(reset);
  // Answers with the request's credential and body in a plain-text field and a header.
  echo = await startFixture((req, res, arrival) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-echo': req.headers.authorization ?? '' });
    res.end(JSON.stringify({ rawKey: 'ek_live_issuedByTheTargetIssuedByTheTarget0001', note: `you sent ${req.headers.authorization ?? ''} and ${arrival.body}` }));
  });
});

afterAll(async () => {
  for (const f of [hanging, resetting, echo]) await f.close();
});

function client(origins: string[], extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  return new HttpClient({ redactor: new Redactor(), allowedOrigins: origins, timeoutMs: 120_000, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('HttpClient', () => {
  it('classifies transport failures: timeout, reset, refused', async () => {
    const port = await closedPort();
    const http = client([hanging.baseUrl, resetting.baseUrl, `http://127.0.0.1:${port}`]);
    try {
      expect((await failure(http.send({ method: 'GET', url: `${hanging.baseUrl}/x`, timeoutMs: 300 }))).failure).toBe('timeout');
      expect((await failure(http.send({ method: 'GET', url: `${resetting.baseUrl}/x` }))).failure).toBe('reset');
      expect((await failure(http.send({ method: 'GET', url: `http://127.0.0.1:${port}/x` }))).failure).toBe('refused');
    } finally {
      http.close();
    }
  });

  it('the stop signal ends a request in flight at once, and no later request is sent', async () => {
    const stop = new AbortController();
    const http = client([hanging.baseUrl], { signal: stop.signal });
    try {
      const pending = http.send({ method: 'GET', url: `${hanging.baseUrl}/slow` });
      setTimeout(() => stop.abort(), 100);
      // The request would wait 120 s for its timeout: only the signal can end it in time.
      expect((await failure(pending)).failure).toBe('aborted');
      const before = hanging.requests.length;
      expect((await failure(http.send({ method: 'GET', url: `${hanging.baseUrl}/later` }))).failure).toBe('aborted');
      expect(hanging.requests.length).toBe(before);
    } finally {
      http.close();
    }
  });

  it('the stop signal ends every request in flight, also after earlier requests came and went', async () => {
    const stop = new AbortController();
    const http = client([hanging.baseUrl, echo.baseUrl], { signal: stop.signal });
    try {
      for (let i = 0; i < 5; i++) expect((await http.send({ method: 'GET', url: `${echo.baseUrl}/ok${i}` })).status).toBe(200);
      const pending = [1, 2, 3].map((i) => failure(http.send({ method: 'GET', url: `${hanging.baseUrl}/slow${i}` })));
      setTimeout(() => stop.abort(), 100);
      expect((await Promise.all(pending)).map((e) => e.failure)).toEqual(['aborted', 'aborted', 'aborted']);
    } finally {
      http.close();
    }
  });

  it("resolves names with the client's lookup on pooled and fresh connections alike (H-06)", async () => {
    const asked: string[] = [];
    const lookup = ((hostname: string, options: LookupOptions, callback: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
      asked.push(hostname);
      if (hostname.startsWith('elsewhere.')) return callback(Object.assign(new Error(`${hostname} is not loopback`), { code: 'ENOTLOOPBACK' }), []);
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as typeof import('node:dns').lookup;
    const port = new URL(echo.baseUrl).port;
    const named = `http://ekso-target.test:${port}`;
    const refused = `http://elsewhere.test:${port}`;
    const http = client([named, refused], { lookup });
    try {
      expect((await http.send({ method: 'GET', url: `${named}/pooled` })).status).toBe(200);
      expect((await http.send({ method: 'GET', url: `${named}/fresh`, freshConnection: true })).status).toBe(200);
      expect(asked).toEqual(['ekso-target.test', 'ekso-target.test']);
      const before = echo.requests.length;
      await failure(http.send({ method: 'GET', url: `${refused}/x` }));
      await failure(http.send({ method: 'GET', url: `${refused}/y`, freshConnection: true }));
      expect(echo.requests.length).toBe(before);
    } finally {
      http.close();
    }
  });

  it('reuses a pooled connection, but not one whose server announced Keep-Alive: timeout=1', async () => {
    const connectionsFor = async (keepAliveHeader: string | undefined): Promise<number> => {
      const sockets = new Set<Socket>();
      const server = http.createServer((_req, res) => res.writeHead(200, keepAliveHeader ? { 'keep-alive': keepAliveHeader } : {}).end('{}'));
      server.keepAliveTimeout = 60_000;
      server.on('connection', (socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const harness = client([baseUrl]);
      try {
        for (let i = 0; i < 3; i++) expect((await harness.send({ method: 'GET', url: `${baseUrl}/${i}` })).status).toBe(200);
        return sockets.size;
      } finally {
        harness.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    };
    expect(await connectionsFor(undefined)).toBe(1);
    expect(await connectionsFor('timeout=30')).toBe(1);
    expect(await connectionsFor('timeout=1')).toBe(3);
  });

  it('a sibling (cleanup) client is not stopped by the signal and shares the allowed origins', async () => {
    const stop = new AbortController();
    const http = client([echo.baseUrl], { signal: stop.signal });
    stop.abort();
    const cleanup = http.sibling();
    try {
      expect((await cleanup.send({ method: 'GET', url: `${echo.baseUrl}/ok` })).status).toBe(200);
      await expect(cleanup.send({ method: 'GET', url: `${hanging.baseUrl}/x` })).rejects.toBeInstanceOf(ForeignHostError);
    } finally {
      http.close();
      cleanup.close();
    }
  });

  it('refuses an origin it was not pointed at, before sending anything', async () => {
    const http = client([echo.baseUrl]);
    const before = hanging.requests.length;
    try {
      await expect(http.send({ method: 'GET', url: `${hanging.baseUrl}/x` })).rejects.toThrow(/refusing to send a request to http:\/\/127\.0\.0\.1:\d+: not the target's origin/);
      expect(hanging.requests.length).toBe(before);
    } finally {
      http.close();
    }
  });

  it('records transcripts with every secret as a fingerprint, also where the target echoes it', async () => {
    const redactor = new Redactor();
    const http = new HttpClient({ redactor, allowedOrigins: [echo.baseUrl] });
    const recorded: RecordedExchange[] = [];
    http.sink = { record: (e) => void recorded.push(materialize(e)) };
    const adminKey = 'ek_live_theAdminKeyTheAdminKeyTheAdminKey000001';
    const refresh = 'opaque-refresh-token-without-any-known-shape-123456';
    try {
      await http.send({
        method: 'POST',
        url: `${echo.baseUrl}/token`,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
      });
      const text = JSON.stringify(recorded);
      for (const secret of [adminKey, refresh, 'ek_live_issuedByTheTargetIssuedByTheTarget0001']) {
        expect(text).not.toContain(secret);
        expect(text).toContain(fingerprint(secret));
      }
      expect(recorded[0]!.request.headers.authorization).toBe(`Bearer ${fingerprint(adminKey)}`);
      expect(recorded[0]!.response!.headers['x-echo']).toBe(`Bearer ${fingerprint(adminKey)}`);
      expect(fingerprint(adminKey)).toMatch(new RegExp(`^ek_live_…\\(len=${adminKey.length}, sha256:[0-9a-f]{8}\\)$`));
    } finally {
      http.close();
    }
  });
});
