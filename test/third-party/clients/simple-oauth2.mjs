// A third-party client: `simple-oauth2`, used as its README shows for refreshing: keep the
// AccessToken object, and before using it `if (accessToken.expired()) accessToken = await
// accessToken.refresh()` (default expiration window 0, default client authentication: HTTP Basic
// header). simple-oauth2 only talks to the token endpoint; API requests are the application's,
// here Node's fetch with `Authorization: Bearer <access_token>`. Each successful refresh is
// reported as tokensRefreshed, as an application persisting its token would.
import { AuthorizationCode } from 'simple-oauth2';
import { outcomeOfError, outcomeOfResponse, protocolAdapter, timeoutSignal, packageVersion } from './glue.mjs';

const version = packageVersion('simple-oauth2');

export function createAdapter() {
  return protocolAdapter({
    name: 'simple-oauth2 (AccessToken.expired / refresh)',
    version,
    makeClient(params, notify) {
      const auth = params.auth;
      const endpoint = new URL(auth.tokenEndpoint);
      const oauth = new AuthorizationCode({
        client: { id: auth.clientId, secret: auth.clientSecret ?? '' },
        auth: { tokenHost: endpoint.origin, tokenPath: endpoint.pathname },
      });
      let accessToken = oauth.createToken({
        access_token: auth.accessToken,
        refresh_token: auth.refreshToken,
        token_type: 'Bearer',
        expires_at: auth.expiresAt,
      });
      const httpOptions = params.timeoutMs ? { timeout: params.timeoutMs } : {};
      return {
        async call({ method, url, body }) {
          try {
            if (accessToken.expired()) {
              accessToken = await accessToken.refresh({}, httpOptions);
              const t = accessToken.token;
              notify({ accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: new Date(t.expires_at).toISOString() });
            }
          } catch (error) {
            // simple-oauth2 (through @hapi/wreck) rejects with a Boom error; one made of the token
            // endpoint's answer is marked isResponseError and carries its status.
            return outcomeOfError(error, error?.data?.isResponseError ? { status: error.output.statusCode } : undefined);
          }
          try {
            const response = await fetch(url, {
              method,
              headers: {
                accept: 'application/json',
                authorization: `Bearer ${accessToken.token.access_token}`,
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
              signal: timeoutSignal(params.timeoutMs),
            });
            return outcomeOfResponse(response.status, (name) => response.headers.get(name), await response.text());
          } catch (error) {
            return outcomeOfError(error, undefined);
          }
        },
      };
    },
  });
}
