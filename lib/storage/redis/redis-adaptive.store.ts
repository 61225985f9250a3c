import { isAdaptiveState, type AdaptiveState } from '../../adaptive/adaptive-math.js';
import type { AdaptiveStore } from '../adaptive-store.interface.js';
import { checkKey, checkTime } from '../store-input.js';
import { adaptiveKey, checkPrefix, keyTtlMs } from './redis-keys.js';
import { RedisScript, type ScriptClient } from './redis-script.js';

/** Options of `RedisAdaptiveStore`. */
export interface RedisAdaptiveStoreOptions {
  /** The start of every key (`<prefix>ad:{<store key>}`). @default 'rampart:' */
  prefix?: string;
}

/** KEYS: the state's key. ARGV: `{"s":state,"e":expiresAtMs}`, TTL ms. */
const PUT = new RedisScript('rampart-adaptive-put', "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1");
/** KEYS: the state's key. Its JSON, or false. */
const GET = new RedisScript('rampart-adaptive-get', "return redis.call('GET', KEYS[1])");

/**
 * The state of adaptive limits in Redis (or Redis Cluster): one string per store key,
 * `<prefix>ad:{<store key>}` (the store key its own hash tag, as for counters), holding the state and
 * its expiry as JSON written by JavaScript. `put` and `get` are one script each.
 */
export class RedisAdaptiveStore implements AdaptiveStore {
  private readonly prefix: string;

  constructor(
    private readonly client: ScriptClient,
    options: RedisAdaptiveStoreOptions = {},
  ) {
    this.prefix = checkPrefix(options.prefix, 'RedisAdaptiveStore: prefix');
  }

  async get(key: string, nowMs: number): Promise<AdaptiveState | undefined> {
    checkTime(nowMs, 'nowMs');
    const json = await GET.run(this.client, [this.keyOf(key)], []);
    if (typeof json !== 'string') return undefined;
    const stored = JSON.parse(json) as { s?: unknown; e?: unknown };
    return typeof stored.e === 'number' && stored.e > nowMs && isAdaptiveState(stored.s) ? stored.s : undefined;
  }

  async put(key: string, state: AdaptiveState, expiresAtMs: number): Promise<void> {
    checkTime(expiresAtMs, 'expiresAtMs');
    await PUT.run(this.client, [this.keyOf(key)], [JSON.stringify({ s: state, e: expiresAtMs }), keyTtlMs(state.startMs, expiresAtMs)]);
  }

  private keyOf(key: string): string {
    return adaptiveKey(this.prefix, checkKey(key));
  }
}
