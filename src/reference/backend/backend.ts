/**
 * The reference Ekso auth backend: a real node:http server that conforms to every backend
 * requirement of REQUIREMENTS.md (AK-*, RT-*, DF-*, CM-*, ERR-*) under the `strict` policy, and
 * to `grace=<s>` when configured so.
 *
 * Written from the requirements alone (it never imports the harness's models, engine, targets
 * or checks), so that it is an independent witness. Every decision is a separate `protected`
 * method: a mutant (a deliberately broken variant used to validate the harness) subclasses this
 * class and overrides exactly one of them.
 *
 * One endpoint group per file, each a class extending the one before: core.ts (options, server,
 * routing, responses, bodies, authentication) → api-keys.ts (AK-*) → tokens.ts (families,
 * rotation, device codes, authorization codes) → oauth-endpoints.ts (/token, discovery, device
 * authorization, /authorize, /register) → fields.ts (CM-*) → this file: the test hooks
 * (CONTRACT §4) and the class the rest of the project uses.
 */
import { createHash } from 'node:crypto';
import { isPlainObject, sendJson } from './http-util.js';
import { USERS } from './seed.js';
import type { FieldError, RequestContext, TokenOutcome } from './types.js';
import { randomToken } from './shared.js';
import { FieldEndpoints } from './fields.js';

export class ReferenceBackend extends FieldEndpoints {
  // ---------------------------------------------------------------------------------------------
  // Test hooks (CONTRACT §4). Choice: hook errors use the `/api` body shape {kind, message, fields?}.

  protected readonly hookUsers: readonly string[] = USERS.map((u) => u.id);

  protected async hookToken(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    const fields: FieldError[] = [];
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const marker = value.marker;
    if (marker !== 'Cli' && marker !== 'Web') fields.push({ field: 'marker', code: 'invalid' });
    const user = value.user ?? 'admin';
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    const requested = value.client_id;
    if (requested !== undefined && (typeof requested !== 'string' || !(await this.store.getClient(requested)))) fields.push({ field: 'client_id', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const userId = user as string;
    const clientId = typeof requested === 'string' ? requested : marker === 'Cli' ? 'ekso-cli' : 'ekso-web';
    let outcome: TokenOutcome;
    if (marker === 'Cli') {
      // Through the same code paths as a real device flow: start, approve, redeem.
      const started = await this.startDeviceAuthorization(clientId);
      const decision = await this.store.decideDeviceCode(this.normalizeUserCode(started.userCode), 'approve', userId, this.clock.now());
      if (decision !== 'approved') throw new Error(`device approval failed: ${decision}`);
      outcome = await this.redeemDeviceCode(started.deviceCode, clientId);
    } else {
      // Through the same code paths as a real authorization-code flow with PKCE S256.
      const verifier = randomToken(48);
      const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
      const redirectUri = `${ctx.baseUrl}/__conformance/callback`;
      const code = await this.createAuthorizationCode(clientId, redirectUri, challenge, userId);
      outcome = await this.exchangeAuthorizationCode(code, verifier, clientId, redirectUri);
    }
    if (!outcome.ok) throw new Error(`token hook failed: ${outcome.error}`);
    sendJson(ctx.res, 200, outcome.pair, this.tokenResponseHeaders());
  }

  protected async hookDeviceApprove(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.user_code !== 'string' || value.user_code.trim() === '') fields.push({ field: 'user_code', code: 'required' });
    if (value.decision !== 'approve' && value.decision !== 'deny') fields.push({ field: 'decision', code: 'invalid' });
    const user = value.user ?? 'admin';
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const result = await this.store.decideDeviceCode(
      this.normalizeUserCode(value.user_code as string),
      value.decision as 'approve' | 'deny',
      user as string,
      this.clock.now(),
    );
    if (result === 'approved' || result === 'denied') {
      sendJson(ctx.res, 200, { status: result });
      return;
    }
    const message = result === 'unknown' ? 'No device request has that user code' : result === 'expired' ? 'The device request has expired' : 'The device request was already decided';
    this.sendError(ctx, 422, 'Logic', message);
  }

  protected async hookClock(ctx: RequestContext): Promise<void> {
    if (!this.clockHook) {
      this.sendNotFound(ctx);
      return;
    }
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    const advance = isPlainObject(value) ? value.advanceMs : undefined;
    if (typeof advance !== 'number' || !Number.isFinite(advance) || advance < 0 || advance > 10 * 365 * 86_400_000) {
      this.sendValidation(ctx, [{ field: 'advanceMs', code: 'invalid' }], 'advanceMs must be a non-negative number of milliseconds');
      return;
    }
    this.clock.advance(advance);
    sendJson(ctx.res, 200, { now: new Date(this.clock.now()).toISOString() });
  }

  protected async hookApiKey(ctx: RequestContext): Promise<void> {
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    const user = value.user;
    if (typeof user !== 'string' || !this.hookUsers.includes(user)) fields.push({ field: 'user', code: 'invalid' });
    const name = value.name ?? 'conformance key';
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) fields.push({ field: 'name', code: 'invalid' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const { record, rawKey } = await this.mintApiKey(user as string, (name as string).trim(), null, this.clock.now());
    sendJson(ctx.res, 200, { id: record.id, rawKey });
  }
}
