#!/usr/bin/env node
// A third-party target: SST's OpenAuth issuer (npm `@openauthjs/openauth`), in memory, served by
// `@hono/node-server` on a free loopback port. Its defaults are kept: access tokens for 30 days,
// refresh tokens for a year, and a refresh-token reuse window of 60 s (`ttl.reuse`, during which
// a retried refresh token gets the successor it already produced) with no retention after it
// (`ttl.retention` 0). What a deployment must supply is supplied: the in-memory storage, one
// login provider (the one-time-code provider with its stock UI) and a subject schema.
//
// The code provider "sends" each code to the mailbox directory EKSO_OPENAUTH_MAILBOX (default
// a fresh temp dir, printed as EKSO_OPENAUTH_MAILBOX=…), one file per address — the test
// double of an e-mail service — where the token command reads it.
//
// OpenAuth is an issuer only: resource servers verify its JWTs with its client library. `/me`
// is such a resource, as its README shows (`client.verify(subjects, token)`).
//
// Prints `EKSO_BASE_URL=<base>` and runs until SIGTERM/SIGINT.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { issuer } from '@openauthjs/openauth';
import { createClient } from '@openauthjs/openauth/client';
import { CodeProvider } from '@openauthjs/openauth/provider/code';
import { MemoryStorage } from '@openauthjs/openauth/storage/memory';
import { createSubjects } from '@openauthjs/openauth/subject';
import { CodeUI } from '@openauthjs/openauth/ui/code';
import { z } from 'zod';

const mailbox = process.env.EKSO_OPENAUTH_MAILBOX ?? mkdtempSync(join(tmpdir(), 'openauth-mailbox-'));
const subjects = createSubjects({ user: z.object({ id: z.string() }) });

const auth = issuer({
  subjects,
  storage: MemoryStorage(),
  providers: {
    code: CodeProvider(
      CodeUI({
        sendCode: async (claims, code) => {
          writeFileSync(join(mailbox, encodeURIComponent(claims.email ?? 'unknown')), code, { mode: 0o600 });
        },
      }),
    ),
  },
  success: async (ctx, value) => ctx.subject('user', { id: value.claims.email }),
});

let base = '';
const app = new Hono();
app.get('/me', async (c) => {
  const header = c.req.header('authorization') ?? '';
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (!token) return c.json({ error: 'invalid_request' }, 401, { 'www-authenticate': 'Bearer' });
  const verified = await createClient({ clientID: 'resource', issuer: base }).verify(subjects, token);
  if (verified.err) return c.json({ error: 'invalid_token' }, 401, { 'www-authenticate': 'Bearer error="invalid_token"' });
  return c.json({ sub: verified.subject.properties.id });
});
app.route('/', auth);

// The issuer logs every request to stdout (hono's logger): keep stdout to the lines callers read.
const write = process.stdout.write.bind(process.stdout);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  base = `http://127.0.0.1:${info.port}`;
  write(`EKSO_BASE_URL=${base}\nEKSO_OPENAUTH_MAILBOX=${mailbox}\n`);
  console.log = () => {};
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
