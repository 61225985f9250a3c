import type { RampartLogger } from '../core/logger.js';
import type { StoreRule } from '../core/rule-decision.js';
import { isThenable } from '../core/thenable.js';
import * as messages from '../errors/adaptive-messages.js';
import type { Counted } from '../protection/store-gateway.js';
import { withTimeout } from '../protection/store-health.js';
import type { AdaptiveStore } from '../storage/adaptive-store.interface.js';
import {
  countRefusal,
  countRequest,
  effectiveLimit,
  freshState,
  isAdaptiveState,
  roll,
  runningZ,
  scaledBound,
  type AdaptiveSettings,
  type AdaptiveState,
} from './adaptive-math.js';
import { adaptedRule } from './adapted-rule.js';

/** A read that threw. */
const FAILED = Symbol('failed');
/** Clients whose state one instance holds in memory, per default. */
const MAX_CLIENTS = 10_000;

/** Counts a request under the rule it is given (the store gateway's `consume`). */
export type Consume = (rule: StoreRule) => Counted | Promise<Counted>;

/** One client's state under one rule, as this instance holds it. */
interface Entry {
  /** Its store key. */
  readonly key: string;
  readonly state: AdaptiveState;
  retentionMs: number;
  /** The last rule handed to the store, and what it was made from. */
  rule?: StoreRule;
  base?: StoreRule;
  limit?: number;
  floor?: number;
  /**
   * Whether the store's state of the client is unknown (its read failed or timed out): this state
   * started fresh, and writing it back would erase what the store holds (a penalised trust) for
   * good. It is not written; the store is read again when an interval closes.
   */
  unverified?: boolean;
}

/** What the admin client view shows of one client under one adaptive rule. */
export interface AdaptiveView {
  /** μ: the client's baseline, requests per interval. */
  readonly baseline: number;
  /** σ = √variance (the z-score divides by at least `minDeviation`). */
  readonly deviation: number;
  readonly variance: number;
  /** z-score of the last closed interval. */
  readonly zScore: number;
  /** z-score of the open interval's count so far (0 during the warm-up). */
  readonly currentZScore: number;
  readonly trust: number;
  /** The limit the client's next request is counted under. */
  readonly effectiveLimit: number;
  readonly baseLimit: number;
  readonly intervalMs: number;
  /** Start of the open interval (epoch ms) and its requests so far. */
  readonly intervalStartMs: number;
  readonly requestsInInterval: number;
  /** Closed intervals folded into the baseline. */
  readonly samples: number;
  /** Whether the open interval was already penalised as an anomaly, for a refusal. */
  readonly anomaly: boolean;
  readonly refused: boolean;
}

export interface AdaptiveLimitsOptions {
  /** Longest wait for a read of a client's state on a request (the module's `storeTimeoutMs`). */
  readonly timeoutMs: number;
  readonly logger: RampartLogger;
  /** Clients held in memory; when full, the least recently met is written back and let go. @default 10_000 */
  readonly maxClients?: number;
}

/**
 * The adaptive limits of one instance: each client's state under each adaptive rule, held in a
 * bounded map and written back to the store once per client and interval (when its first request
 * of a later interval closes the one before), read from the store when the instance meets a client
 * it does not hold (its first request here, or after it was let go). So the store sees at most one
 * read and one write per client and interval, never one per request; a fleet's instances each adapt
 * on the requests they see, and the store holds the last state written.
 */
export class AdaptiveLimits {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  /** States handed to the store whose write has not settled: a client met again meanwhile resumes from them, not from a stale read. */
  private readonly writing = new Map<string, AdaptiveState>();
  /** The entry last moved to the end of `entries` (most recently met): meeting it again moves nothing. */
  private newest: Entry | undefined;
  private readonly maxClients: number;
  /** Whether the last store call failed: a failure is logged once until a call succeeds. */
  private failing = false;

  constructor(
    private readonly store: AdaptiveStore,
    private readonly options: AdaptiveLimitsOptions,
  ) {
    this.maxClients = options.maxClients ?? MAX_CLIENTS;
  }

