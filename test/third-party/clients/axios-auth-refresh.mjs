// A third-party client: `axios-auth-refresh` on an axios instance, used as its README shows: a
// request interceptor puts the current access token on every request; `createAuthRefresh(axios,
// refreshAuthLogic)` runs refreshAuthLogic when a request fails with 401, stalls the requests
// made meanwhile, and retries the failed one. refreshAuthLogic is the application's (the README
// leaves it to it): a form-encoded refresh_token grant to the token endpoint, marked
// `skipAuthRefresh`, that stores the new pair (and so raises tokensRefreshed). The library has no
// notion of expiry: it refreshes only after a 401.
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import { outcomeOfError, outcomeOfResponse, protocolAdapter, packageVersion } from './glue.mjs';

const version = packageVersion('axios-auth-refresh');

export function createAdapter() {
  return protocolAdapter({
    name: 'axios-auth-refresh (axios interceptors)',
    version,
    makeClient(params, notify) {
      const auth = params.auth;
      let tokens = { accessToken: auth.accessToken, refreshToken: auth.refreshToken };
      let lastTokenAnswer;
      const api = axios.create(params.timeoutMs ? { timeout: params.timeoutMs } : {});
      api.interceptors.request.use((request) => {
        if (!request.skipAuthRefresh) request.headers.Authorization = `Bearer ${tokens.accessToken}`;
        return request;
      });
      const refreshAuthLogic = async (failedRequest) => {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: auth.clientId });
        if (auth.clientSecret) form.set('client_secret', auth.clientSecret);
        let answer;
        try {
          answer = await api.post(auth.tokenEndpoint, form, { skipAuthRefresh: true });
        } catch (error) {
          lastTokenAnswer = error?.response ? { status: error.response.status } : { transport: String(error?.message) };
          throw error;
        }
        lastTokenAnswer = { status: answer.status };
        const body = answer.data;
        tokens = { accessToken: body.access_token, refreshToken: body.refresh_token ?? tokens.refreshToken };
        notify({ ...tokens, expiresAt: new Date(Date.now() + Number(body.expires_in ?? 0) * 1000).toISOString() });
        failedRequest.response.config.headers.Authorization = `Bearer ${tokens.accessToken}`;
      };
      createAuthRefresh(api, refreshAuthLogic);
      return {
        async call({ method, url, body }) {
          lastTokenAnswer = undefined;
          const text = (data) => (typeof data === 'string' ? data : data === undefined ? '' : JSON.stringify(data));
          try {
            const response = await api.request({ method, url, ...(body === undefined ? {} : { data: body }) });
            return outcomeOfResponse(response.status, (name) => response.headers[name], text(response.data));
          } catch (error) {
            // The refresh itself failed: judged by what the token endpoint answered.
            if (lastTokenAnswer && !(lastTokenAnswer.status >= 200 && lastTokenAnswer.status < 300)) return outcomeOfError(error, lastTokenAnswer);
            if (error?.response) return outcomeOfResponse(error.response.status, (name) => error.response.headers[name], text(error.response.data));
            return outcomeOfError(error, undefined);
          }
        },
      };
    },
  });
}
