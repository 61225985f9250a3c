/** What a storage answers for one counted request. Durations are whole seconds, rounded up. */
export interface ThrottlerStorageRecord {
  /** Requests counted for the key within its `ttl`, including this one. */
  totalHits: number;
  /** Seconds until the key's counting period resets (the `X-RateLimit-Reset` header). */
  timeToExpire: number;
  /** Whether this request is refused. */
  isBlocked: boolean;
  /** When refused: seconds until a request may pass again (the `Retry-After` header). */
  timeToBlockExpire: number;
}

/** Where the guard counts requests. Implement it to keep counts elsewhere (Redis, a database...). */
export interface ThrottlerStorage {
  /**
   * Counts one request for `key` and answers whether it is allowed.
   * @param ttl milliseconds a request is counted for
   * @param limit requests allowed within `ttl`
   * @param blockDuration milliseconds a key is refused once it exceeds `limit` (0: no block)
   * @param throttlerName the throttler counting
   */
  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord>;
}

/** Injection token of the storage (see `getStorageToken` and `@InjectThrottlerStorage()`). */
export const ThrottlerStorage: unique symbol = Symbol('ThrottlerStorage');
