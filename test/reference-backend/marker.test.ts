import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreField, get, hookToken, json, refresh, request, start, type Started } from './helpers.js';

let s: Started;
beforeEach(async () => {
  s = await start();
});
afterEach(async () => {
  await s.close();
});

/** The gated update of CONTRACT §3: the core field with its current values. */
async function gatedUpdate(bearer: string, headers: Record<string, string> = {}, path = '/api/field/list', change: Record<string, unknown> = {}) {
  const field = await coreField(s.baseUrl, s.admin);
  return request(s.baseUrl, path, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${bearer}`, ...headers },
    body: JSON.stringify({ ...field, ...change }),
  });
}

function dataUpdate(field: any) {
  return { id: field.id, data: field.data, defaultValue: field.defaultValue };
}

describe('reference backend: client marker', () => {
  it('GET /api/field has core and custom list fields and a typeText group', async () => {
    const reply = await get(s.baseUrl, '/api/field', s.admin);
    expect(reply.status).toBe(200);
    const lists = reply.json.typeList as any[];
    expect(lists.filter((f) => f.isCore).map((f) => f.name)).toEqual(expect.arrayContaining(['Priority', 'Status']));
    expect(lists.some((f) => !f.isCore)).toBe(true);
    expect(Array.isArray(reply.json.typeText)).toBe(true);
    const priority = lists.find((f) => f.name === 'Priority');
    expect(priority).toEqual({
      id: expect.any(String), name: 'Priority', description: expect.any(String), isCore: true, multiSelect: false,
      data: [{ id: 'low', name: 'Low' }, { id: 'medium', name: 'Medium' }, { id: 'high', name: 'High' }],
      defaultValue: 'medium',
    });
    expect((await get(s.baseUrl, '/api/field')).status).toBe(401);
  });

  it('CM-01: API-key requests are Sdk: the core metadata update gets 403 Permission', async () => {
    for (const key of [s.admin, s.user]) {
      const reply = await gatedUpdate(key);
      expect(reply.status).toBe(403);
      expect(reply.json.kind).toBe('Permission');
    }
  });

  it('CM-02: device-flow tokens are Cli: the same update gets 403 Permission', async () => {
    const cli = await hookToken(s.baseUrl, 'Cli');
    const reply = await gatedUpdate(cli.access_token);
    expect(reply.status).toBe(403);
    expect(reply.json.kind).toBe('Permission');
  });

  it('CM-03: authorization-code tokens are Web: the same update is allowed and returns the field', async () => {
    const web = await hookToken(s.baseUrl, 'Web', 'user');
    const field = await coreField(s.baseUrl, s.admin);
    const reply = await gatedUpdate(web.access_token);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual(field);
  });

  it('CM-04: the marker survives rotation', async () => {
    let cli = await hookToken(s.baseUrl, 'Cli');
    let web = await hookToken(s.baseUrl, 'Web');
    for (let i = 0; i < 3; i++) {
      cli = (await refresh(s.baseUrl, cli.refresh_token, 'ekso-cli')).json;
      web = (await refresh(s.baseUrl, web.refresh_token, 'ekso-web')).json;
      expect((await gatedUpdate(cli.access_token)).status).toBe(403);
      expect((await gatedUpdate(web.access_token)).status).toBe(200);
    }
  });

  it('CM-05: list values can be updated by Web, Cli and Sdk', async () => {
    const cli = (await hookToken(s.baseUrl, 'Cli')).access_token;
    const web = (await hookToken(s.baseUrl, 'Web')).access_token;
    for (const bearer of [cli, web, s.admin, s.user]) {
      const field = await coreField(s.baseUrl, s.admin);
      const reply = await json(s.baseUrl, 'PUT', '/api/field/list/data', dataUpdate(field), bearer);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(field);
    }
    // A real change: add "Critical" from the SDK; name, description, isCore are preserved.
    const field = await coreField(s.baseUrl, s.admin);
    const data = [...field.data, { id: 'critical', name: 'Critical' }];
    const changed = await json(s.baseUrl, 'PUT', '/api/field/list/data', { id: field.id, data, defaultValue: 'critical' }, s.admin);
    expect(changed.status).toBe(200);
    expect(changed.json).toEqual({ ...field, data, defaultValue: 'critical' });
    expect(await coreField(s.baseUrl, s.admin)).toEqual({ ...field, data, defaultValue: 'critical' });
  });

  it('CM-05: list data is validated (defaultValue must be null or one of the ids)', async () => {
    const field = await coreField(s.baseUrl, s.admin);
    const cases: Array<[unknown, string]> = [
      [{ id: field.id, data: field.data, defaultValue: 'nope' }, 'defaultValue'],
      [{ id: field.id, data: field.data, defaultValue: 7 }, 'defaultValue'],
      [{ id: field.id, data: 'x', defaultValue: null }, 'data'],
      [{ id: field.id, defaultValue: null }, 'data'],
      [{ id: field.id, data: [{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }], defaultValue: null }, 'data[1].id'],
      [{ id: field.id, data: [{ name: 'A' }], defaultValue: null }, 'data[0].id'],
      [{ data: field.data, defaultValue: null }, 'id'],
    ];
    for (const [body, name] of cases) {
      const reply = await json(s.baseUrl, 'PUT', '/api/field/list/data', body, s.admin);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.json.kind).toBe('Validation');
      expect(reply.json.fields.map((f: any) => f.field)).toContain(name);
    }
    const unknown = await json(s.baseUrl, 'PUT', '/api/field/list/data', { id: 'fld_nope', data: [], defaultValue: null }, s.admin);
    expect(unknown.status).toBe(422);
    expect(unknown.json.kind).toBe('Logic');
    const cleared = await json(s.baseUrl, 'PUT', '/api/field/list/data', { id: field.id, data: field.data, defaultValue: '' }, s.admin);
    expect(cleared.json.defaultValue).toBeNull();
    expect(await coreField(s.baseUrl, s.admin)).toEqual({ ...field, defaultValue: null });
  });

  it('CM-06: a refused (403) gated update changes nothing', async () => {
    const before = await get(s.baseUrl, '/api/field', s.admin);
    const cli = (await hookToken(s.baseUrl, 'Cli')).access_token;
    for (const bearer of [cli, s.admin]) {
      const reply = await gatedUpdate(bearer, {}, '/api/field/list', { description: 'changed by a script', name: 'Renamed', isCore: false, data: [] });
      expect(reply.status).toBe(403);
    }
    const after = await get(s.baseUrl, '/api/field', s.admin);
    expect(after.json).toEqual(before.json);
  });

  it('CM-07: headers, query parameters and body fields cannot choose the marker', async () => {
    const cli = (await hookToken(s.baseUrl, 'Cli')).access_token;
    const spoofs: Array<Record<string, string>> = [
      { 'X-Ekso-Client': 'Web' },
      { EksoClient: 'Web' },
      { 'X-Client': 'Web', 'User-Agent': 'Mozilla/5.0 (Ekso Web)' },
      { Origin: s.baseUrl, Cookie: 'EksoClient=Web' },
    ];
    for (const bearer of [cli, s.admin]) {
      for (const headers of spoofs) expect((await gatedUpdate(bearer, headers)).status).toBe(403);
      expect((await gatedUpdate(bearer, {}, '/api/field/list?EksoClient=Web')).status).toBe(403);
      expect((await gatedUpdate(bearer, {}, '/api/field/list?client=Web&marker=Web')).status).toBe(403);
      expect((await gatedUpdate(bearer, {}, '/api/field/list', { EksoClient: 'Web', marker: 'Web', client: 'Web' })).status).toBe(403);
    }
  });

  it('custom fields can be updated by every marker; unknown ids are 422, bad bodies 400', async () => {
    const cli = (await hookToken(s.baseUrl, 'Cli')).access_token;
    const custom = ((await get(s.baseUrl, '/api/field', s.admin)).json.typeList as any[]).find((f) => !f.isCore);
    for (const bearer of [cli, s.admin]) {
      const reply = await json(s.baseUrl, 'PUT', '/api/field/list', { ...custom, description: 'edited' }, bearer);
      expect(reply.status).toBe(200);
      expect(reply.json.description).toBe('edited');
    }
    const web = (await hookToken(s.baseUrl, 'Web')).access_token;
    const unknown = await json(s.baseUrl, 'PUT', '/api/field/list', { ...custom, id: 'fld_nope' }, web);
    expect(unknown.status).toBe(422);
    const core = await coreField(s.baseUrl, s.admin);
    const badName = await json(s.baseUrl, 'PUT', '/api/field/list', { ...core, name: '' }, web);
    expect(badName.status).toBe(400);
    expect(badName.json.fields).toEqual([{ field: 'name', code: 'required' }]);
    const flip = await json(s.baseUrl, 'PUT', '/api/field/list', { ...core, isCore: false }, web);
    expect(flip.status).toBe(400);
    expect(flip.json.fields).toEqual([{ field: 'isCore', code: 'readOnly' }]);
    const badDefault = await json(s.baseUrl, 'PUT', '/api/field/list', { ...core, defaultValue: 'zzz' }, web);
    expect(badDefault.json.fields).toEqual([{ field: 'defaultValue', code: 'notInData' }]);
    expect(await coreField(s.baseUrl, s.admin)).toEqual(core);
  });
});
