/**
 * The profile: wire details of a backend (CONTRACT §3). Ekso's documented defaults, overridden by
 * a JSON file (`--profile FILE`). Unknown keys are rejected — a typo silently ignored would make
 * the harness test something else than the user meant — and every bad key is named.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const path = z.string().min(1).refine((p) => p.startsWith('/') || /^https?:\/\//.test(p), {
  message: 'must be a path starting with "/" or an absolute http(s) URL',
});

export const ProfileSchema = z
  .object({
    discoveryPath: path.optional(),
    tokenEndpoint: path.optional(),
    deviceAuthorizationEndpoint: path.optional(),
    apiKeyPath: path.optional(),
    revoke: z.enum(['post-revoke', 'delete']).optional(),
    probe: z.object({ method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']), path }).strict().optional(),
    fieldsPath: path.optional(),
    fieldUpdatePath: path.optional(),
    fieldDataPath: path.optional(),
    refreshIdleWindowSeconds: z.number().int().positive().optional(),
    scope: z.string().optional(),
    clientSecret: z.string().optional(),
    testClock: path.optional(),
    // Additions (CONTRACT: add, never rename):
    /** A second registered client id, for RT-08 (refresh token bound to its client). */
    otherClientId: z.string().min(1).optional(),
    /** Prefix of CONTRACT §4 test hooks, when the target has them but does not advertise them. */
    testHooks: path.optional(),
  })
  .strict();
export type Profile = z.infer<typeof ProfileSchema>;

export const DEFAULT_PROFILE = {
  discoveryPath: '/.well-known/oauth-authorization-server',
  discoveryFallbackPath: '/.well-known/openid-configuration',
  tokenEndpoint: '/token',
  apiKeyPath: '/api/admin/api-key',
  revoke: 'post-revoke' as const,
  probe: { method: 'GET' as const, path: '/api/field' },
  fieldsPath: '/api/field',
  fieldUpdatePath: '/api/field/list',
  fieldDataPath: '/api/field/list/data',
  refreshIdleWindowSeconds: 604_800,
  otherClientId: 'ekso-web',
};

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** Validates a parsed profile; the error names every bad key. */
export function validateProfile(value: unknown, source = 'profile'): Profile {
  const result = ProfileSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${[...issue.path.map(String), k].join('.')}: unknown key`).join('; ');
    const key = issue.path.map(String).join('.') || '(root)';
    return `${key}: ${issue.message}`;
  });
  throw new ProfileError(`invalid ${source}: ${problems.join('; ')}`);
}

export async function loadProfile(file: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ProfileError(`cannot read profile ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error ("Unexpected token 's', "{"clientSecret": s3cr…" is not
    // valid JSON"): a profile holds a client secret, so the quote is left out (issue 11 point 5).
    const reason = (error as Error).message.replace(/,?\s*(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)?\s*is not valid JSON/, ' (the text is not quoted: it may hold a secret)');
    throw new ProfileError(`profile ${file} is not valid JSON: ${reason}`);
  }
  return validateProfile(parsed, `profile ${file}`);
}