  /** Clients held in memory. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Counts one request of store key `key` under a rule with `settings`: the client's interval rolls
   * (written back when one closed), the request is counted (an anomaly cuts the trust at once),
   * `consume` counts it under the client's effective rule, and a refusal cuts the trust. The
   * effective rule's capacity is never below the request's `cost`, so that a request can always
   * pass on an empty counter, whatever the trust (a cost function's answer above `min` included).
   */
  count(key: string, settings: AdaptiveSettings, base: StoreRule, nowMs: number, cost: number, consume: Consume): Counted | Promise<Counted> {
    const held = this.entries.get(key);
    if (held !== undefined && held !== this.newest) {
      // Least recently met first: a busy client is not let go before idle ones.
      this.entries.delete(key);
      this.entries.set(key, (this.newest = held));
    }
    const entry = held ?? this.load(key, settings, nowMs);
    if (isThenable(entry)) return entry.then((e) => this.counted(e, settings, base, nowMs, cost, consume));
    return this.counted(entry, settings, base, nowMs, cost, consume);
  }

  /** The client's state under a rule at `nowMs` (idle intervals folded), without counting; undefined when none is known. */
  async view(key: string, settings: AdaptiveSettings, base: StoreRule, nowMs: number): Promise<AdaptiveView | undefined> {
    const held = this.entries.get(key)?.state ?? this.writing.get(key);
    const stored = held ?? (await withTimeout(() => Promise.resolve(this.store.get(key, nowMs)), this.options.timeoutMs));
    if (stored === undefined || !isAdaptiveState(stored)) return undefined;
    const state = { ...stored };
    roll(state, settings, nowMs);
    return {
      baseline: state.mean,
      deviation: Math.sqrt(state.variance),
      variance: state.variance,
      zScore: state.z,
      currentZScore: runningZ(state, settings),
      trust: state.trust,
      effectiveLimit: effectiveLimit(state, settings, base.limit),
      baseLimit: base.limit,
      intervalMs: settings.intervalMs,
      intervalStartMs: state.startMs,
      requestsInInterval: state.count,
      samples: state.samples,
      anomaly: (state.flags & 1) !== 0,
      refused: (state.flags & 2) !== 0,
    };
  }

  /** `count` once the client's state is held. */
  private counted(entry: Entry, settings: AdaptiveSettings, base: StoreRule, nowMs: number, cost: number, consume: Consume): Counted | Promise<Counted> {
    const { state } = entry;
    entry.retentionMs = settings.retentionMs;
    // A client away longer than the retention is forgotten here as in the store.
    if (nowMs >= state.startMs + settings.intervalMs + settings.retentionMs) Object.assign(state, freshState(settings, nowMs));
    if (roll(state, settings, nowMs)) this.save(entry, nowMs);
    countRequest(state, settings);
    const limit = effectiveLimit(state, settings, base.limit);
    const floor = Math.max(scaledBound(settings.min, settings, base.limit), cost);
    if (entry.base !== base || entry.limit !== limit || entry.floor !== floor) {
      Object.assign(entry, { base, limit, floor });
      entry.rule = adaptedRule(base, limit, floor);
    }
    const answer = consume(entry.rule!);
    if (isThenable(answer)) return answer.then((a) => (this.answered(state, settings, a), a));
    this.answered(state, settings, answer);
    return answer;
  }

  /**
   * A refusal by the rule's algorithm cuts the trust; not one by a running block, nor an estimated
   * one (the store gateway's answer to calls piling up while the store is slow: the requests ahead
   * of it are counted, and their own refusal cuts the trust if there is one).
   */
  private answered(state: AdaptiveState, settings: AdaptiveSettings, answer: Counted): void {
    if (typeof answer === 'object' && !answer.allowed && !answer.ongoingBlock && !answer.estimated) countRefusal(state, settings);
  }

