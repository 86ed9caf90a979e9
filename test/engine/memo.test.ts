import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../src/engine/memo.js';

describe('boundedMemo', () => {
  it('computes a key once while it is held, and holds no more than the limit', () => {
    const computed: string[] = [];
    const upper = boundedMemo((key) => (computed.push(key), key.toUpperCase()), 3);
    expect([upper('a'), upper('b'), upper('a'), upper('c')]).toEqual(['A', 'B', 'A', 'C']);
    expect(computed).toEqual(['a', 'b', 'c']);
    // A fourth key forgets the three held: 'a' is computed again.
    expect([upper('d'), upper('a')]).toEqual(['D', 'A']);
    expect(computed).toEqual(['a', 'b', 'c', 'd', 'a']);
  });
});
