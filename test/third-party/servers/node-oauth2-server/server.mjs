#!/usr/bin/env node
// A third-party target: `@node-oauth/oauth2-server` (the maintained fork of oauthjs'
// oauth2-server), with the in-memory model its model specification describes, behind a plain
// node:http server on a free loopback port. Its defaults are kept: confidential clients
// authenticate at the token endpoint, `alwaysIssueNewRefreshToken` (rotation), access tokens for
// 1 h, refresh tokens for 2 weeks; `/me` is a resource protected by `authenticate()`.
//
// Prints `EKSO_BASE_URL=<base>` and runs until SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import OAuth2Server from '@node-oauth/oauth2-server';

const { Request, Response } = OAuth2Server;

// Choice: two confidential clients with the same secret, so that the profile's one
// `clientSecret` authenticates the second client too (RT-08 presents a token with it).
const SECRET = 'conformance-secret';
const clients = new Map(
  ['ekso-cli', 'ekso-web'].map((id) => [id, { id, clientSecret: SECRET, grants: ['password', 'refresh_token'], redirectUris: [] }]),
);
// Any user name logs in with the password "conformance" (a test user database).
const PASSWORD = 'conformance';

// The in-memory model, written from the model specification: tokens stored by value; a refresh
// token is revoked by deleting it (revokeToken answers whether it was there).
const accessTokens = new Map();
const refreshTokens = new Map();
const model = {
  async getClient(clientId, clientSecret) {
    const client = clients.get(clientId);
    if (!client || (clientSecret !== null && clientSecret !== undefined && clientSecret !== client.clientSecret)) return false;
    return client;
  },
  async getUser(username, password) {
    return password === PASSWORD ? { id: username } : false;
  },
  async saveToken(token, client, user) {
    const saved = { ...token, client, user };
    accessTokens.set(token.accessToken, saved);
    if (token.refreshToken) refreshTokens.set(token.refreshToken, saved);
    return saved;
  },
  async getAccessToken(accessToken) {
    return accessTokens.get(accessToken) ?? false;
  },
  async getRefreshToken(refreshToken) {
    return refreshTokens.get(refreshToken) ?? false;
  },
  async revokeToken(token) {
    return refreshTokens.delete(token.refreshToken);
  },
  async verifyScope() {
    return true;
  },
};

const oauth = new OAuth2Server({ model });

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res, response) {
  res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
  res.end(response.body === undefined ? '' : JSON.stringify(response.body));
}

function sendError(res, response, error) {
  const status = Number.isInteger(error.code) ? error.code : 500;
  res.writeHead(status, { 'content-type': 'application/json', ...response.headers });
  res.end(JSON.stringify({ error: error.name ?? 'server_error', error_description: error.message }));
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    const text = await readBody(req);
    const body = /application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '') ? Object.fromEntries(new URLSearchParams(text)) : {};
    const request = new Request({ method: req.method, headers: req.headers, query: Object.fromEntries(url.searchParams), body });
    const response = new Response(res);
    if (url.pathname === '/token' && req.method === 'POST') {
      try {
        await oauth.token(request, response);
        send(res, response);
      } catch (error) {
        sendError(res, response, error);
      }
    } else if (url.pathname === '/me') {
      try {
        const token = await oauth.authenticate(request, response);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sub: token.user.id, client_id: token.client.id }));
      } catch (error) {
        sendError(res, response, error);
      }
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found' }));
    }
  } catch {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`EKSO_BASE_URL=http://127.0.0.1:${server.address().port}\n`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
