import type { Lease, LeaseAcquisition, LeaseStore } from './lease-store.interface.js';

/**
 * Leases in this process's memory: exact for one instance (several instances need a shared
 * storage). Keys without a live lease are forgotten, so memory follows the leases held.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly pools = new Map<string, Map<string, Lease>>();

  acquire(key: string, lease: Lease, limit: number, nowMs: number): Promise<LeaseAcquisition> {
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = new Map()));
    for (const [id, held] of pool) if (held.expiresAtMs <= nowMs) pool.delete(id);
    if (pool.size >= limit) return Promise.resolve({ acquired: false, held: pool.size });
    pool.set(lease.id, lease);
    return Promise.resolve({ acquired: true, held: pool.size });
  }

  release(key: string, id: string): Promise<void> {
    const pool = this.pools.get(key);
    pool?.delete(id);
    if (pool?.size === 0) this.pools.delete(key);
    return Promise.resolve();
  }

  renew(holder: string, nowMs: number, expiresAtMs: number): Promise<void> {
    for (const pool of this.pools.values()) {
      for (const [id, lease] of pool) {
        if (lease.holder === holder && lease.expiresAtMs > nowMs) pool.set(id, { ...lease, expiresAtMs });
      }
    }
    return Promise.resolve();
  }

  releaseHolder(holder: string): Promise<void> {
    for (const [key, pool] of this.pools) {
      for (const [id, lease] of pool) if (lease.holder === holder) pool.delete(id);
      if (pool.size === 0) this.pools.delete(key);
    }
    return Promise.resolve();
  }

  count(key: string, nowMs: number): Promise<number> {
    let live = 0;
    for (const lease of this.pools.get(key)?.values() ?? []) if (lease.expiresAtMs > nowMs) live++;
    return Promise.resolve(live);
  }
}