  /** The client's state from the store (or a fresh one), held from now on. Concurrent first requests share one read. */
  private load(key: string, settings: AdaptiveSettings, nowMs: number): Entry | Promise<Entry> {
    const pending = this.loading.get(key);
    if (pending !== undefined) return pending;
    const written = this.writing.get(key);
    if (written !== undefined) return this.remember(key, { ...written }, settings, nowMs);
    let read: ReturnType<AdaptiveStore['get']> | typeof FAILED;
    try {
      read = this.store.get(key, nowMs);
    } catch (error) {
      this.failed('read', key, error);
      read = FAILED;
    }
    if (read === FAILED) return this.remember(key, freshState(settings, nowMs), settings, nowMs, true);
    if (!isThenable(read)) return this.remember(key, this.usable(key, read, settings, nowMs), settings, nowMs);
    const loaded = withTimeout(() => read as Promise<AdaptiveState | undefined>, this.options.timeoutMs)
      .then(
        (stored) => ((this.failing = false), this.remember(key, this.usable(key, stored, settings, nowMs), settings, nowMs)),
        (error: unknown) => (this.failed('read', key, error), this.remember(key, freshState(settings, nowMs), settings, nowMs, true)),
      )
      .finally(() => this.loading.delete(key));
    this.loading.set(key, loaded);
    return loaded;
  }

  /** A stored state taken field by field when it is one, a fresh state otherwise. */
  private usable(key: string, stored: unknown, settings: AdaptiveSettings, nowMs: number): AdaptiveState {
    if (stored === undefined || stored === null) return freshState(settings, nowMs);
    if (!isAdaptiveState(stored)) {
      this.options.logger.warn(messages.adaptiveStateDiscarded(key));
      return freshState(settings, nowMs);
    }
    return copied(stored);
  }

  private remember(key: string, state: AdaptiveState, settings: AdaptiveSettings, nowMs: number, unverified = false): Entry {
    if (this.entries.size >= this.maxClients) {
      // The least recently met goes, written back first so that nothing it learnt is lost.
      const oldest = this.entries.values().next().value as Entry;
      this.entries.delete(oldest.key);
      if (!oldest.unverified) this.save(oldest, nowMs);
    }
    const entry: Entry = { key, state, retentionMs: settings.retentionMs, ...(unverified ? { unverified } : {}) };
    this.entries.set(key, (this.newest = entry));
    return entry;
  }

  /**
   * Reads the store again for a client whose first read failed, off the request path: a stored
   * state replaces the one held (the next request rolls it to now); none lets the held one be
   * written from now on; a failure leaves it unverified until the next interval.
   */
  private verify(entry: Entry, nowMs: number): void {
    const { key } = entry;
    withTimeout(() => Promise.resolve(this.store.get(key, nowMs)), this.options.timeoutMs).then(
      (stored) => {
        this.failing = false;
        if (!entry.unverified) return;
        entry.unverified = false;
        if (stored === undefined || stored === null) return this.save(entry, nowMs);
        if (isAdaptiveState(stored)) Object.assign(entry.state, copied(stored));
        else this.options.logger.warn(messages.adaptiveStateDiscarded(key));
      },
      (error: unknown) => this.failed('read', key, error),
    );
  }

  /** Writes a copy of the state back, off the request path; a failure is logged, never thrown. */
  private save(entry: Entry, nowMs: number): void {
    if (entry.unverified) return this.verify(entry, nowMs);
    const { key } = entry;
    const snapshot = { ...entry.state };
    const expiresAtMs = nowMs + entry.retentionMs;
    let written: void | Promise<void>;
    try {
      written = this.store.put(key, snapshot, expiresAtMs);
    } catch (error) {
      this.failed('write', key, error);
      return;
    }
    if (isThenable(written)) {
      this.writing.set(key, snapshot);
      withTimeout(() => written as Promise<void>, this.options.timeoutMs)
        .then(
          () => (this.failing = false),
          (error: unknown) => this.failed('write', key, error),
        )
        .finally(() => this.writing.get(key) === snapshot && this.writing.delete(key));
    }
  }

  private failed(operation: 'read' | 'write', key: string, error: unknown): void {
    if (!this.failing) this.options.logger.warn(messages.adaptiveStoreFailed(operation, key, error));
    this.failing = true;
  }
}

/** The fields of a state, and nothing else of a stored object. */
function copied({ startMs, count, flags, samples, mean, variance, z, trust }: AdaptiveState): AdaptiveState {
  return { startMs, count, flags, samples, mean, variance, z, trust };
}
