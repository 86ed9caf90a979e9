/**
 * Reads the normative catalog `../shared/spec/REQUIREMENTS.md` (next to the project) when it is
 * present: every table row whose first cell is a requirement ID.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './cli.js';

export const REQUIREMENTS_MD = resolve(ROOT, '..', 'shared', 'spec', 'REQUIREMENTS.md');

export interface MdRequirement {
  id: string;
  /** MUST / SHOULD; null for the harness's own requirements (their tables have no level). */
  level: 'MUST' | 'SHOULD' | null;
  statement: string;
}

export function readRequirementsMd(path = REQUIREMENTS_MD): MdRequirement[] | null {
  if (!existsSync(path)) return null;
  const rows: MdRequirement[] = [];
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const id = cells[0] ?? '';
    if (!/^[A-Z]+-\d+$/.test(id)) continue;
    const level = cells[1] === 'MUST' || cells[1] === 'SHOULD' ? cells[1] : null;
    rows.push({ id, level, statement: (level ? cells[2] : cells[1]) ?? '' });
  }
  return rows;
}
