/** Refresh-token reuse policies (src/model/policy.ts): `strict` and `grace=<s>`, parsed and named. */
import fc from 'fast-check';
import { prop } from '../support/prop.js';
import { describe, expect, it } from 'vitest';
import { STRICT, parsePolicy, policyName, type Policy } from '../../src/model/policy.js';

const policyArb: fc.Arbitrary<Policy> = fc.oneof(
  fc.constant(STRICT),
  fc.oneof(fc.nat({ max: 86_400 }), fc.double({ min: 0, max: 1_000, noNaN: true, noDefaultInfinity: true }).map((x) => Math.round(x * 100) / 100)).map((seconds) => ({ kind: 'grace' as const, seconds })),
);

describe('policy', () => {
  prop([policyArb])('parsePolicy(policyName(p)) gives p back', (policy) => {
    expect(parsePolicy(policyName(policy))).toEqual(policy);
  });

  prop([policyArb, fc.constantFrom('', ' ', '\t', '  \n')])('surrounding whitespace is ignored', (policy, ws) => {
    expect(parsePolicy(`${ws}${policyName(policy)}${ws}`)).toEqual(policy);
  });

  it('anything else is refused (null), never guessed', () => {
    for (const text of ['', 'Strict', 'STRICT', 'grace', 'grace=', 'grace=-1', 'grace=abc', 'grace = 30', 'grace=30s', 'grace=1e3', 'lenient', 'strict,grace=3']) {
      expect(parsePolicy(text), text).toBeNull();
    }
  });

  prop([fc.string()])('parses only strings of the two documented forms', (text) => {
    const policy = parsePolicy(text);
    if (policy) expect(text.trim()).toMatch(/^(strict|grace=\d+(\.\d+)?)$/);
  });
});
