import type { AlgorithmName } from '../core/algorithms/algorithm.interface.js';
import type { EscalationPolicy } from '../core/escalation.js';
import type { CountIf } from '../outcome/request-outcome.js';
import type { AdaptiveLimitOptions } from '../adaptive/adaptive-options.js';

/**
 * Resolves the identity a rule counts against: a user id, an API key, anything from the request.
 * Return `undefined` (or an empty string) to fall back to the client address. A number (a numeric
 * user id) counts as its text; any other non-string value falls back to the address.
 *
 * `C` is what the adapter hands to hooks: Nest's `ExecutionContext` in the Nest module, whatever the
 * caller passes as `context` when the engine is used on its own. `address` is the client address as
 * Rampart resolved it (canonical; forwarded headers believed only from trusted proxies), null when
 * unknown: read it here rather than the request's headers.
 */
export type ClientKeyResolver<C = unknown> = (context: C, address: string | null) => string | undefined | Promise<string | undefined>;

/**
 * What a rule answers while the rate-limit store is down (failing or slower than `storeTimeoutMs`):
 * `'allow'` admits the request without counting it (no rate-limit headers); `'deny'` answers 503
 * with `Retry-After: 1`.
 */
export type StoreErrorPolicy = 'allow' | 'deny';

/** A rule's value for one request (see the rule's `limits`): sync or async. */
export type RequestValue<C, T> = (context: C) => T | Promise<T>;

/** A rule's limit, window and burst for one request, as a `limits` function returns them; a field left out keeps the rule's own. */
export interface RequestLimits {
  limit?: number;
  windowMs?: number;
  burst?: number;
}

/**
 * The per-key cache of a rule's dynamic limits: a request whose key was resolved less than `ttlMs`
 * ago (on the module's clock) reuses that answer, and requests of one key that arrive while it is
 * being resolved share the one lookup. A failed lookup is not cached.
 */
export interface RequestLimitsCache<C = unknown> {
  /** How long an answer is reused, in milliseconds. */
  ttlMs: number;
  /** Keys remembered at most; the oldest is forgotten first. @default 10_000 */
  maxKeys?: number;
  /**
   * What answers are cached by: an API key, a tenant, a plan id. A result that is not a non-empty
   * string falls back to the client key.
   * @default the client key the rule counts
   */
  key?: (context: C) => string | undefined;
}

/**
 * One rate-limit rule. Durations are milliseconds throughout.
 *
 * @example
 * { name: 'login', limit: 5, windowMs: 60_000, algorithm: 'fixed-window', blockDurationMs: 300_000 }
 */
