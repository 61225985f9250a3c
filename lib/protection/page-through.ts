/**
 * Reads every change at or after `sinceMs`, a page at a time, moving `since` to the newest
 * `updatedAtMs` of each full page (so records sharing that time are read again, harmlessly).
 */
export async function pageThrough<T extends { updatedAtMs: number }>(
  sinceMs: number,
  pageSize: number,
  fetch: (since: number) => Promise<readonly T[]>,
  apply: (item: T) => unknown,
): Promise<void> {
  let since = sinceMs;
  for (;;) {
    const page = await fetch(since);
    let newest = since;
    for (const item of page) {
      apply(item);
      if (item.updatedAtMs > newest) newest = item.updatedAtMs;
    }
    // A short page is the last; a full page whose records all share one time cannot be paged on.
    if (page.length < pageSize || newest === since) return;
    since = newest;
  }
}
