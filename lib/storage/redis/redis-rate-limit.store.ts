import { getAlgorithm, type AlgorithmName } from '../../core/algorithms/index.js';
import { refundable, type ConsumeResult, type StoreRule } from '../../core/rule-decision.js';
import { KnownBlocks } from '../known-blocks.js';
import type { RateLimitStore } from '../rate-limit-store.interface.js';
import { checkPrefix, counterKey } from './redis-keys.js';
import { RedisScript, type ScriptClient } from './redis-script.js';
import { RATE_LIMIT_DECIDE_FAMILY, RATE_LIMIT_DECIDE_SOURCES, RATE_LIMIT_RESET_SOURCE } from './scripts/rate-limit.lua.js';

/** Options of the Redis rate-limit store. */
export interface RedisRateLimitStoreOptions {
  /** The prefix of every key; the counters of store key `k` are `<prefix>rl:{k}`. @default 'rampart:' */
  prefix?: string;
  /**
   * Most rule blocks remembered to answer without a round trip (a block forgotten here is still
   * enforced from Redis). 0 remembers none. @default 10_000
   */
  hintCacheSize?: number;
}

/** The decision scripts, one per family of algorithms (see RATE_LIMIT_DECIDE_SOURCES). */
const DECIDE_BY_FAMILY = Object.fromEntries(
  Object.entries(RATE_LIMIT_DECIDE_SOURCES).map(([family, source]) => [family, new RedisScript(`rampart-rate-limit-decide-${family}`, source)]),
) as { readonly [F in keyof typeof RATE_LIMIT_DECIDE_SOURCES]: RedisScript };
const RESET = new RedisScript('rampart-rate-limit-reset', RATE_LIMIT_RESET_SOURCE);

/**
 * The script's reply: allowed, limit, remaining, resetAtMs, retryAfterMs, blockedUntilMs ('' for
 * none), ongoing block; each number an integer reply, or text when it is not an exact integer.
 */
type DecideReply = [number, Num, Num, Num, Num, Num | '', number];
type Num = number | string;

/**
 * Rate-limit state in Redis or Redis Cluster, shared by every instance of an app. Each decision is
 * one Lua script on one key (`EVALSHA`, one round trip, atomic on the server), which decides with
 * the same conventions and arithmetic as the pure algorithms of `core/algorithms` (see
 * `scripts/`), so it answers exactly what the memory store answers.
 *
 * Time is the app's clock (`nowMs`), not the server's: the state records when it expires in that
 * clock, and Redis's own expiry is set relative to it.
 *
 * Round trips: one per decision; none while a rule block is known locally (a denial that started a
 * block, or met one, is remembered until the block ends). Such an answer comes from the block alone,
 * as the Mongo store's does: its `limit` and `resetAtMs` are those of a key with no counts.
 */
export class RedisRateLimitStore implements RateLimitStore {
  /** The scripts the store runs, for a storage that loads them ahead of the first decision. */
  readonly scripts: readonly RedisScript[] = [...Object.values(DECIDE_BY_FAMILY), RESET];
  private readonly prefix: string;
  /** Rule blocks known locally: key → blocked until (epoch ms). */
  private readonly blocks: KnownBlocks;

  constructor(
    private readonly client: ScriptClient,
    options: RedisRateLimitStoreOptions = {},
  ) {
    this.prefix = checkPrefix(options.prefix, 'RedisRateLimitStore: prefix');
    const hintCacheSize = options.hintCacheSize ?? 10_000;
    if (!Number.isSafeInteger(hintCacheSize) || hintCacheSize < 0) {
      throw new RangeError(`RedisRateLimitStore: hintCacheSize must be an integer of 0 or more, got ${String(options.hintCacheSize)}.`);
    }
    this.blocks = new KnownBlocks(hintCacheSize);
  }

  /** Answers a key known to be blocked at once (no promise); otherwise one script run. */
  consume(key: string, rule: StoreRule, nowMs: number, cost: number): ConsumeResult | Promise<ConsumeResult> {
    const known = this.blocks.answer(key, rule, nowMs);
    if (known !== undefined) return known;
    return this.decide(key, rule, nowMs, cost);
  }

  async get(key: string, rule: StoreRule, nowMs: number): Promise<ConsumeResult | null> {
    const reply = await decideScript(rule.algorithm).run(this.client, [this.keyOf(key)], argumentsOf('peek', rule, nowMs, 1));
    return reply === null || reply === undefined ? null : resultOf(reply as DecideReply);
  }

  /** One script run, as `refundRule` gives back; a rule block stays (also the one known locally). */
  async refund(key: string, rule: StoreRule, nowMs: number, cost: number, reservedAtMs: number): Promise<void> {
    if (!refundable(nowMs, cost, reservedAtMs)) return;
    await decideScript(rule.algorithm).run(this.client, [this.keyOf(key)], [...argumentsOf('refund', rule, nowMs, cost), String(reservedAtMs)]);
  }

  async reset(key: string): Promise<void> {
    this.blocks.delete(key);
    await RESET.run(this.client, [this.keyOf(key)], []);
  }

  private async decide(key: string, rule: StoreRule, nowMs: number, cost: number): Promise<ConsumeResult> {
    const reply = await decideScript(rule.algorithm).run(this.client, [this.keyOf(key)], argumentsOf('consume', rule, nowMs, cost));
    const result = resultOf(reply as DecideReply);
    if (result.blockedUntilMs !== undefined) this.blocks.remember(key, result.blockedUntilMs);
    return result;
  }

  private keyOf(key: string): string {
    return counterKey(this.prefix, key);
  }
}

/** The script that decides for `algorithm`; throws for a name that is not an algorithm (e.g. from plain JS). */
function decideScript(algorithm: AlgorithmName): RedisScript {
  getAlgorithm(algorithm);
  return DECIDE_BY_FAMILY[RATE_LIMIT_DECIDE_FAMILY[algorithm]];
}

/** The script's arguments; numbers as `String(n)`, the shortest text that reads back as the same double. */
function argumentsOf(mode: 'consume' | 'peek' | 'refund', rule: StoreRule, nowMs: number, cost: number): string[] {
  return [
    mode,
    rule.algorithm,
    String(rule.limit),
    String(rule.windowMs),
    rule.burst === undefined ? '' : String(rule.burst),
    String(rule.blockDurationMs),
    String(nowMs),
    String(cost),
  ];
}

/** The decision from the script's reply (`Number` reads an integer reply and text alike). */
function resultOf([allowed, limit, remaining, resetAtMs, retryAfterMs, blockedUntilMs, ongoing]: DecideReply): ConsumeResult {
  return {
    allowed: allowed === 1,
    limit: Number(limit),
    remaining: Number(remaining),
    resetAtMs: Number(resetAtMs),
    retryAfterMs: Number(retryAfterMs),
    ...(blockedUntilMs === '' ? {} : { blockedUntilMs: Number(blockedUntilMs) }),
    ...(ongoing === 1 ? { ongoingBlock: true } : {}),
  };
}
