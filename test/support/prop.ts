/**
 * `prop([arbitraries])('title', predicate)`: a vitest test that checks a fast-check property, in
 * the shape of @fast-check/vitest's `test.prop` — without importing that package, whose import
 * alone costs about 4 s of CPU per test file here. A failure reports fast-check's seed and path
 * (replay with `fc.assert(..., { seed, path })`).
 */
import fc from 'fast-check';
import { it } from 'vitest';

type Arbitraries<Ts extends unknown[]> = { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };

export function prop<Ts extends [unknown, ...unknown[]]>(arbitraries: Arbitraries<Ts>) {
  return (title: string, predicate: (...args: Ts) => boolean | void, params?: fc.Parameters<Ts>): void => {
    it(title, () => {
      const property = (fc.property as (...args: unknown[]) => fc.IPropertyWithHooks<Ts>)(...arbitraries, predicate);
      fc.assert(property, params);
    });
  };
}
