/**
 * Mutants of authentication enforcement and error shapes (ERR-*).
 */
import type { ServerResponse } from 'node:http';
import { ReferenceBackend, type ErrorKind, type FieldError, type ReferenceBackendOptions, type Rejection, type RequestContext } from '../../reference/backend/index.js';
import { sendJson } from '../../reference/backend/http-util.js';
import type { JwtVerifyResult } from '../../reference/backend/jwt.js';
import type { BackendMutant } from '../registry.js';
import { subclassMutant } from './support.js';

/**
 * ERR-01: the access token is decoded, not verified: any algorithm (`none` included) and any
 * signature is accepted as long as the payload parses.
 */
class JwtSignatureNotVerified extends ReferenceBackend {
  protected override verifyAccessTokenSignature(token: string): JwtVerifyResult {
    const payload = token.split('.')[1];
    if (token.split('.').length !== 3 || payload === undefined) return { ok: false, reason: 'not a JWT' };
    try {
      const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ok: true, payload: value as Record<string, unknown> } : { ok: false, reason: 'payload' };
    } catch {
      return { ok: false, reason: 'payload' };
    }
  }
}

/** ERR-02: 401 responses carry no WWW-Authenticate challenge. */
class UnauthorizedWithoutChallenge extends ReferenceBackend {
  protected override unauthorized(res: ServerResponse, presented: boolean, why: Rejection): void {
    sendJson(res, 401, { message: presented ? `The access token is ${why}` : 'Authentication required' });
  }
}

/** ERR-03: 422 Logic errors come back as RFC 7807 problem details instead of {kind, message}. */
class LogicErrorAsProblemDetails extends ReferenceBackend {
  protected override errorBody(kind: ErrorKind, message: string, fields?: FieldError[]): Record<string, unknown> {
    if (kind !== 'Logic') return super.errorBody(kind, message, fields);
    return { type: 'https://tools.ietf.org/html/rfc4918#section-11.2', title: 'Unprocessable Entity', status: 422, detail: message };
  }
}

/**
 * ERR-04: the documented 50 requests/s limit, answered with 429 but without Retry-After.
 * Choice: the mutant turns the limiter on itself (the embedded reference runs without one), so a
 * run against it should select the rate-limit check only: every other check would be throttled.
 */
class RateLimitWithoutRetryAfter extends ReferenceBackend {
  constructor(options: ReferenceBackendOptions = {}) {
    super({ ...options, rateLimitPerSecond: options.rateLimitPerSecond || 50 });
  }

  protected override tooManyRequests(ctx: RequestContext, _retryAfterSeconds: number): void {
    if (ctx.area === 'oauth') sendJson(ctx.res, 429, { error: 'rate_limited', error_description: 'Too many requests' });
    else sendJson(ctx.res, 429, { message: 'Too many requests' });
  }
}

export const ERROR_MUTANTS: readonly BackendMutant[] = [
  subclassMutant(
    {
      name: 'jwt-signature-not-verified',
      description: 'Access tokens are decoded without verifying the signature: alg none and foreign keys are accepted',
      breaks: ['ERR-01'],
      modelledOn: 'JWT decode() used instead of verify(); alg "none" acceptance (CVE-2015-9235)',
    },
    JwtSignatureNotVerified,
  ),
  subclassMutant({ name: 'unauthorized-without-challenge', description: '401 responses carry no WWW-Authenticate header', breaks: ['ERR-02'] }, UnauthorizedWithoutChallenge),
  subclassMutant(
    {
      name: 'logic-error-problem-details',
      description: '422 errors use RFC 7807 problem details instead of {kind: "Logic", message}',
      breaks: ['ERR-03'],
      modelledOn: "ASP.NET Core's default ProblemDetails bodies leaking past an API's own error shape",
    },
    LogicErrorAsProblemDetails,
  ),
  {
    ...subclassMutant(
      {
        name: 'rate-limit-without-retry-after',
        description: 'Rate-limited at 50 requests/s, but 429 answers carry no Retry-After (run it with --check-rate-limit --check ERR-04)',
        breaks: ['ERR-04'],
      },
      RateLimitWithoutRetryAfter,
    ),
    runWith: { checkRateLimit: true },
  },
];
