import type { Clock } from '../core/clock.js';
import type { EscalationPolicy } from '../core/escalation.js';
import type { RampartLogger } from '../core/logger.js';
import type { TrustProxyOptions } from '../core/ip/trust-proxy.js';
import type { RateLimitEventHandlers } from '../events/rate-limit-events.js';
import type { MemoryRateLimitStoreOptions } from '../storage/memory-rate-limit.store.js';
import type { RampartStorage } from '../storage/rampart-storage.interface.js';
import type { SplitStorageOptions } from '../storage/split-storage.js';
import type { RateLimitStore } from '../storage/rate-limit-store.interface.js';
import type { StoreBreakerOptions } from '../protection/store-breaker.js';
import type { ClientKeyResolver, RateLimitRule, StoreErrorPolicy } from './rule.interface.js';
import type { StatsOptions } from '../observability/observability-config.js';
import type { AlertOptions } from '../alerts/alert-options.interface.js';
import type { LoggingOptions } from '../observability/logging-config.js';
import type { GroupOptions, GroupResolver } from './groups.js';
import type { DdosOptions } from '../ddos/ddos-options.js';

/**
 * Options of the engine: what `createRampart` takes, and what `RateLimitModule.forRoot` takes besides
 * `adminApiKey`. `C` is what rule hooks receive (Nest's `ExecutionContext` in the Nest module).
 */
