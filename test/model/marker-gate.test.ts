/**
 * The client-marker gate model (src/model/marker-gate.ts): the gate decision depends on the marker
 * only (CM-01 … CM-03, CM-05), rotation keeps it (CM-04), and a request's claims never choose it
 * (CM-07) — and a wrong decision is blamed on the requirement that states it.
 */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import { MarkerGateModel, gateRequirement, mayUpdateSystemFieldMetadata, mayUpdateSystemListValues, type ClientMarker } from '../../src/model/marker-gate.js';

const markerArb = fc.constantFrom<ClientMarker>('Web', 'Cli', 'Sdk');

describe('client-marker gate model', () => {
  it('CM-01 … CM-03: only Web may change a system field\'s metadata; CM-05: every marker may update list values', () => {
    expect(mayUpdateSystemFieldMetadata('Web')).toBe(true);
    expect(mayUpdateSystemFieldMetadata('Cli')).toBe(false);
    expect(mayUpdateSystemFieldMetadata('Sdk')).toBe(false);
    for (const marker of ['Web', 'Cli', 'Sdk'] as const) expect(mayUpdateSystemListValues(marker)).toBe(true);
    expect(['Sdk', 'Cli', 'Web'].map((m) => gateRequirement(m as ClientMarker))).toEqual(['CM-01', 'CM-02', 'CM-03']);
  });

  prop([fc.array(fc.tuple(markerArb, fc.nat({ max: 5 })), { minLength: 1, maxLength: 8 })])(
    'CM-04: rotations never change a caller\'s gate decision; a wrong decision after one is a CM-04 failure (an API key never rotates: CM-01)',
    (callers) => {
      const m = new MarkerGateModel();
      for (const [marker, rotations] of callers) {
        const caller = m.addCaller(marker);
        const decision = mayUpdateSystemFieldMetadata(caller.marker);
        for (let i = 0; i < rotations; i++) m.rotate(caller);
        expect(caller.generation).toBe(rotations);
        expect(mayUpdateSystemFieldMetadata(caller.marker)).toBe(decision);
        const expected = rotations > 0 && marker !== 'Sdk' ? 'CM-04' : gateRequirement(marker);
        expect(m.requirementFor(caller, false)).toBe(expected);
      }
      expect(m.callers).toHaveLength(callers.length);
    },
  );

  prop([markerArb, fc.nat({ max: 5 })])('CM-07: a wrong decision on a request claiming another marker is a CM-07 failure, whatever the caller', (marker, rotations) => {
    const m = new MarkerGateModel();
    const caller = m.addCaller(marker);
    for (let i = 0; i < rotations; i++) m.rotate(caller);
    expect(m.requirementFor(caller, true)).toBe('CM-07');
  });
});
