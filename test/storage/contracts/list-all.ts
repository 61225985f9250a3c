import type { Page, PageRequest } from '../../../lib/storage/ban-store.interface.js';

/** Reads every page of a paginated `list`, checking each page's size, and counts the pages. */
export async function listAll<F, T>(
  list: (filter: F, page: PageRequest) => Promise<Page<T>>,
  filter: F,
  limit: number,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(filter, cursor === undefined ? { limit } : { limit, cursor });
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (pages > 1000) throw new Error('pagination does not end');
  } while (cursor !== undefined);
  return { items, pages };
}
