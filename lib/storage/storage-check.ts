import type { RampartStorage } from './rampart-storage.interface.js';

const STORE_METHODS: Record<Exclude<keyof RampartStorage, 'init' | 'close' | 'leases' | 'stats' | 'adaptive'>, readonly string[]> = {
  rateLimits: ['consume', 'get', 'reset'],
  bans: ['put', 'lift', 'get', 'list', 'changedSince', 'remove'],
  violations: ['record', 'list', 'count', 'deleteByKey', 'purge'],
  accessList: ['put', 'remove', 'list', 'changedSince'],
};

/** What a storage lacks, as `bans.changedSince`-style paths (`rateLimits` is skipped when `store` replaces it). */
export function missingStorageParts(storage: unknown, withRateLimits: boolean): string[] {
  if (typeof storage !== 'object' || storage === null) return Object.keys(STORE_METHODS);
  const missing: string[] = [];
  for (const [part, methods] of Object.entries(STORE_METHODS)) {
    if (part === 'rateLimits' && !withRateLimits) continue;
    const store = (storage as Record<string, unknown>)[part] as Record<string, unknown> | undefined;
    for (const method of methods) {
      if (typeof store?.[method] !== 'function') missing.push(`${part}.${method}()`);
    }
  }
  const optional: [string, readonly string[]][] = [
    ['leases', ['acquire', 'release', 'renew', 'releaseHolder', 'count']],
    ['adaptive', ['get', 'put']],
  ];
  for (const [part, methods] of optional) {
    const store = (storage as Record<string, unknown>)[part];
    if (store === undefined) continue;
    for (const method of methods) if (typeof (store as Record<string, unknown> | null)?.[method] !== 'function') missing.push(`${part}.${method}()`);
  }
  for (const hook of ['init', 'close']) {
    const fn = (storage as Record<string, unknown>)[hook];
    if (fn !== undefined && typeof fn !== 'function') missing.push(`${hook}()`);
  }
  return missing;
}
