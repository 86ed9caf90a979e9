/** `list [--json] [--mutants]`: the requirement catalog with the checks covering each requirement. */
import { BACKEND_CHECKS } from '../../scenarios/backend/index.js';
import { SDK_CHECKS } from '../../scenarios/sdk/index.js';
import { BACKEND_MUTANTS, BACKEND_VARIANTS, SDK_MUTANTS } from '../mutants/index.js';
import { GROUP_TITLES, REQUIREMENTS } from '../spec/requirements.js';
import type { Io } from './main.js';

interface Listed {
  id: string;
  level: string | null;
  side: string;
  statement: string;
  source: string;
  optIn?: string;
  checks: string[];
}

export function catalogWithChecks(): Listed[] {
  const checks = [...BACKEND_CHECKS, ...SDK_CHECKS] as ReadonlyArray<{ id: string; requirements: readonly string[] }>;
  return REQUIREMENTS.map((r) => ({
    id: r.id,
    level: r.level,
    side: r.side,
    statement: r.statement,
    source: r.source,
    ...(r.optIn ? { optIn: r.optIn } : {}),
    checks: r.side === 'harness' ? ['(the project\'s own test suite)'] : checks.filter((c) => c.requirements.includes(r.id)).map((c) => c.id),
  }));
}

export async function runList(options: { json: boolean; mutants: boolean }, io: Io): Promise<number> {
  if (options.mutants) {
    const mutants = [
      ...BACKEND_MUTANTS.map((m) => ({ side: 'backend', name: m.name, breaks: m.breaks, description: m.description, ...(m.modelledOn ? { modelledOn: m.modelledOn } : {}) })),
      ...SDK_MUTANTS.map((m) => ({ side: 'sdk', name: m.name, breaks: m.breaks, description: m.description, ...(m.modelledOn ? { modelledOn: m.modelledOn } : {}) })),
      // Conformant variants break nothing: listed so that `serve --mutant NAME` can start them.
      ...BACKEND_VARIANTS.map((m) => ({ side: 'backend', name: m.name, breaks: m.breaks, description: m.description, variant: true, ...(m.runWith?.policy ? { policy: m.runWith.policy } : {}), ...(m.modelledOn ? { modelledOn: m.modelledOn } : {}) })),
    ];
    if (options.json) io.stdout.write(`${JSON.stringify(mutants, null, 2)}\n`);
    else {
      for (const m of mutants) {
        const breaks = 'variant' in m ? `conformant${'policy' in m ? ` (${m.policy})` : ''}` : `breaks ${m.breaks.join(', ')}`;
        io.stdout.write(`${m.side.padEnd(8)}${m.name.padEnd(34)}${breaks.padEnd(25)}${m.description}\n`);
        if (m.modelledOn) io.stdout.write(`${' '.repeat(42)}modelled on ${m.modelledOn}\n`);
      }
      io.stdout.write(`${mutants.length - BACKEND_VARIANTS.length} mutants and ${BACKEND_VARIANTS.length} conformant variant(s) (serve --mutant NAME, sdk --mutant NAME)\n`);
    }
    return 0;
  }
  const listed = catalogWithChecks();
  if (options.json) {
    io.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
    return 0;
  }
  let group = '';
  for (const r of listed) {
    const g = r.id.replace(/-\d+$/, '');
    if (g !== group) {
      group = g;
      io.stdout.write(`\n${GROUP_TITLES[g as keyof typeof GROUP_TITLES] ?? g}\n`);
    }
    io.stdout.write(`  ${r.id.padEnd(9)}${(r.level ?? '—').padEnd(7)}${r.side.padEnd(8)}${r.statement}\n`);
    io.stdout.write(`  ${' '.repeat(24)}source: ${r.source}${r.optIn ? `; opt-in: ${r.optIn}` : ''}\n`);
    io.stdout.write(`  ${' '.repeat(24)}checks: ${r.checks.length ? r.checks.join(', ') : '(none yet)'}\n`);
  }
  io.stdout.write(`\n${listed.length} requirements\n`);
  return 0;
}
