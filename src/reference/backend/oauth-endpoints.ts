/** The OAuth endpoints of the reference backend: discovery, /token, device authorization, /authorize, /register. */
import http from 'node:http';
import { escapeHtml, isPlainObject, mediaType, parseJson, readBody, sendEmpty, sendHtml, sendJson } from './http-util.js';
import { USERS } from './seed.js';
import type { RequestContext, TokenOutcome } from './types.js';
import { DEVICE_GRANT, PKCE_CHALLENGE_RE, randomToken } from './shared.js';
import { TokenIssuer } from './tokens.js';

export abstract class OAuthEndpoints extends TokenIssuer {
  // ---------------------------------------------------------------------------------------------
  // OAuth endpoints

  protected async handleDiscovery(ctx: RequestContext): Promise<void> {
    const base = ctx.baseUrl;
    const metadata: Record<string, unknown> = {
      // Choice: the RFC 8414 issuer is the base URL (it must be an https/http URL), while the
      // JWT `iss` claim stays the install-wide constant `Ekso` documented by Ekso.
      issuer: base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      device_authorization_endpoint: `${base}/device_authorization`,
      registration_endpoint: `${base}/register`,
      grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    };
    if (this.testHooks && this.advertiseTestHooks) metadata.ekso_conformance_test_hooks = '/__conformance';
    sendJson(ctx.res, 200, metadata);
  }

