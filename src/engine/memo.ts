/**
 * `compute(key)` remembered for keys asked again and again (the few URLs a run sends to thousands
 * of times), forgetting everything once `limit` keys are held: bounded memory whatever the keys.
 */
export function boundedMemo<V>(compute: (key: string) => V, limit = 256): (key: string) => V {
  const known = new Map<string, V>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      value = compute(key);
      if (known.size >= limit) known.clear();
      known.set(key, value);
    }
    return value;
  };
}