export interface RateLimitRule<C = unknown> {
  /**
   * Identifies the rule in headers, errors and keys; a `@Throttle` with the same name overrides it.
   * Letters, digits, `_`, `-` and `.`, at most 64 characters.
   * @default 'default'
   */
  name?: string;
  /**
   * Requests (cost units) allowed per window. For token bucket and GCRA: the sustained rate per
   * window. A function of the request (a plan looked up by API key) needs `fallback.limit`.
   */
  limit: number | RequestValue<C, number>;
  /** Window length in milliseconds, or a function of the request (it needs `fallback.windowMs`). */
  windowMs: number | RequestValue<C, number>;
  /**
   * How requests are counted.
   * @default 'sliding-window'
   */
  algorithm?: AlgorithmName;
  /** Token bucket and GCRA: how many requests may arrive at once, or a function of the request (it needs `fallback.burst`). @default limit */
  burst?: number | RequestValue<C, number>;
  /**
   * The limit, window and burst of one request, in one call (one lookup of the client's plan for all
   * three). A field it leaves out keeps the rule's own, and the rule's own `limit` and `windowMs`
   * (numbers) are what the request is counted by when it fails. Not with per-field functions.
   *
   * @example
   * { name: 'plan', limit: 60, windowMs: 60_000, limits: async (ctx) => (await plans.byKey(apiKey(ctx))).limits, limitsCache: { ttlMs: 30_000 } }
   */
  limits?: RequestValue<C, RequestLimits>;
  /**
   * What a request is counted by when a function of `limit`, `windowMs` or `burst` fails: throws,
   * rejects, or gives anything but a positive safe integer (NaN, 0, a negative or fractional number,
   * Infinity, text). Required for each field given as a function; the whole request then takes the
   * rule's fallback values, never a mix. The failure is logged (at most once a minute per rule).
   */
  fallback?: RequestLimits;
  /** Cache the dynamic limits per key for a while (see `RequestLimitsCache`). @default undefined (resolved on every request) */
  limitsCache?: RequestLimitsCache<C>;
  /**
   * After this rule denies a request, deny every request from the client for this long.
   * @default 0 (no block: the client is admitted again as soon as the algorithm allows)
   */
  blockDurationMs?: number;
  /**
   * Units each request consumes, or a function of the request. A function's result is rounded up to
   * whole units, and anything below 1 (or not a number) counts as 1.
   * @default 1
   */
  cost?: number | ((context: C) => number | Promise<number>);
  /** Identity for this rule only; overrides the module's `keyResolver`. */
  keyResolver?: ClientKeyResolver<C>;
  /**
   * Count across every route that names the same scope (one pool shared by several routes)
   * instead of per route.
   * @default undefined (per route)
   */
  scope?: string;
  /** Return true to let a request through this rule without counting it. */
  skipIf?: (context: C) => boolean | Promise<boolean>;
  /**
   * Count IPv6 clients by networks of this prefix length under this rule, instead of the module's
   * `ipv6PrefixLength` (IPv4 clients, and clients a `keyResolver` names, are counted as by any
   * rule). A second rule with a shorter prefix and a higher limit is an aggregate limit per wider
   * network: one /48 holds 65,536 /64s, so a client that owns one could otherwise take 65,536 times
   * the per-/64 limit. A block or ban that escalation gives such a rule's violations is on the
   * network's key (`2001:db8:1::/48`) and refuses every client in it.
   * @default the module's `ipv6PrefixLength`
   *
   * @example
   * rules: [{ limit: 100, windowMs: 60_000 }, { name: 'per-48', limit: 2_000, windowMs: 60_000, ipv6PrefixLength: 48 }]
   */
  ipv6PrefixLength?: number;
  /**
   * Escalation of this rule's violations: fields merged over the module's `escalation` (over the
   * defaults when the module's is off), or `false` for a rule whose violations never lead to a
   * block: they are announced to `events` but not recorded, so they do not count towards the
   * blocks of other rules either.
   * @default the module's `escalation`
   *
   * @example
   * { name: 'login', limit: 5, windowMs: 60_000, escalation: { blockAfterViolations: 2, blockDurationMs: 3_600_000 } }
   */
  escalation?: Partial<EscalationPolicy> | false;
  /**
   * What this rule answers while the store is down: `'allow'` (fail open) or `'deny'` (fail
   * closed: 503). Ignored when the module's `storeFallback` is on.
   * @default the module's `onStoreError`
   *
   * @example
   * { name: 'login', limit: 5, windowMs: 60_000, onStoreError: 'deny' }
   */
  onStoreError?: StoreErrorPolicy;
  /**
   * The groups (see the module's `groupResolver`) whose clients this rule counts. Without it the rule
   * counts every group that no other rule of its list names: `[{ limit: 10, windowMs: 1_000 },
   * { groups: ['partner'], limit: 100, windowMs: 1_000 }]` gives partners 100 a second and everyone
   * else 10.
   * @default every group no other rule names
   */
  groups?: readonly string[];
  /**
   * Shadow mode: the rule counts every request and its violations are reported (events, metrics,
   * logs, the stats API) as "would have limited", with the escalation they would have caused as
   * "would have blocked / banned", but it never refuses a request and sends no header. For rolling
   * out a new limit safely. The module's `shadow` puts every rule in shadow mode.
   * @default false
   */
  shadow?: boolean;
  /**
   * Count only some outcomes: `'failed'` (an HTTP status of 400 or more, or a thrown error),
   * `'succeeded'`, or a function of the outcome returning true to count it. Each request still
   * takes its units before the handler runs (requests in flight can never pass the limit), and
   * gives them back once its outcome is one the rule does not count. A refusal is a violation (and
   * starts `blockDurationMs`) only once counted outcomes alone fill the limit; one by units that
   * requests in flight hold is a 429 with `Retry-After: 1`, or waits for them (`waitMs`). A function that throws counts
   * the request. A function also gets the request's context: HTTP outcomes are told apart by
   * their status only, so a login that answers a failure with a redirect or a 200 page needs one
   * that reads what the handler left (see "Counting only failures" in the README).
   * @default undefined (every request counts)
   *
   * @example
   * { name: 'login-failures', limit: 5, windowMs: 900_000, countIf: 'failed' }
   */
  countIf?: CountIf<C>;
  /**
   * With `countIf`: count consecutive outcomes only. An outcome the rule does not count resets the
   * client's count under it (a successful login forgives the failures before it).
   * @default false
   */
  consecutive?: boolean;
  /**
   * With `countIf`: how long a request refused only by units that requests in flight hold may wait
   * for them to come back (a burst of slow successful logins then gets through instead of a 429),
   * at most the rule's limit of requests per client and instance waiting at once. 0: refused at
   * once, with `Retry-After: 1`. At most 60 000.
   * @default 0
   */
  waitMs?: number;
  /**
   * Adaptive limit: each client's limit is this rule's `limit` times its trust factor, which
   * follows its behaviour (a moving average of its request rate, a z-score anomaly test, its
   * violations); `true` takes every default. See "Adaptive limits" in the README.
   * @default undefined (the same limit for every client)
   *
   * @example
   * { name: 'api', limit: 100, windowMs: 60_000, adaptive: { learningRate: 0.1, anomalyThreshold: 3, min: 10 } }
   */
  adaptive?: AdaptiveLimitOptions | boolean;
}

/** A rule whose limit, window and burst are numbers (a configuration file's, the CLI's). */
export type FixedRateLimitRule<C = unknown> = Omit<RateLimitRule<C>, 'limit' | 'windowMs' | 'burst' | 'limits' | 'fallback' | 'limitsCache'> & {
  limit: number;
  windowMs: number;
  burst?: number;
};

/** What `@Throttle` accepts: a full rule, or fields overriding the module rule of the same name. */
export type ThrottleRule<C = unknown> = Partial<RateLimitRule<C>>;
