/** The field endpoints of the reference backend and the client-marker gate (CM-*). */
import { type ListFieldRecord, type ListValue, type Marker } from './store.js';
import { isPlainObject, sendJson } from './http-util.js';
import type { FieldError, FieldOperation, ListFieldUpdate, RequestContext } from './types.js';
import { OAuthEndpoints } from './oauth-endpoints.js';

export abstract class FieldEndpoints extends OAuthEndpoints {
  // ---------------------------------------------------------------------------------------------
  // Fields and the marker gate (CM-*)

  protected listFieldView(field: ListFieldRecord): Record<string, unknown> {
    return {
      id: field.id,
      name: field.name,
      description: field.description,
      isCore: field.isCore,
      multiSelect: field.multiSelect,
      data: field.data.map((v) => ({ id: v.id, name: v.name })),
      defaultValue: field.defaultValue,
    };
  }

  /**
   * CM-01..03, CM-05: metadata updates of core fields are for `Web` only; list values may be
   * updated by every marker.
   */
  protected isMarkerGated(field: ListFieldRecord, marker: Marker, operation: FieldOperation): boolean {
    return operation === 'metadata' && field.isCore && marker !== 'Web';
  }

  /** Merges a validated metadata update into the stored field (isCore and id never change). */
  protected applyFieldUpdate(stored: ListFieldRecord, update: ListFieldUpdate): ListFieldRecord {
    return {
      ...stored,
      name: update.name,
      description: update.description ?? stored.description,
      multiSelect: update.multiSelect ?? stored.multiSelect,
      data: update.data ?? stored.data,
      defaultValue: update.defaultValue !== undefined ? update.defaultValue : update.data ? null : stored.defaultValue,
    };
  }

  protected async handleGetFields(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const fields = await this.store.getFields();
    sendJson(ctx.res, 200, {
      typeList: fields.typeList.map((f) => this.listFieldView(f)),
      typeText: fields.typeText.map((f) => ({ ...f })),
      // Choice: the other documented groups are present and empty, to mirror the collection.
      typeDate: [],
      typeDecimal: [],
      typeInteger: [],
    });
  }

  /** Validates `data` (+ `defaultValue`) of a list field; `fields` collects the errors. */
  protected validateListData(data: unknown, defaultValue: unknown, fields: FieldError[], dataRequired: boolean): { data?: ListValue[]; defaultValue?: string | null } {
    const out: { data?: ListValue[]; defaultValue?: string | null } = {};
    if (data === undefined || data === null) {
      if (dataRequired) fields.push({ field: 'data', code: 'required' });
    } else if (!Array.isArray(data) || data.length > 500) {
      fields.push({ field: 'data', code: 'invalid' });
    } else {
      const values: ListValue[] = [];
      const seen = new Set<string>();
      data.forEach((entry: unknown, index) => {
        if (!isPlainObject(entry) || typeof entry.id !== 'string' || entry.id.trim() === '' || entry.id.length > 100) {
          fields.push({ field: `data[${index}].id`, code: 'invalid' });
          return;
        }
        if (typeof entry.name !== 'string' || entry.name.trim() === '' || entry.name.length > 200) {
          fields.push({ field: `data[${index}].name`, code: 'invalid' });
          return;
        }
        if (seen.has(entry.id)) {
          fields.push({ field: `data[${index}].id`, code: 'duplicate' });
          return;
        }
        seen.add(entry.id);
        values.push({ id: entry.id, name: entry.name });
      });
      out.data = values;
    }
    if (defaultValue !== undefined) {
      // Choice: '' means "no default" as in Ekso's docs; it is normalised to null.
      if (defaultValue === null || defaultValue === '') out.defaultValue = null;
      else if (typeof defaultValue !== 'string') fields.push({ field: 'defaultValue', code: 'invalid' });
      else out.defaultValue = defaultValue;
    }
    return out;
  }

  protected async handleUpdateListField(ctx: RequestContext): Promise<void> {
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
    // Choice: the gate is decided on the *stored* field before the rest of the body is
    // validated: a refused caller changes nothing and learns nothing (CM-06), and a body
    // claiming `isCore: false` cannot open the gate.
    if (this.isMarkerGated(stored, principal.marker, 'metadata')) {
      this.sendError(ctx, 403, 'Permission', 'System fields cannot be changed from the CLI or the SDK');
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.name !== 'string' || value.name.trim() === '') fields.push({ field: 'name', code: 'required' });
    else if (value.name.length > 100) fields.push({ field: 'name', code: 'tooLong' });
    if (value.description !== undefined && value.description !== null && typeof value.description !== 'string') fields.push({ field: 'description', code: 'invalid' });
    if (value.multiSelect !== undefined && typeof value.multiSelect !== 'boolean') fields.push({ field: 'multiSelect', code: 'invalid' });
    // Choice: isCore is owned by the server; sending a different value is refused, not ignored.
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
    sendJson(ctx.res, 200, this.listFieldView(updated));
  }

  protected async handleUpdateListData(ctx: RequestContext): Promise<void> {
    const principal = await this.requirePrincipal(ctx);
    if (!principal) return;
    const body = await this.readJsonBody(ctx);
    if (!body.ok) return;
    const value = body.value;
    if (!isPlainObject(value)) {
      this.sendValidation(ctx, [{ field: 'body', code: 'invalid' }]);
      return;
    }
    const fields: FieldError[] = [];
    if (typeof value.id !== 'string' || value.id === '') fields.push({ field: 'id', code: 'required' });
    const list = this.validateListData(value.data, value.defaultValue, fields, true);
    if (typeof list.defaultValue === 'string' && list.data && !list.data.some((v) => v.id === list.defaultValue)) {
      fields.push({ field: 'defaultValue', code: 'notInData' });
    }
    if (fields.length > 0) {
      this.sendValidation(ctx, fields);
      return;
    }
    const stored = await this.store.getListField(value.id as string);
    if (!stored) {
      this.sendError(ctx, 422, 'Logic', 'No list field has that id');
      return;
    }
    if (this.isMarkerGated(stored, principal.marker, 'data')) {
      this.sendError(ctx, 403, 'Permission', 'This field cannot be changed by this client');
      return;
    }
    // Whole-array replace; everything else is preserved from the stored record.
    const updated: ListFieldRecord = { ...stored, data: list.data ?? [], defaultValue: list.defaultValue ?? null };
    await this.store.putListField(updated);
    sendJson(ctx.res, 200, this.listFieldView(updated));
  }
}
