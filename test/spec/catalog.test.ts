/**
 * The catalog in code (src/spec/requirements.ts) and the normative Markdown catalog
 * (../shared/spec/REQUIREMENTS.md) list the same IDs with the same levels. Skipped, with a
 * message, where the Markdown file is not next to the project (e.g. a published package).
 */
import { describe, expect, it } from 'vitest';
import { REQUIREMENTS, GROUP_TITLES } from '../../src/spec/requirements.js';
import { readRequirementsMd, REQUIREMENTS_MD } from '../support/requirements-md.js';

const md = readRequirementsMd();
if (!md) console.warn(`catalog.test: ${REQUIREMENTS_MD} is absent; the comparison with the Markdown catalog is skipped`);

describe('requirement catalog', () => {
  it('has unique IDs, each in a known group, with a level for every Ekso requirement', () => {
    const ids = REQUIREMENTS.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of REQUIREMENTS) {
      expect(Object.keys(GROUP_TITLES)).toContain(r.group);
      expect(r.id.startsWith(`${r.group}-`), r.id).toBe(true);
      expect(r.statement.length, r.id).toBeGreaterThan(10);
      expect(r.source.length, r.id).toBeGreaterThan(0);
      if (r.side === 'harness') expect(r.level, r.id).toBeNull();
      else expect(['MUST', 'SHOULD'], r.id).toContain(r.level);
    }
  });

  it.skipIf(!md)('has exactly the IDs and levels of REQUIREMENTS.md', () => {
    const fromMd = new Map(md!.map((r) => [r.id, r.level]));
    const fromCode = new Map(REQUIREMENTS.map((r) => [r.id, r.level]));
    expect(md!.length, 'REQUIREMENTS.md has no duplicate rows').toBe(fromMd.size);
    expect([...fromCode.keys()].sort()).toEqual([...fromMd.keys()].sort());
    for (const [id, level] of fromMd) expect(fromCode.get(id), id).toBe(level);
  });

  it.skipIf(!md)('keeps the Markdown order within each group (IDs are appended, never renumbered)', () => {
    const order = (ids: string[]) => ids.filter((id) => md!.some((r) => r.id === id));
    expect(order(REQUIREMENTS.map((r) => r.id))).toEqual(md!.map((r) => r.id));
  });
});
