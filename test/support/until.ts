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
