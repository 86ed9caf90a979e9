/**
 * Mutants of the client marker (CM-*): which caller may change a system field's metadata.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  ReferenceBackend,
  type AccessTokenCheck,
  type AuthResult,
  type Credential,
  type FamilyMarker,
  type FieldError,
  type FieldOperation,
  type ListFieldRecord,
  type ListFieldUpdate,
  type Marker,
  type RequestContext,
  type TokenPair,
} from '../../reference/backend/index.js';
import { isPlainObject, sendJson } from '../../reference/backend/http-util.js';
import type { BackendMutant } from '../registry.js';
import { sha256Hex, subclassMutant } from './support.js';

/** CM-01: requests authenticated by an API key are treated as Web. */
class ApiKeyCallersAreWeb extends ReferenceBackend {
  protected override markerOf(credential: Credential): Marker | null {
    return credential.kind === 'apiKey' ? 'Web' : super.markerOf(credential);
  }
}

/** CM-02: the EksoClient claim is never read: every access token is Web. */
class CliClaimIgnored extends ReferenceBackend {
  protected override markerOf(credential: Credential): Marker | null {
    return credential.kind === 'apiKey' ? 'Sdk' : 'Web';
  }
}

/** CM-03: core fields' metadata is locked for every caller, Web included. */
class CoreFieldsLockedForEveryone extends ReferenceBackend {
  protected override isMarkerGated(field: ListFieldRecord, _marker: Marker, operation: FieldOperation): boolean {
    return operation === 'metadata' && field.isCore;
  }
}

/**
 * CM-04: the Cli marker lives on the refresh-token row a grant creates, and rotation writes the
 * new row without it: once a Cli family has rotated, its access tokens are treated as Web. Two
 * overrides for that one behaviour: where rows get the marker (the grant) and where it is read.
 */
class RotationDropsCliMarker extends ReferenceBackend {
  /** Hashes of the refresh-token rows that carry the Cli marker: only those a grant created. */
  private readonly markedRows = new Set<string>();

  protected override async issueFamily(userId: string, clientId: string, marker: FamilyMarker, now: number, familyId: string = randomUUID()): Promise<TokenPair> {
    const pair = await super.issueFamily(userId, clientId, marker, now, familyId);
    if (marker === 'Cli') this.markedRows.add(sha256Hex(pair.refresh_token));
    return pair;
  }

  protected override async validateAccessToken(token: string, now: number): Promise<AccessTokenCheck> {
    const check = await super.validateAccessToken(token, now);
    if (!check.ok || check.family.marker !== 'Cli' || this.markedRows.has(check.family.currentHash)) return check;
    const { EksoClient: _dropped, ...claims } = check.claims;
    return { ...check, claims };
  }
}

/** CM-05: the gate also refuses list-value updates of core fields to Cli and Sdk callers. */
class ListValuesGated extends ReferenceBackend {
  protected override isMarkerGated(field: ListFieldRecord, marker: Marker, _operation: FieldOperation): boolean {
    return field.isCore && marker !== 'Web';
  }
}

