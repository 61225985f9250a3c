import type { EndpointTraffic } from './ddos-events.js';
import { SlotRing } from './slot-ring.js';

/** The name endpoints past `maxEndpoints` are counted under. */
export const OTHER_ENDPOINT = '(other)';

/** One endpoint's counts, and the small id clients remember it by. */
export interface EndpointCounts {
  readonly id: number;
  readonly ring: SlotRing;
}

/**
 * Requests and errors per endpoint over the window. At most `maxEndpoints` endpoints are counted
 * apart (an app's routes are few; the bound holds whatever requests name), the rest together as
 * `(other)`. Ids are never reused, so a client's remembered ids keep their meaning.
 */
export class EndpointTable {
  private readonly byName = new Map<string, EndpointCounts>();
  private readonly other: EndpointCounts = { id: 0, ring: new SlotRing() };

  constructor(private readonly maxEndpoints: number) {}

  /** Counts a request to `endpoint` in `slot`; its counts. */
  count(endpoint: string, slot: number, error: boolean): EndpointCounts {
    let counts = this.byName.get(endpoint);
    if (counts === undefined) {
      if (this.byName.size >= this.maxEndpoints) counts = this.other;
      else this.byName.set(endpoint, (counts = { id: this.byName.size + 1, ring: new SlotRing() }));
    }
    counts.ring.add(slot, error);
    return counts;
  }

  /** Endpoints followed apart (at most `maxEndpoints`). */
  get size(): number {
    return this.byName.size;
  }

  /** The `limit` endpoints with the most requests in the window that ends in `slot`, busiest first. */
  busiest(limit: number, slot: number): EndpointTraffic[] {
    const all: EndpointTraffic[] = [];
    for (const [endpoint, { ring }] of [...this.byName, [OTHER_ENDPOINT, this.other] as const]) {
      ring.advance(slot);
      if (ring.total > 0) all.push({ endpoint, requests: ring.total, errors: ring.errors });
    }
    return all.sort((a, b) => b.requests - a.requests || (a.endpoint < b.endpoint ? -1 : 1)).slice(0, limit);
  }
}
