// A third-party client: `@badgateway/oauth2-client`, used as its README shows — an `OAuth2Client`
// for the token endpoint and an `OAuth2Fetch` wrapper that adds the bearer token to every request,
// refreshes a token that has expired before sending, and on a 401 refreshes (one refresh in
// flight at a time) and retries once. `storeToken` is its "the token changed" hook: it raises
// tokensRefreshed. `getNewToken` returns null: a harness cannot log in again interactively.
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import { observingFetch, outcomeOfError, outcomeOfResponse, protocolAdapter, timeoutSignal, packageVersion } from './glue.mjs';

const version = packageVersion('@badgateway/oauth2-client');

export function createAdapter() {
  return protocolAdapter({
    name: '@badgateway/oauth2-client (OAuth2Fetch)',
    version,
    makeClient(params, notify) {
      const auth = params.auth;
      const token = observingFetch(params.timeoutMs);
      const client = new OAuth2Client({
        server: new URL(auth.tokenEndpoint).origin,
        tokenEndpoint: auth.tokenEndpoint,
        clientId: auth.clientId,
        ...(auth.clientSecret ? { clientSecret: auth.clientSecret } : {}),
        fetch: token.fetch,
      });
      const wrapper = new OAuth2Fetch({
        client,
        getStoredToken: () => ({ accessToken: auth.accessToken, refreshToken: auth.refreshToken, expiresAt: Date.parse(auth.expiresAt) }),
        getNewToken: () => null,
        storeToken: (t) =>
          notify({ accessToken: t.accessToken, refreshToken: t.refreshToken ?? '', expiresAt: new Date(t.expiresAt ?? Date.now()).toISOString() }),
      });
      return {
        async call({ method, url, body }) {
          token.seen.last = undefined;
          try {
            const response = await wrapper.fetch(url, {
              method,
              headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
              signal: timeoutSignal(params.timeoutMs),
            });
            return outcomeOfResponse(response.status, (name) => response.headers.get(name), await response.text());
          } catch (error) {
            return outcomeOfError(error, token.seen.last);
          }
        },
      };
    },
  });
}
