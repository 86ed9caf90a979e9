/**
 * Runs `task` over `items`, at most `width` at a time, with stderr silenced once around the whole
 * batch: the run helpers each swap `process.stderr.write` while they run, and when their runs
 * overlap the last one to finish may restore another's swap — the outer swap puts the real one
 * back at the end whatever the order. For runs whose wall time is mostly waiting (real token
 * lifetimes over stdio, a server in another process).
 */
export async function pooled<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  return silenced(async () => {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
    return results;
  });
}

/** Runs `task` with stderr silenced, and puts the real `process.stderr.write` back afterwards. */
export async function silenced<T>(task: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await task();
  } finally {
    process.stderr.write = write;
  }
}
