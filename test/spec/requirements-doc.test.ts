/**
 * docs/requirements.md ships with the package in place of the workspace's REQUIREMENTS.md: it is
 * generated from the catalog in code (`ekso-conformance list --markdown`), and must be current.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { requirementsMarkdown } from '../../src/cli/list-command.js';
import { REQUIREMENTS } from '../../src/spec/requirements.js';

describe('docs/requirements.md', () => {
  it('is what `list --markdown` prints today (regenerate: node dist/cli.js list --markdown > docs/requirements.md)', async () => {
    const shipped = await readFile(new URL('../../docs/requirements.md', import.meta.url), 'utf8');
    expect(shipped).toBe(requirementsMarkdown());
  });

  it('lists every requirement of the catalog once, with its level', () => {
    const text = requirementsMarkdown();
    for (const r of REQUIREMENTS) {
      const rows = text.split('\n').filter((line) => line.startsWith(`| ${r.id} |`));
      expect(rows, r.id).toHaveLength(1);
      if (r.level) expect(rows[0]).toContain(`| ${r.level} |`);
    }
  });
});
