import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { AlgorithmName } from '../core/algorithms/algorithm.interface.js';
import { ALGORITHM_NAMES } from '../core/algorithms/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ConsumeResult, StoreRule } from '../core/rule-decision.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import type { ThrottlerStorage, ThrottlerStorageRecord } from './throttler-storage.interface.js';

/** What a store or a storage may need done with the app: prepared at startup, released at shutdown. */
export interface ThrottlerBackingLifecycle {
  /** Called once when the app starts (Nest's `onModuleInit`), e.g. a Mongo store's indexes. */
  init?(): Promise<void>;
  /** Called once when the app shuts down (Nest's `onApplicationShutdown`), e.g. a connection opened from a `uri`. */
  close?(): Promise<void>;
}

/**
 * Where the counts live: a rate-limit store (`new MongoRateLimitStore(connection)`,
 * `mongoStorage(...).rateLimits`, `new MemoryRateLimitStore()`), or a whole storage
 * (`mongoStorage(...)`, `redisStorage(...)`), of which only `rateLimits` is used. The `init()` and
 * `close()` of what is given (the storage's when a storage is given) run with the app.
 */
export type ThrottlerBacking = (RateLimitStore & ThrottlerBackingLifecycle) | ({ readonly rateLimits: RateLimitStore } & ThrottlerBackingLifecycle);

/** Options of `rampartThrottlerStorage()`; none is needed. */
export interface RampartThrottlerStorageOptions {
  /** The source of time of every decision. @default the system clock (`Date.now()`) */
  clock?: Clock;
  /**
   * What every store key starts with: `<prefix><throttler name>:<key>`. The default starts with `@`,
   * which no Rampart rule name can, so these keys never meet the keys of a `RateLimitModule` sharing
   * the same collection or Redis.
   * @default '@throttler:'
   */
  prefix?: string;
  /**
   * How hits are counted. The default counts exactly as `@nestjs/throttler` does (each hit for
   * `ttl` milliseconds); `'sliding-window'` keeps three numbers per key instead of one entry per
   * hit, for limits in the thousands, at the price of an estimate.
   * @default 'sliding-log'
   */
  algorithm?: AlgorithmName;
}

const DEFAULT_PREFIX = '@throttler:';

/** Whole seconds from `nowMs` until `atMs`, rounded up, never negative. */
const secondsUntil = (atMs: number, nowMs: number): number => Math.max(0, Math.ceil((atMs - nowMs) / 1000));

/**
 * A `ThrottlerStorage` for `@nestjs/throttler` v6 (or the drop-in `nest-rampart/throttler`) over
 * a Rampart rate-limit store, so that every instance of an app shares exact counts: each
 * `increment` is one `consume` on the store, one atomic operation on MongoDB or Redis (no read
 * then write), so N concurrent requests admit exactly `limit`, whatever instance they reach.
 *
 * What it answers, with the default `sliding-log`, as `@nestjs/throttler`'s own storage:
 * - each admitted hit counts for `ttl` ms from the moment it was made; a request is admitted while
 *   fewer than `limit` hits count;
 * - the request over the limit is refused and, with a `blockDuration` (the guard passes `ttl` when
 *   none is set), blocks the key for `blockDuration` ms, during which requests are refused and not
 *   counted; without one (`blockDuration: 0`) a refused request is not counted and `Retry-After`
 *   is the time until the oldest counted hit expires;
 * - durations are whole seconds, rounded up; `Retry-After` (`timeToBlockExpire`) is the time until
 *   a request may pass again.
 *
 * Where it differs, on purpose:
 * - Counts are kept per throttler name and key (`<prefix><name>:<key>`). With a `generateKey` that
 *   leaves out the throttler name, `@nestjs/throttler`'s storage shares one block between the
 *   throttlers; here each throttler blocks on its own.
 * - A `blockDuration` shorter than `ttl`: `@nestjs/throttler` forgets the counted hits when the
 *   block ends, so a client may make `limit` more requests at once although its earlier ones still
 *   fall within `ttl`. Here the hits keep counting: the block lasts `blockDuration`, or until a
 *   request fits within the limit again if that is later. Never more than `limit` per `ttl` pass.
 *   With `blockDuration` ≥ `ttl` (the default is `ttl`) both behave alike.
 * - `timeToExpire` (the `X-RateLimit-Reset` header) is the time until every counted hit has expired
 *   and no block runs: the whole limit is available again. `@nestjs/throttler` reports instead the
 *   end of a period of `ttl` that starts at a key's first hit and is renewed by the first hit after
 *   it, which does not tell when hits stop counting.
 * - `totalHits` of a refused request is `limit + 1` (the guard shows `Remaining: 0` either way).
 * - A store that fails rejects `increment`, so the guard's request fails; nothing is admitted uncounted.
 *
 * Nest runs its lifecycle hooks on the storage given in the throttler options: `init()` of the
 * backing at startup, `close()` at shutdown (see `ThrottlerBacking`).
 *
 * @example // a MongoDB connection of its own, closed with the app
 * ThrottlerModule.forRoot({
 *   throttlers: [{ ttl: seconds(60), limit: 100 }],
 *   storage: rampartThrottlerStorage(mongoStorage({ uri: process.env.MONGO_URL })),
 * })
 *
 * @example // the app's Mongoose connection (or a client it owns): only the rate-limit store
 * ThrottlerModule.forRootAsync({
 *   inject: [getConnectionToken()],
 *   useFactory: (connection: Connection) => ({
 *     throttlers: [{ ttl: seconds(60), limit: 100 }],
 *     storage: rampartThrottlerStorage(mongoStorage({ connection }).rateLimits),
 *   }),
 * })
 *
 * @example // Redis or Redis Cluster (nest-rampart/redis) on the app's client: the storage pings it
 * // at startup; `redisStorage({ client }).rateLimits` or `new RedisRateLimitStore(scriptClientOf(client))`
 * // count alike without that check.
 * ThrottlerModule.forRoot({
 *   throttlers: [{ ttl: seconds(60), limit: 100 }],
 *   storage: rampartThrottlerStorage(redisStorage({ client: redis })),
 * })
 */
