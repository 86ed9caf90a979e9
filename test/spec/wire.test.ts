/**
 * The zod wire schemas (src/spec/wire.ts): forward compatible (extra fields accepted and kept),
 * strict about what they need (a wrong type or a missing required field is rejected), and
 * `parseWire` names the offending field in its message. One case per schema; a meta-test makes
 * sure a schema added later gets its case too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as wire from '../../src/spec/wire.js';
import { readRequirementsMd } from '../support/requirements-md.js';

const field = { id: 'status', name: 'Status', isCore: true, description: 'Issue status', multiSelect: false, data: [{ id: 1, name: 'Open' }], defaultValue: 1 };

interface Case {
  valid: unknown;
  /** [path, value]: replacing the value at path with this one must be rejected. */
  wrongType: [string[], unknown];
  /** A required field: removing it must be rejected. Absent for schemas whose fields are all optional. */
  missing?: string[];
}

const CASES: Record<string, Case> = {
  MintResponse: {
    valid: { id: 'k1', rawKey: 'ek_live_abc', name: 'bot', expiresAt: null },
    wrongType: [['rawKey'], 42],
    missing: ['rawKey'],
  },
  KeyListEntry: { valid: { id: 7, name: 'bot', prefix: 'ek_live_ab' }, wrongType: [['id'], { nested: true }], missing: ['id'] },
  KeyListing: { valid: [{ id: 'a' }, { id: 2 }], wrongType: [['1', 'id'], false], missing: ['0', 'id'] },
  TokenResponse: {
    valid: { access_token: 'at', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt', scope: 'api' },
    wrongType: [['expires_in'], '300'],
    missing: ['refresh_token'],
  },
  OAuthError: { valid: { error: 'invalid_grant', error_description: 'no' }, wrongType: [['error_description'], 5], missing: ['error'] },
  EksoErrorBody: {
    valid: { kind: 'Validation', message: 'bad', fields: [{ field: 'name', code: 'required' }] },
    wrongType: [['fields', '0', 'code'], 3],
    missing: ['message'],
  },
  DeviceAuthorizationResponse: {
    valid: { device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: 'http://x/device', verification_uri_complete: 'http://x/device?c', expires_in: 600, interval: 5 },
    wrongType: [['interval'], 'five'],
    missing: ['user_code'],
  },
  DiscoveryMetadata: {
    valid: { issuer: 'http://x', token_endpoint: 'http://x/token', grant_types_supported: ['refresh_token'] },
    wrongType: [['token_endpoint'], 17],
  },
  FieldListValue: { valid: { id: 1, name: 'Open' }, wrongType: [['name'], 1], missing: ['id'] },
  Field: { valid: field, wrongType: [['isCore'], 'yes'], missing: ['name'] },
  FieldCollection: { valid: { typeList: [field], typeText: [] }, wrongType: [['typeList', '0', 'id'], null], missing: ['typeList'] },
  UsableTokens: { valid: { access_token: 'at', refresh_token: 'rt' }, wrongType: [['refresh_token'], 7], missing: ['access_token'] },
  ClockHookResponse: { valid: { now: '2030-01-01T00:00:00.000Z' }, wrongType: [['now'], 0], missing: ['now'] },
};

const schemas = Object.entries(wire as Record<string, unknown>).filter((entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType);

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function at(value: unknown, path: string[]): Record<string, unknown> {
  let node = value as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  return node;
}

/** The valid value with an extra field added at the top level (or in the first element). */
function withExtra(value: unknown): unknown {
  const copy = clone(value);
  const target = Array.isArray(copy) ? (copy[0] as Record<string, unknown>) : (copy as Record<string, unknown>);
  target.someFutureField = { added: 'later' };
  return copy;
}

describe('wire schemas', () => {
  it('every schema exported by src/spec/wire.ts has a case here', () => {
    expect(schemas.map(([name]) => name).sort()).toEqual(Object.keys(CASES).sort());
  });

  describe.each(Object.entries(CASES))('%s', (name, c) => {
    const schema = (wire as unknown as Record<string, z.ZodType>)[name]!;

    it('accepts a valid value, and extra fields (kept, for forward compatibility)', () => {
      expect(wire.parseWire(schema, c.valid).ok).toBe(true);
      const parsed = wire.parseWire(schema, withExtra(c.valid));
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        const top = Array.isArray(parsed.value) ? parsed.value[0] : parsed.value;
        expect((top as Record<string, unknown>).someFutureField).toEqual({ added: 'later' });
      }
    });

    it('rejects a wrong type, naming the field', () => {
      const [path, value] = c.wrongType;
      const bad = clone(c.valid);
      at(bad, path)[path[path.length - 1]!] = value;
      const parsed = wire.parseWire(schema, bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain(`\`${path.join('.')}\``);
    });

    it.skipIf(!c.missing)('rejects a missing required field, naming it', () => {
      const path = c.missing!;
      const bad = clone(c.valid);
      delete at(bad, path)[path[path.length - 1]!];
      const parsed = wire.parseWire(schema, bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain(`\`${path.join('.')}\``);
    });

    it('rejects what is not JSON at all (undefined body) without throwing', () => {
      const parsed = wire.parseWire(schema, undefined);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain('(body)');
    });
  });
});

describe('the REQUIREMENTS.md parser used by the catalog test', () => {
  it('reads IDs and levels from requirement tables and the level-less harness table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ekso-md-'));
    try {
      const path = join(dir, 'REQUIREMENTS.md');
      await writeFile(
        path,
        [
          '# Catalog',
          '| ID | Level | Requirement | Source |',
          '|---|---|---|---|',
          '| AK-01 | MUST | Mint a key. | seed |',
          '| RT-11 | SHOULD | `Cache-Control: no-store`. | RFC |',
          'Some prose with | pipes | that is not a table row.',
          '| ID | Requirement |',
          '|---|---|',
          '| H-01 | No secret leaks. |',
        ].join('\n'),
      );
      expect(readRequirementsMd(path)).toEqual([
        { id: 'AK-01', level: 'MUST', statement: 'Mint a key.' },
        { id: 'RT-11', level: 'SHOULD', statement: '`Cache-Control: no-store`.' },
        { id: 'H-01', level: null, statement: 'No secret leaks.' },
      ]);
      expect(readRequirementsMd(join(dir, 'absent.md'))).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('listedKeyIds (the fast read of a key listing, issue 13)', () => {
  const entry = fc.oneof(
    fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean()), name: fc.string() }, { requiredKeys: [] }),
    fc.jsonValue(),
  );
  const listing = fc.oneof(fc.array(entry, { maxLength: 6 }), fc.array(fc.record({ id: fc.string({ minLength: 1 }) }), { maxLength: 6 }), fc.jsonValue());
  it('gives exactly what parsing with KeyListing gives: the same ids, or the same error', () => {
    fc.assert(
      fc.property(listing, (value) => {
        const parsed = wire.parseWire(wire.KeyListing, value);
        expect(wire.listedKeyIds(value)).toEqual(parsed.ok ? { ok: true, value: parsed.value.map((e) => e.id) } : parsed);
      }),
      { numRuns: 500 },
    );
  });
});
