#!/usr/bin/env node
// A third-party target: panva's certified OpenID provider (npm `oidc-provider`), in memory, on a
// free loopback port. Its defaults are kept (in-memory adapter, opaque tokens, development
// interactions for login and consent, refresh-token rotation for public clients, replay
// detection revoking the grant); only what any deployment must say is configured: the clients,
// and the device flow, which is off by default.
//
// Prints `EKSO_BASE_URL=<issuer>` and runs until SIGTERM/SIGINT.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

// Choice: two public clients, as a user testing this provider would register them: the harness's
// `ekso-cli` (device flow) and a second one for RT-08 (named in the profile as otherClientId).
const client = (client_id) => ({
  client_id,
  token_endpoint_auth_method: 'none',
  grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token', 'authorization_code'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback'],
  application_type: 'native',
});

// The provider's development interactions and its "change this" notices go to stderr; keep the
// output to the lines a caller reads.
const quiet = console.warn;
console.warn = (...args) => (process.env.EKSO_THIRD_PARTY_VERBOSE ? quiet(...args) : undefined);
console.info = console.warn;

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [client('ekso-cli'), client('ekso-web')],
  features: { deviceFlow: { enabled: true } },
});
// Requests come over plain http on loopback; the provider must not demand TLS of them.
provider.proxy = false;
server.on('request', provider.callback());
process.stdout.write(`EKSO_BASE_URL=${issuer}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
