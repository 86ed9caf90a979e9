/**
 * Zod schemas of every wire shape the harness reads from a target.
 *
 * Every object schema is `loose`: targets may add fields (forward compatible), but a missing
 * required field or a wrong type is rejected, and `parseWire` names the offending field.
 */
import { z } from 'zod';

/** The client marker stamped on every session (CM-*): a family of OAuth tokens is `Cli` or `Web`; an API key is `Sdk`. */
export type ClientMarker = 'Web' | 'Cli' | 'Sdk';
/** The marker of an OAuth token family. */
export type FamilyMarker = Exclude<ClientMarker, 'Sdk'>;

const nonEmpty = z.string().min(1);

/** POST /api/admin/api-key response (AK-01). */
export const MintResponse = z
  .object({
    id: z.union([nonEmpty, z.number()]).transform(String),
    rawKey: nonEmpty,
    name: z.string().optional(),
    expiresAt: z.string().nullable().optional(),
  })
  .loose();
export type MintResponse = z.infer<typeof MintResponse>;

/** One entry of GET /api/admin/api-key. Field names beyond `id` are not documented by Ekso. */
export const KeyListEntry = z.object({ id: z.union([nonEmpty, z.number()]).transform(String) }).loose();
export const KeyListing = z.array(KeyListEntry);
export type KeyListing = z.infer<typeof KeyListing>;

/** RFC 6749 §5.1 successful token response (RT-01). */
export const TokenResponse = z
  .object({
    access_token: nonEmpty,
    token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', { message: 'must be "Bearer"' }),
    expires_in: z.number().positive(),
    refresh_token: nonEmpty,
    scope: z.string().optional(),
  })
  .loose();
export type TokenResponse = z.infer<typeof TokenResponse>;

/** What of a token response can be used even when its §5.1 shape is off (both tokens present). */
export const UsableTokens = z
  .object({ access_token: nonEmpty, refresh_token: nonEmpty, expires_in: z.unknown().optional() })
  .loose();

/** RFC 6749 §5.2 error response (also RFC 8628 §3.5 codes). */
export const OAuthError = z
  .object({
    error: nonEmpty,
    error_description: z.string().optional(),
    error_uri: z.string().optional(),
  })
  .loose();
export type OAuthError = z.infer<typeof OAuthError>;

export const EKSO_ERROR_KINDS = ['Validation', 'Permission', 'Logic', 'Exception'] as const;
export type EksoErrorKind = (typeof EKSO_ERROR_KINDS)[number];

/** Ekso API error body `{kind, message, fields?}` (ERR-03). */
export const EksoErrorBody = z
  .object({
    kind: z.enum(EKSO_ERROR_KINDS),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), code: z.string() }).loose()).optional().nullable(),
  })
  .loose();
export type EksoErrorBody = z.infer<typeof EksoErrorBody>;

/** RFC 8628 §3.2 device authorization response (DF-01). */
export const DeviceAuthorizationResponse = z
  .object({
    device_code: nonEmpty,
    user_code: nonEmpty,
    verification_uri: nonEmpty,
    verification_uri_complete: z.string().optional(),
    expires_in: z.number().positive(),
    interval: z.number().nonnegative(),
  })
  .loose();
export type DeviceAuthorizationResponse = z.infer<typeof DeviceAuthorizationResponse>;

/** RFC 8414 authorization server metadata, plus the reference backend's test-hook advertisement. */
export const DiscoveryMetadata = z
  .object({
    issuer: z.string().optional(),
    token_endpoint: z.string().optional(),
    authorization_endpoint: z.string().optional(),
    device_authorization_endpoint: z.string().optional(),
    registration_endpoint: z.string().optional(),
    grant_types_supported: z.array(z.string()).optional(),
    code_challenge_methods_supported: z.array(z.string()).optional(),
    ekso_conformance_test_hooks: z.string().optional(),
  })
  .loose();
export type DiscoveryMetadata = z.infer<typeof DiscoveryMetadata>;

/** A list value of a list field. */
export const FieldListValue = z.object({ id: z.union([z.string(), z.number()]), name: z.string().optional() }).loose();

/** One field of GET /api/field. Only what the marker gate needs is required. */
export const Field = z
  .object({
    id: z.union([nonEmpty, z.number()]),
    name: z.string(),
    isCore: z.boolean(),
    description: z.string().nullable().optional(),
    multiSelect: z.boolean().optional(),
    data: z.array(FieldListValue).optional(),
    defaultValue: z.union([z.string(), z.number()]).nullable().optional(),
  })
  .loose();
export type Field = z.infer<typeof Field>;

/**
 * GET /api/field: "the complete collection of core and custom fields". Ekso groups fields by
 * type; the list fields live in `typeList` (CONTRACT §3). Other groups are accepted untouched.
 */
export const FieldCollection = z.object({ typeList: z.array(Field) }).loose();
export type FieldCollection = z.infer<typeof FieldCollection>;

/** Test hook answers (CONTRACT §4). */
export const ClockHookResponse = z.object({ now: z.string() }).loose();

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Human-readable description of a zod error that names each offending field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.map(String).join('.') : '(body)';
      return `field \`${where}\`: ${issue.message}`;
    })
    .join('; ');
}

/** Parses `value` with `schema`, never throwing: a failure names each bad field. */
export function parseWire<S extends z.ZodType>(schema: S, value: unknown): ParseResult<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: describeZodError(result.error) };
}

/**
 * The ids of a key listing (`KeyListing`), read without building its parsed copy: a listing holds
 * every key the target ever minted (revoked ones too, where it keeps them listed), and the checks
 * that read it run hundreds of times in a deep run (issue 13). A well-formed listing is read
 * directly — exactly what `KeyListing` accepts: an array of objects whose `id` is a non-empty
 * string or a number — and anything else goes through the schema, for its error message.
 */
export function listedKeyIds(value: unknown): ParseResult<string[]> {
  if (Array.isArray(value)) {
    const ids: string[] = [];
    for (const entry of value) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) break;
      const id: unknown = (entry as { id?: unknown }).id;
      if (typeof id === 'string' && id.length > 0) ids.push(id);
      else if (typeof id === 'number' && Number.isFinite(id)) ids.push(String(id));
      else break;
    }
    if (ids.length === value.length) return { ok: true, value: ids };
  }
  const parsed = parseWire(KeyListing, value);
  return parsed.ok ? { ok: true, value: parsed.value.map((entry) => entry.id) } : parsed;
}