export class RampartThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly store: RateLimitStore;
  private readonly lifecycle: ThrottlerBackingLifecycle;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly algorithm: AlgorithmName;
  private ready: Promise<void> | undefined;
  private closed: Promise<void> | undefined;

  constructor(backing: ThrottlerBacking, options: RampartThrottlerStorageOptions = {}) {
    const store = typeof backing === 'object' && backing !== null && 'rateLimits' in backing ? backing.rateLimits : backing;
    const problems = [
      ...(typeof store?.consume === 'function' ? [] : ['the first argument must be a rate-limit store (with consume()) or a storage with `rateLimits`']),
      ...(options.clock === undefined || typeof options.clock.now === 'function' ? [] : ['clock must have a now() method returning epoch milliseconds']),
      ...(options.prefix === undefined || (typeof options.prefix === 'string' && options.prefix !== '') ? [] : ['prefix must be a non-empty string']),
      ...(options.algorithm === undefined || ALGORITHM_NAMES.includes(options.algorithm) ? [] : [`algorithm must be one of: ${ALGORITHM_NAMES.join(', ')}`]),
    ];
    if (problems.length > 0) throw new TypeError(`RampartThrottlerStorage: ${problems.join('; ')}.`);
    this.store = store;
    this.lifecycle = backing;
    this.clock = options.clock ?? systemClock;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.algorithm = options.algorithm ?? 'sliding-log';
  }

  /**
   * Counts one request for `key` under the throttler `throttlerName`.
   * @param ttl milliseconds a hit is counted for
   * @param limit hits allowed within `ttl`
   * @param blockDuration milliseconds a key is refused once it exceeds `limit` (0 or less: no block)
   */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (!(Number.isFinite(ttl) && ttl > 0) || !(Number.isFinite(limit) && limit >= 0) || !Number.isFinite(blockDuration)) {
      throw new RangeError(
        `RampartThrottlerStorage: the "${throttlerName}" throttler needs a ttl above 0, a limit of 0 or more and a finite blockDuration, got ttl ${ttl}, limit ${limit}, blockDuration ${blockDuration}.`,
      );
    }
    const rule: StoreRule = { name: throttlerName, algorithm: this.algorithm, limit, windowMs: ttl, blockDurationMs: Math.max(0, blockDuration) };
    const nowMs = this.clock.now();
    const result = await this.store.consume(this.storeKey(throttlerName, key), rule, nowMs, 1);
    return recordOf(result, limit, nowMs);
  }

  /**
   * The store key of `key` under a throttler, `<prefix><name>:<key>`, the name's `%` and `:` escaped
   * (`%25`, `%3A`) so that no two names and keys make the same store key.
   */
  storeKey(throttlerName: string, key: string): string {
    return `${this.prefix}${throttlerName.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))}:${key}`;
  }

  /** Runs the backing's `init()` once (again after a failure). */
  init(): Promise<void> {
    this.ready ??= (async () => this.lifecycle.init?.())().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Runs the backing's `close()` once. */
  close(): Promise<void> {
    this.closed ??= (async () => this.lifecycle.close?.())();
    return this.closed;
  }

  onModuleInit(): Promise<void> {
    return this.init();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

/** The record the guard reads, from a store decision taken at `nowMs`. */
function recordOf(result: ConsumeResult, limit: number, nowMs: number): ThrottlerStorageRecord {
  const freeAtMs = Math.max(result.resetAtMs, result.blockedUntilMs ?? 0);
  return {
    totalHits: result.allowed ? limit - result.remaining : limit + 1,
    timeToExpire: secondsUntil(freeAtMs, nowMs),
    isBlocked: !result.allowed,
    timeToBlockExpire: result.allowed ? 0 : secondsUntil(nowMs + result.retryAfterMs, nowMs),
  };
}

/**
 * A `ThrottlerStorage` over a Rampart store or storage: `new RampartThrottlerStorage(backing, options)`.
 * @example ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 100 }], storage: rampartThrottlerStorage(mongoStorage({ uri })) })
 */
export function rampartThrottlerStorage(backing: ThrottlerBacking, options?: RampartThrottlerStorageOptions): RampartThrottlerStorage {
  return new RampartThrottlerStorage(backing, options);
}
