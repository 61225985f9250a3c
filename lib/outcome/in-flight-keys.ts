/** Units a reservation in flight holds, and when they were taken. */
interface Held {
  readonly atMs: number;
  readonly cost: number;
}

/**
 * What this instance knows of the requests in flight under outcome-aware rules, by store key: the
 * units their reservations hold until they settle (and when they were taken), and the requests
 * waiting for those units (`waitMs`). Nothing is kept for a key without either.
 */
export class InFlightKeys {
  private readonly units = new Map<string, Held[]>();
  private readonly wakers = new Map<string, Set<() => void>>();
  /** Requests waiting on each key, or looking at the store again between two waits. */
  private readonly waiting = new Map<string, number>();
  private closed = false;

  /** A reservation of `cost` units, taken on `key` at `atMs`, is in flight. */
  held(key: string, cost: number, atMs: number): void {
    const held = this.units.get(key);
    if (held === undefined) this.units.set(key, [{ atMs, cost }]);
    else held.push({ atMs, cost });
  }

  /** Units that this instance's requests in flight took on `key` at `sinceMs` or later. */
  unitsHeld(key: string, sinceMs: number): number {
    const held = this.units.size === 0 ? undefined : this.units.get(key);
    let total = 0;
    if (held !== undefined) for (const h of held) if (h.atMs >= sinceMs) total += h.cost;
    return total;
  }

  /**
   * A request of `key` settled: the `cost` units it took at `atMs` (none for one that was never in
   * flight, such as a refused request) came back or were counted; the requests waiting on `key`
   * look again.
   */
  settled(key: string, cost: number, atMs: number): void {
    const held = cost === 0 ? undefined : this.units.get(key);
    const i = held === undefined ? -1 : held.findIndex((h) => h.cost === cost && h.atMs === atMs);
    if (i >= 0) {
      held!.splice(i, 1);
      if (held!.length === 0) this.units.delete(key);
    }
    const wakers = this.wakers.get(key);
    if (wakers !== undefined) for (const wake of [...wakers]) wake();
  }

  /** Lets one more request wait on `key`, unless `most` already do (or the instance is stopping). */
  enter(key: string, most: number): boolean {
    const now = this.waiting.get(key) ?? 0;
    if (this.closed || now >= most) return false;
    this.waiting.set(key, now + 1);
    return true;
  }

  /** A request that `enter` let wait on `key` is done waiting. */
  leave(key: string): void {
    const now = (this.waiting.get(key) ?? 0) - 1;
    if (now > 0) this.waiting.set(key, now);
    else this.waiting.delete(key);
  }

  /** Resolves once a request of `key` settles, after `pauseMs`, or at `close`. Never rejects. */
  next(key: string, pauseMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let wakers = this.wakers.get(key);
      if (wakers === undefined) this.wakers.set(key, (wakers = new Set()));
      const wake = () => {
        clearTimeout(timer);
        const left = this.wakers.get(key);
        left?.delete(wake);
        if (left?.size === 0) this.wakers.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, pauseMs);
      wakers.add(wake);
    });
  }

  /** Wakes every waiting request, and lets none wait from now on (the instance is stopping). */
  close(): void {
    this.closed = true;
    for (const wakers of [...this.wakers.values()]) for (const wake of [...wakers]) wake();
  }

  /** Whether `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }
}