  /**
   * Resolves the client of a token or device-authorization request. Choice: `client_id` is
   * required (public clients identify themselves, RFC 6749 §3.2.1); missing → 400
   * invalid_request, unknown → 401 invalid_client.
   */
  protected async resolveClient(ctx: RequestContext, params: Map<string, string>): Promise<string | null> {
    const clientId = params.get('client_id');
    if (!clientId) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'client_id is required');
      return null;
    }
    if (!(await this.store.getClient(clientId))) {
      this.sendOAuthError(ctx, 401, 'invalid_client', 'unknown client');
      return null;
    }
    return clientId;
  }

  protected sendTokenOutcome(ctx: RequestContext, outcome: TokenOutcome): void {
    if (outcome.ok) sendJson(ctx.res, 200, outcome.pair, this.tokenResponseHeaders());
    else this.sendOAuthError(ctx, outcome.status, outcome.error, outcome.description);
  }

  protected async handleToken(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const params = form.params;
    const grantType = params.get('grant_type');
    if (!grantType) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'grant_type is required');
      return;
    }
    if (grantType !== 'refresh_token' && grantType !== DEVICE_GRANT && grantType !== 'authorization_code') {
      this.sendOAuthError(ctx, 400, 'unsupported_grant_type', 'grant type not supported');
      return;
    }
    const clientId = await this.resolveClient(ctx, params);
    if (!clientId) return;

    if (grantType === 'refresh_token') {
      const refreshToken = params.get('refresh_token');
      if (!refreshToken) {
        this.sendOAuthError(ctx, 400, 'invalid_request', 'refresh_token is required');
        return;
      }
      this.sendTokenOutcome(ctx, await this.rotateRefreshToken(refreshToken, clientId));
    } else if (grantType === DEVICE_GRANT) {
      const deviceCode = params.get('device_code');
      if (!deviceCode) {
        this.sendOAuthError(ctx, 400, 'invalid_request', 'device_code is required');
        return;
      }
      this.sendTokenOutcome(ctx, await this.redeemDeviceCode(deviceCode, clientId));
    } else {
      const code = params.get('code');
      const verifier = params.get('code_verifier');
      const redirectUri = params.get('redirect_uri');
      if (!code || !verifier || !redirectUri) {
        const missing = !code ? 'code' : !verifier ? 'code_verifier' : 'redirect_uri';
        this.sendOAuthError(ctx, 400, 'invalid_request', `${missing} is required`);
        return;
      }
      this.sendTokenOutcome(ctx, await this.exchangeAuthorizationCode(code, verifier, clientId, redirectUri));
    }
  }

  protected async handleDeviceAuthorization(ctx: RequestContext): Promise<void> {
    const form = await this.readFormBody(ctx);
    if (!form.ok) return;
    const clientId = await this.resolveClient(ctx, form.params);
    if (!clientId) return;
    const started = await this.startDeviceAuthorization(clientId);
    const verificationUri = `${ctx.baseUrl}/auth/device`;
    sendJson(ctx.res, 200, {
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(started.userCode)}`,
      expires_in: started.expiresIn,
      interval: started.interval,
    });
  }

  /** The verification page a person would open; approval itself goes through the test hook. */
  protected async handleDevicePage(ctx: RequestContext): Promise<void> {
    const code = ctx.url.searchParams.get('user_code') ?? '';
    const shown = escapeHtml(code.slice(0, 32));
    sendHtml(
      ctx.res,
      200,
      `<!doctype html><html><head><meta charset="utf-8"><title>Ekso device sign-in</title></head><body>` +
        `<h1>Sign in a device</h1><p>Enter the code shown on your device.</p>` +
        `<form method="get" action="/auth/device"><input name="user_code" value="${shown}" autocomplete="off">` +
        `<button type="submit">Continue</button></form>` +
        `<p>This is the Ekso reference backend: it has no login page. Requests are approved or denied ` +
        `through <code>POST /__conformance/device/approve</code> when test hooks are enabled.</p></body></html>`,
    );
  }

  /** Checks a redirect URI against the client (exact match when it registered some). */
  protected isRedirectUriAllowed(client: { redirectUris: string[] }, redirectUri: string): boolean {
    if (client.redirectUris.length > 0) return client.redirectUris.includes(redirectUri);
    // Choice: the built-in public clients have no registered redirect URIs; any absolute
    // http(s) URI without a fragment is accepted, and the code is bound to it (RFC 6749 §4.1.3).
    try {
      const url = new URL(redirectUri);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && redirectUri.length <= 2000;
    } catch {
      return false;
    }
  }

  /** `GET /authorize`: response_type=code with PKCE S256 only; answers 302 to redirect_uri. */
  protected async handleAuthorize(ctx: RequestContext): Promise<void> {
    const query = ctx.url.searchParams;
    const single = (name: string): string | undefined => {
      const values = query.getAll(name);
      return values.length === 1 ? values[0] : values.length === 0 ? undefined : '\u0000duplicate';
    };
    const clientId = single('client_id');
    const redirectUri = single('redirect_uri');
    // RFC 6749 §4.1.2.1: without a trustworthy client and redirect URI, never redirect.
    if (!clientId || clientId.includes('\u0000')) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'client_id is required once');
      return;
    }
    const client = await this.store.getClient(clientId);
    if (!client) {
      this.sendOAuthError(ctx, 401, 'invalid_client', 'unknown client');
      return;
    }
    if (!redirectUri || redirectUri.includes('\u0000') || !this.isRedirectUriAllowed(client, redirectUri)) {
      this.sendOAuthError(ctx, 400, 'invalid_request', 'redirect_uri missing or not allowed for this client');
      return;
    }
    const state = single('state');
    const redirect = (params: Record<string, string>): void => {
      const target = new URL(redirectUri);
      for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
      if (state !== undefined && !state.includes('\u0000')) target.searchParams.set('state', state);
      sendEmpty(ctx.res, 302, { Location: target.toString() });
    };
    const responseType = single('response_type');
    if (responseType !== 'code') {
      redirect({ error: responseType ? 'unsupported_response_type' : 'invalid_request', error_description: 'response_type must be code' });
      return;
    }
    const challenge = single('code_challenge');
    const method = single('code_challenge_method');
    // PKCE is mandatory and S256 only: `plain` or a missing method/challenge is refused.
    if (method !== 'S256' || !challenge || !PKCE_CHALLENGE_RE.test(challenge)) {
      redirect({ error: 'invalid_request', error_description: 'PKCE with code_challenge_method=S256 is required' });
      return;
    }
    // The reference has no login page: with test hooks on, `login_hint` names the signed-in
    // user; otherwise nobody can be signed in.
    const hint = single('login_hint');
    const user = this.testHooks ? USERS.find((u) => u.id === hint) : undefined;
    if (!user) {
      redirect({ error: 'login_required', error_description: 'no signed-in user' });
      return;
    }
    const code = await this.createAuthorizationCode(clientId, redirectUri, challenge, user.id);
    redirect({ code });
  }

  /** RFC 7591 dynamic registration of public clients (the endpoint discovery advertises). */
  protected async handleRegister(ctx: RequestContext): Promise<void> {
    const type = mediaType(ctx.req);
    if (type !== 'application/json') {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'expected an application/json body');
      return;
    }
    const body = await readBody(ctx.req);
    if (!body.ok) {
      if (body.reason === 'too-large') this.payloadTooLarge(ctx);
      else ctx.res.destroy();
      return;
    }
    const parsed = parseJson(body.bytes);
    if (!parsed.ok || !isPlainObject(parsed.value)) {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'the body must be a JSON object');
      return;
    }
    const meta = parsed.value;
    const uris = meta.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10 || !uris.every((u) => typeof u === 'string' && this.isRedirectUriAllowed({ redirectUris: [] }, u))) {
      this.sendOAuthError(ctx, 400, 'invalid_redirect_uri', 'redirect_uris must list 1 to 10 absolute http(s) URIs');
      return;
    }
    const authMethod = meta.token_endpoint_auth_method;
    if (authMethod !== undefined && authMethod !== 'none') {
      this.sendOAuthError(ctx, 400, 'invalid_client_metadata', 'only public clients (token_endpoint_auth_method "none") are supported');
      return;
    }
    const name = typeof meta.client_name === 'string' ? meta.client_name.slice(0, 200) : 'dynamic client';
    const now = this.clock.now();
    const clientId = `dyn_${randomToken(12)}`;
    await this.store.insertClient({ id: clientId, name, redirectUris: uris as string[], dynamic: true, createdAt: now });
    sendJson(ctx.res, 201, {
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      client_name: name,
      redirect_uris: uris,
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  }
}