/** CM-06: the metadata update is written first and the gate consulted afterwards (403, but applied). */
class RefusedUpdateStillApplied extends ReferenceBackend {
  protected override async handleUpdateListField(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    if (typeof value.id !== 'string' || value.id === '') {
      this.sendValidation(ctx, [{ field: 'id', code: 'required' }]);
      return;
    }
    const stored = await this.store.getListField(value.id);
    if (!stored) {
      this.sendError(ctx, 422, 'Logic', 'No list field has that id');
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.name !== 'string' || value.name.trim() === '') fields.push({ field: 'name', code: 'required' });
    else if (value.name.length > 100) fields.push({ field: 'name', code: 'tooLong' });
    if (value.description !== undefined && value.description !== null && typeof value.description !== 'string') fields.push({ field: 'description', code: 'invalid' });
    if (value.multiSelect !== undefined && typeof value.multiSelect !== 'boolean') fields.push({ field: 'multiSelect', code: 'invalid' });
    if (value.isCore !== undefined && value.isCore !== stored.isCore) fields.push({ field: 'isCore', code: 'readOnly' });
    const list = this.validateListData(value.data, value.defaultValue, fields, false);
    const effectiveData = list.data ?? stored.data;
    if (typeof list.defaultValue === 'string' && !effectiveData.some((v) => v.id === list.defaultValue)) fields.push({ field: 'defaultValue', code: 'notInData' });
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const update: ListFieldUpdate = { name: (value.name as string).trim() };
    if (typeof value.description === 'string') update.description = value.description;
    else if (value.description === null) update.description = '';
    if (typeof value.multiSelect === 'boolean') update.multiSelect = value.multiSelect;
    if (list.data) update.data = list.data;
    if (list.defaultValue !== undefined) update.defaultValue = list.defaultValue;
    const updated = this.applyFieldUpdate(stored, update);
    await this.store.putListField(updated);
    // The break: the gate is consulted after the write.
    if (this.isMarkerGated(stored, principal.marker, 'metadata')) {
      this.sendError(ctx, 403, 'Permission', 'System fields cannot be changed from the CLI or the SDK');
      return;
    }
    sendJson(ctx.res, 200, this.listFieldView(updated));
  }
}

/** Request headers and query parameters a client might use to declare itself. */
const DECLARATIONS = ['x-ekso-client', 'eksoclient', 'x-client-type', 'client'];

/** CM-07: a client that declares itself Web (header or query parameter) is believed. */
class MarkerFromRequest extends ReferenceBackend {
  protected override async authenticate(req: http.IncomingMessage): Promise<AuthResult> {
    const result = await super.authenticate(req);
    if (!result.ok) return result;
    const url = new URL(req.url ?? '/', 'http://reference.invalid');
    const declared = DECLARATIONS.map((name) => req.headers[name] ?? [...url.searchParams].find(([k]) => k.toLowerCase() === name)?.[1]).find((v) => v !== undefined);
    if (declared === 'Web') return { ok: true, principal: { ...result.principal, marker: 'Web' } };
    return result;
  }
}

export const CLIENT_MARKER_MUTANTS: readonly BackendMutant[] = [
  subclassMutant({ name: 'api-key-callers-are-web', description: 'Requests authenticated by an API key get the Web marker', breaks: ['CM-01'] }, ApiKeyCallersAreWeb),
  subclassMutant({ name: 'cli-claim-ignored', description: 'The EksoClient claim is never read: device-flow tokens act as Web', breaks: ['CM-02'] }, CliClaimIgnored),
  subclassMutant(
    { name: 'core-fields-locked-for-everyone', description: "Core fields' metadata is refused to Web callers too", breaks: ['CM-03'] },
    CoreFieldsLockedForEveryone,
  ),
  subclassMutant(
    {
      name: 'rotation-drops-cli-marker',
      description: 'The Cli marker is not carried over by rotation: a rotated Cli family acts as Web',
      breaks: ['CM-04'],
    },
    RotationDropsCliMarker,
  ),
  subclassMutant({ name: 'list-values-gated', description: 'Updating a core list field\'s values is refused to Cli and Sdk callers', breaks: ['CM-05'] }, ListValuesGated),
  subclassMutant(
    {
      name: 'refused-update-still-applied',
      description: 'A gated metadata update is written before the gate refuses it with 403',
      breaks: ['CM-06'],
      modelledOn: 'check-after-write authorization (CWE-696, incorrect behaviour order)',
    },
    RefusedUpdateStillApplied,
  ),
  subclassMutant(
    {
      name: 'marker-from-request',
      description: 'A caller declaring itself Web (X-Ekso-Client / EksoClient / X-Client-Type header or query parameter) is believed',
      breaks: ['CM-07'],
    },
    MarkerFromRequest,
  ),
];