export interface RampartOptions<C = unknown> {
  /**
   * Rules applied to every route (unless skipped or overridden by `@Throttle`).
   * Pass `[]` to limit only the routes that carry `@Throttle`.
   * @default [{ name: 'default', limit: 100, windowMs: 60_000, algorithm: 'sliding-window' }]
   */
  rules?: RateLimitRule<C> | RateLimitRule<C>[];
  /**
   * Where counters, bans, violation history and allow/deny lists live. Give every instance of an
   * app the same storage (`mongoStorage(...)`, `redisStorage(...)`) so that they share limits and
   * bans. Its `init()` is called at startup and its `close()` at shutdown.
   *
   * `{ counters, records }` takes counters and leases from one storage and bans, violations and
   * lists from the other, e.g. `{ counters: redisStorage({ client }), records: mongoStorage({ connection }) }`
   * (see `splitStorage`).
   * @default memoryStorage() (one process)
   */
  storage?: RampartStorage | SplitStorageOptions;
  /** Where rate-limit counters live; overrides `storage.rateLimits`. @default `storage.rateLimits` */
  store?: RateLimitStore;
  /**
   * Longest wait for the rate-limit store on a request, in milliseconds. A call that fails or takes
   * longer is answered by `storeFallback` (or `onStoreError`), and may mark the store down (see
   * `storeBreaker`). While it is down, requests do not wait for it: a probe tries it every
   * `storeProbeIntervalMs` in the background, and its first answer in time brings the store back.
   * @default 500
   */
  storeTimeoutMs?: number;
  /**
   * When failed or timed-out store calls mark the store down for every client. A call that fails
   * marks it down when no store call has succeeded since it began (the store has gone silent), or
   * when, within the last `windowMs`, at least `failures` calls failed and they concern at least
   * `clients` distinct clients (told apart by address, so one client's many rules, routes and
   * identities count once). Any other failure is one client's own: only that call is answered
   * without the store, so one slow or failing client never switches limits off for the others.
   * @default { windowMs: 10_000, failures: 5, clients: 3 }
   */
  storeBreaker?: Partial<StoreBreakerOptions>;
  /**
   * Most keys whose denial is remembered in memory until its retry time, so that a client over a
   * limit is answered without a store call (the least recently denied key goes first). `0` turns
   * it off.
   * @default 10_000
   */
  denialCacheSize?: number;
  /**
   * How often a store that is down is probed (one counter update on a key of its own, bounded by
   * `storeTimeoutMs`), in milliseconds. The store is used again within this interval plus one round trip of its return.
   * @default 250
   */
  storeProbeIntervalMs?: number;
  /**
   * How long startup waits for the storage to be ready: its `init()` (for MongoDB: connected,
   * indexes in place) and the first load of bans and allow/deny lists. When it is not ready by
   * then, the app starts anyway (unless `requireStore`): requests are answered by `onStoreError`
   * (or `storeFallback`), and the storage is tried again every `banSyncIntervalMs` until it is.
   * @default 5000
   */
  storeStartupTimeoutMs?: number;
  /**
   * Refuse to start when the storage is not ready within `storeStartupTimeoutMs`: startup fails
   * with an error that names the cause, instead of starting without the storage.
   * @default false
   */
  requireStore?: boolean;
  /**
   * How long a lease (a slot of a concurrency limit: a WebSocket connection, a request in flight)
   * lives without renewal. Each instance renews its leases every third of it, so this is the
   * longest the slots of an instance that died without a word stay taken.
   * @default 30_000
   */
  leaseMs?: number;
  /**
   * What rules answer while the store is down: `'allow'` admits requests uncounted (fail open),
   * `'deny'` answers 503 with `Retry-After: 1` (fail closed). A rule's own `onStoreError` wins.
   * @default 'allow'
   */
  onStoreError?: StoreErrorPolicy;
  /**
   * While the store is down (and for a call that failed), count requests in an in-process memory
   * store instead of applying `onStoreError`, so that limits still hold (per instance, not across
   * instances). `false` answers by `onStoreError` instead.
   * @default true
   */
  storeFallback?: boolean;
  /** Options of the default memory counter store (ignored when `store` or `storage` is given). */
  memoryStore?: MemoryRateLimitStoreOptions;
  /**
   * What happens to clients that keep exceeding limits: temporary blocks that grow with each
   * repeat, then a permanent ban (403) until an operator lifts it. Fields given here replace the
   * defaults; a rule's own `escalation` is merged over this. `false` turns escalation off: denied
   * requests are then answered by their rule alone, announced to `events` but not recorded.
   * @default { blockAfterViolations: 3, blockDurationMs: 900_000, blockMultiplier: 2,
   *   maxBlockDurationMs: 86_400_000, permanentBanAfter: 10, permanentBanWindowMs: 86_400_000 }
   */
  escalation?: Partial<EscalationPolicy> | false;
  /**
   * How long the bans that escalation makes (`permanentBanAfter`) last, in milliseconds; left out,
   * they are permanent, until an operator lifts them. An address is often shared (a carrier-grade
   * NAT, an office, one IPv6 /64, a proxy taken for the client): a permanent ban locks out everyone
   * behind it for good, an expiring one lets them back, and the offender too (its violations still
   * count: within `permanentBanWindowMs` its next violation bans it again). Such a ban is a
   * temporary one: answered 429 with `Retry-After`, announced as a block. At least the escalation's
   * `maxBlockDurationMs`. Operators' bans are not affected.
   * @default undefined (permanent bans)
   * @example autoBanDurationMs: 7 * 86_400_000 // a week
   */
  autoBanDurationMs?: number;
  /**
   * How long violation history is kept, in milliseconds; older violations are purged. At least
   * every `permanentBanWindowMs` in use.
   * @default 2_592_000_000 (30 days)
   */
  violationRetentionMs?: number;
  /**
   * How often each instance fetches ban and allow/deny-list changes made by the others, in
   * milliseconds. A ban made on one instance is enforced by every other within this interval plus
   * one store round trip: ≤ 2 s with the defaults. The timer never keeps the process alive.
   * @default 1000
   */
  banSyncIntervalMs?: number;
  /**
   * Most automatic blocks and bans by key each instance holds in memory (an operator's bans and
   * range bans are always held). Past it the least recently applied is dropped from memory, not
   * from enforcement: a compact filter (about 2 bytes per ban in force) remembers its key, and the
   * client's next request reads its ban from the store once (one round trip), after which it is
   * held again. Clients without a ban never cause that read, but for about 1 in 2 000 (once each).
   * @default 50000
   */
  maxCachedBans?: number;
  /**
   * Callbacks for violations, blocks, bans, unbans and store outages. They never change a response:
   * a callback that throws is logged. With `@nestjs/event-emitter` in the app the same events are
   * also emitted as `rampart.violation`, `rampart.block`, `rampart.ban`, `rampart.unban`,
   * `rampart.store.down` and `rampart.store.up`.
   */
  events?: RateLimitEventHandlers;
  /**
   * Identity for every rule: user id, API key... Falls back to the client address when it returns
   * nothing. One that throws an `IdentityError` (an invalid token) gets the request refused, uncounted,
   * where a rule counts it (see `ipIdentity`, `sessionIdentity` and `jwtIdentity` for ready-made ones).
   */
  keyResolver?: ClientKeyResolver<C>;
  /**
   * Decides each client's group (a plan, a role) from the request, JWT claims or the session (see
   * `jwtIdentity` and `sessionIdentity`). Rules with `groups` count only the clients of those groups;
   * a rule without `groups` counts every group that no other rule of its list names. Clients the
   * resolver names no group for are in the `default` group.
   * @default every client is in the `default` group
   */
  groupResolver?: GroupResolver<C>;
  /**
   * Settings per group: `{ admin: { unlimited: true } }` counts no request of the `admin` group (bans,
   * blocks and the deny-list still apply to it).
   */
  groups?: Record<string, GroupOptions>;
  /**
   * Proxies whose forwarded headers are believed. Without it only the socket peer address is used,
   * whatever `X-Forwarded-For`, `Forwarded` or `X-Real-IP` say.
   * @default false
   */
  trustProxy?: TrustProxyOptions | false;
  /**
   * IPv6 clients are counted per network of this prefix length, since one host usually holds a
   * whole /64. 128 counts each address.
   * @default 64
   */
  ipv6PrefixLength?: number;
  /**
   * Send the IETF `RateLimit-Policy` and `RateLimit` headers.
   * @default true
   */
  standardHeaders?: boolean;
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
   * reset) for the rule with the fewest requests left.
   * @default false
   */
  legacyHeaders?: boolean;
  /**
   * Where bans, blocks and the allow/deny lists are enforced. `'all-routes'`: on every target,
   * including routes without rules and routes under `@SkipThrottle()` (the admin API excepted, so
   * that an operator can always lift a ban). `'limited-routes'`: only where at least one rule counts.
   * @default 'all-routes'
   */
  enforceBans?: BanEnforcement;
  /** Return true to let a request through every rule without counting it (and without checking bans or lists). */
  skipIf?: (context: C) => boolean | Promise<boolean>;
  /** Time source. @default the system clock */
  clock?: Clock;
  /** The `detail` of the 429 body; a function receives the violated rule and seconds to wait. */
  errorMessage?: string | ((violation: RateLimitViolation) => string);
  /**
   * Where operational messages go (store down and up, violations that could not be recorded, failed
   * background writes). The Nest module uses Nest's `Logger('RateLimit')`.
   * @default the console
   */
  logger?: RampartLogger;
  /**
   * Shadow mode for every rule, and for bans, blocks and the deny-list: requests are counted,
   * violations recorded and escalation computed, and all of it reported (events, metrics, logs, the
   * stats API) as what would have been refused, but nothing is refused. Escalation in shadow mode
   * blocks and bans `shadow:<client key>`, never the client. No `RateLimit` header is sent for a
   * shadow rule, and no `Retry-After`: the response is what it would be without the rule. The
   * outage policy (`onStoreError`) still applies. The environment variable `RAMPART_SHADOW`
   * (`true`/`false`) wins over this option, to switch it without a deploy.
   * @default false
   */
  shadow?: boolean;
  /**
   * In-process statistics behind the Prometheus metrics, the admin API's stats and the alerts
   * (see `StatsOptions`); `false` turns them off (none of those can then be used).
   * @default { bucketMs: 10_000, retentionMs: 900_000, reportIntervalMs: 5_000, nearLimitRatio: 0.8, topKeys: 20, maxRuleLabels: 100, maxProtocolLabels: 16 }
   */
  stats?: StatsOptions | false;
  /**
   * Alerts when the block rate or the violations per minute reach a threshold, sent to signed JSON
   * webhooks and Slack-compatible ones, at most once per cooldown (see `AlertOptions`). Needs `stats`.
   * @default undefined (no alerts)
   */
  alerts?: AlertOptions | false;
  /**
   * The event log: a line with structured fields for each violation, block, ban and unban, at a
   * level per kind (`false` leaves a kind out); a client key's violations are logged once per
   * `intervalMs`, then summed up in one line (see `LoggingOptions`). `false` turns it off.
   * @default { violation: 'warn', block: 'warn', ban: 'warn', unban: 'log', intervalMs: 60_000, maxKeys: 10_000 }
   */
  logging?: LoggingOptions | false;
  /**
   * DDoS detection (see `DdosOptions` and the README's "DDoS detection"): when the requests this
   * instance decided within `windowMs` reach `threshold`, clients whose suspicion score (request
   * rate, burstiness, distinct endpoints, error ratio) reaches `scoreThreshold` are announced and
   * blocked for `blockDurationMs` through the shared ban store. `true` takes every default.
   * @default undefined (off)
   */
  ddos?: DdosOptions | boolean;
}

/** Where bans, blocks and the allow/deny lists are enforced (see `enforceBans`). */
export type BanEnforcement = 'all-routes' | 'limited-routes';

/** Describes a denied request (for error messages and hooks). */
export interface RateLimitViolation {
  readonly rule: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly retryAfterSeconds: number;
  /** Present when the client is inside a block started by the rule's `blockDurationMs`. */
  readonly blockedUntilMs?: number;
}
