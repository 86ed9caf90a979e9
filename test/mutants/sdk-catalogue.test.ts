/**
 * The SDK mutant catalogue itself: names unique and listed, `breaks` naming SDK/STORE
 * requirements, and every SDK/STORE MUST requirement (and the SHOULDs SDK-05, SDK-11, STORE-03)
 * caught by at least one mutant that breaks it alone.
 */
import { describe, expect, it } from 'vitest';
import { SDK_MUTANTS, sdkMutant } from '../../src/mutants/index.js';
import { REQUIREMENTS } from '../../src/spec/requirements.js';

const SDK_REQUIREMENTS = REQUIREMENTS.filter((r) => r.side === 'sdk');

describe('SDK mutant catalogue', () => {
  it('has unique names, found by sdkMutant()', () => {
    const names = SDK_MUTANTS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(sdkMutant(name)?.name).toBe(name);
  });

  it('names only SDK-side requirements in breaks, each mutant at least one', () => {
    const ids = new Set(SDK_REQUIREMENTS.map((r) => r.id));
    for (const m of SDK_MUTANTS) {
      expect(m.breaks.length, m.name).toBeGreaterThan(0);
      for (const id of m.breaks) expect(ids.has(id), `${m.name}: ${id}`).toBe(true);
    }
  });

  it('has, for every SDK/STORE MUST requirement and SDK-05, SDK-11, STORE-03, a mutant only it catches', () => {
    const wanted = [...SDK_REQUIREMENTS.filter((r) => r.level === 'MUST').map((r) => r.id), 'SDK-05', 'SDK-11', 'STORE-03'];
    const alone = new Set(SDK_MUTANTS.filter((m) => m.breaks.length === 1).map((m) => m.breaks[0]));
    expect(wanted.filter((id) => !alone.has(id))).toEqual([]);
  });

  it('builds every mutant adapter, which names itself as a mutant', async () => {
    for (const m of SDK_MUTANTS) {
      const adapter = m.createAdapter();
      const init = await adapter.initialize({ protocolVersion: 1 });
      expect(init.name).toBe(`mutant ${m.name}`);
      await adapter.shutdown({});
    }
  });
});
