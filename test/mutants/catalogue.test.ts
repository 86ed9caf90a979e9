/**
 * The backend mutant catalogue itself: every backend MUST requirement has a mutant that breaks it
 * alone; names, descriptions and requirement ids are well-formed; the CLI-facing lookup finds them.
 */
import { describe, expect, it } from 'vitest';
import { BACKEND_MUTANTS, backendMutant } from '../../src/mutants/index.js';
import { REQUIREMENTS } from '../../src/spec/requirements.js';
import { mutantScope } from '../support/mutants.js';

const backendRequirements = REQUIREMENTS.filter((r) => r.side === 'backend');

describe('backend mutant catalogue', () => {
  it('has a mutant breaking exactly that one requirement for every backend MUST requirement', () => {
    const alone = new Set(BACKEND_MUTANTS.filter((m) => m.breaks.length === 1).map((m) => m.breaks[0]));
    const missing = backendRequirements.filter((r) => r.level === 'MUST' && !alone.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
  });

  it('covers every backend SHOULD requirement too', () => {
    const broken = new Set(BACKEND_MUTANTS.flatMap((m) => m.breaks));
    expect(backendRequirements.filter((r) => r.level === 'SHOULD' && !broken.has(r.id)).map((r) => r.id)).toEqual([]);
  });

  it('names are unique kebab-case; descriptions are one line; breaks name backend requirements', () => {
    const names = BACKEND_MUTANTS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const ids = new Set(backendRequirements.map((r) => r.id));
    for (const m of BACKEND_MUTANTS) {
      expect(m.name, m.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(m.description.trim(), m.name).not.toBe('');
      expect(m.description, m.name).not.toContain('\n');
      expect(m.breaks.length, m.name).toBeGreaterThan(0);
      for (const id of m.breaks) expect(ids.has(id), `${m.name}: ${id}`).toBe(true);
      expect(backendMutant(m.name)).toBe(m);
    }
  });

  it('runWith options are valid (a policy the harness parses; the rate-limit mutant runs its own check only)', () => {
    for (const m of BACKEND_MUTANTS) {
      const { scope } = mutantScope(m, 'full');
      expect(scope, m.name).toBe(m.runWith?.checkRateLimit ? 'breaks' : 'full');
    }
  });

  it('includes the mutants modelled on the real-world bugs of the research anchors', () => {
    const byName = (name: string) => BACKEND_MUTANTS.find((m) => m.name === name);
    expect(byName('race-refresh-check-then-act')).toMatchObject({ breaks: ['RT-07'], modelledOn: expect.stringContaining('GHSA-m2w5-7xhv-w6fh') });
    expect(byName('grace-accepts-older-generations')).toMatchObject({ breaks: ['RT-03'], runWith: { policy: 'grace=30' }, modelledOn: expect.stringContaining('#1617') });
    expect(byName('refresh-stops-rotating')).toMatchObject({ breaks: ['RT-01'] });
  });

  it('every mutant starts and serves (its constructor and listen work)', async () => {
    for (const m of BACKEND_MUTANTS) {
      const backend = m.create({ testHooks: true });
      const { baseUrl } = await backend.listen(0);
      try {
        const response = await fetch(`${baseUrl}/.well-known/oauth-authorization-server`);
        expect(response.status, m.name).toBe(200);
      } finally {
        await backend.close();
      }
    }
  });
});
