/**
 * Resolves once `condition()` holds, checking every millisecond or so; rejects after `limitMs`.
 * For background work (a probe, a retry, a write after a recovery), not for time to pass: tests
 * move rate-limit time with a fake clock.
 */
export async function until(condition: () => boolean, limitMs = 2_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${limitMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Waits until `read()` resolves to `expected` (background work: another process, a store write). */
export async function untilValue<T>(read: () => Promise<T>, expected: T, limitMs = 5_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  let last = await read();
  while (last !== expected) {
    if (performance.now() > deadline) throw new Error(`still ${String(last)}, expected ${String(expected)} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    last = await read();
  }
}
