import { Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { systemClock, type Clock } from '../core/clock.js';
import type { ThrottlerStorage, ThrottlerStorageRecord } from './throttler-storage.interface.js';

/**
 * Kept for compatibility with `@nestjs/throttler`, whose storage sweeps idle records on an
 * interval of this many milliseconds. `ThrottlerStorageService` here runs no timer at all.
 */
export const DEFAULT_SWEEP_INTERVAL = 60000;

/** The state kept per key, as `ThrottlerStorageService.storage` exposes it. */
export interface ThrottlerStorageOptions {
  /** Live hits per throttler name. */
  totalHits: Map<string, number>;
  /** Epoch ms at which the key's counting period ends (renewed by the first request after it). */
  expiresAt: number;
  isBlocked: boolean;
  /** Epoch ms at which the block ends (0 if never blocked). */
  blockExpiresAt: number;
}

/** Options of `new ThrottlerStorageService(options)`; none is needed. */
export interface ThrottlerStorageServiceOptions {
  /** The source of time. @default the system clock (`Date.now()`) */
  clock?: Clock;
  /**
   * Most keys kept at once. Past it the least recently used key is forgotten, so memory stays
   * bounded whatever the number of clients.
   * @default 100_000
   */
  maxKeys?: number;
}

/** Idle records examined (from the least recently used end) per call: amortised cleanup. */
const SWEEP_PER_CALL = 2;

class KeyRecord implements ThrottlerStorageOptions {
  readonly totalHits = new Map<string, number>();
  isBlocked = false;
  blockExpiresAt = 0;
  /** Per throttler name: the epoch ms at which each counted hit stops counting, ascending. */
  readonly hitExpiries = new Map<string, number[]>();

  constructor(public expiresAt: number) {}

  /** The live hits of `name` at `nowMs`, expired ones dropped. */
  liveHits(name: string, nowMs: number): number[] {
    let hits = this.hitExpiries.get(name);
    if (hits === undefined) {
      hits = [];
      this.hitExpiries.set(name, hits);
    }
    let expired = 0;
    while (expired < hits.length && hits[expired]! <= nowMs) expired++;
    if (expired > 0) hits.splice(0, expired);
    this.totalHits.set(name, hits.length);
    return hits;
  }

  addHit(name: string, hits: number[], expiresAtMs: number): void {
    // Usually the latest expiry; a throttler whose ttl varies per request may insert earlier.
    let at = hits.length;
    while (at > 0 && hits[at - 1]! > expiresAtMs) at--;
    hits.splice(at, 0, expiresAtMs);
    this.totalHits.set(name, hits.length);
  }

  clearHits(name: string, hits: number[]): void {
    hits.length = 0;
    this.totalHits.set(name, 0);
  }

  /** True when forgetting the record changes no future answer: no block, no live hit, period over. */
  isIdle(nowMs: number): boolean {
    if (this.isBlocked && this.blockExpiresAt > nowMs) return false;
    if (this.expiresAt > nowMs) return false;
    for (const hits of this.hitExpiries.values()) {
      if (hits.length > 0 && hits[hits.length - 1]! > nowMs) return false;
    }
    return true;
  }
}

/** Whole seconds from `nowMs` until `atMs`, rounded up. */
const secondsUntil = (atMs: number, nowMs: number): number => Math.ceil((atMs - nowMs) / 1000);

/**
 * The default in-memory storage: counts each hit for `ttl` milliseconds and blocks a key for
 * `blockDuration` once it goes over `limit`, answering as `@nestjs/throttler`'s storage does.
 *
 * Time comes from a clock and expiry is computed when a key is met, with a few idle keys swept
 * per call, so no timer is created and none keeps the process alive. A `Map` kept in least
 * recently used order holds at most `maxKeys` keys.
 */
@Injectable()
export class ThrottlerStorageService implements ThrottlerStorage, OnApplicationShutdown {
  private readonly records = new Map<string, KeyRecord>();
  private readonly clock: Clock;
  private readonly maxKeys: number;

  constructor(@Optional() options?: ThrottlerStorageServiceOptions) {
    this.clock = options?.clock ?? systemClock;
    this.maxKeys = options?.maxKeys ?? 100_000;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(`ThrottlerStorageService: maxKeys must be a positive integer, got ${String(options?.maxKeys)}.`);
    }
  }

  /** The records by key, least recently used first. */
  get storage(): Map<string, ThrottlerStorageOptions> {
    return this.records;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const now = this.clock.now();
    const record = this.recordFor(key, ttl, now);
    const hits = record.liveHits(throttlerName, now);

    let timeToExpire = secondsUntil(record.expiresAt, now);
    if (timeToExpire <= 0) {
      record.expiresAt = now + ttl;
      timeToExpire = secondsUntil(record.expiresAt, now);
    }

    const result =
      blockDuration <= 0
        ? this.countWithoutBlock(record, hits, throttlerName, ttl, limit, now, timeToExpire)
        : this.countWithBlock(record, hits, throttlerName, ttl, limit, blockDuration, now, timeToExpire);
    this.sweep(now);
    return result;
  }

  /** Forgets everything; nothing else to release, as no timer was started. */
  onApplicationShutdown(): void {
    this.records.clear();
  }

  /** The record of `key`, moved to the recently used end; a fresh one if absent or idle. */
  private recordFor(key: string, ttl: number, now: number): KeyRecord {
    const existing = this.records.get(key);
    if (existing !== undefined) this.records.delete(key);
    const record = existing !== undefined && !existing.isIdle(now) ? existing : new KeyRecord(now + ttl);
    this.records.set(key, record);
    return record;
  }

  /**
   * `blockDuration` 0: a request over the limit is refused but not counted, and may pass as soon
   * as the oldest counted hit expires.
   */
  private countWithoutBlock(
    record: KeyRecord,
    hits: number[],
    name: string,
    ttl: number,
    limit: number,
    now: number,
    timeToExpire: number,
  ): ThrottlerStorageRecord {
    const isBlocked = hits.length >= limit;
    if (!isBlocked) record.addHit(name, hits, now + ttl);
    return {
      totalHits: hits.length + (isBlocked ? 1 : 0),
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? (hits.length > 0 ? secondsUntil(hits[0]!, now) : timeToExpire) : 0,
    };
  }

  /**
   * The request going over the limit is counted and blocks the key for `blockDuration`; while
   * blocked nothing is counted. The first request after the block starts counting afresh.
   */
  private countWithBlock(
    record: KeyRecord,
    hits: number[],
    name: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    now: number,
    timeToExpire: number,
  ): ThrottlerStorageRecord {
    if (!record.isBlocked) {
      record.addHit(name, hits, now + ttl);
      if (hits.length > limit) {
        record.isBlocked = true;
        record.blockExpiresAt = now + blockDuration;
      }
    }
    const timeToBlockExpire = secondsUntil(record.blockExpiresAt, now);
    if (record.isBlocked && timeToBlockExpire <= 0) {
      record.isBlocked = false;
      record.clearHits(name, hits);
      record.addHit(name, hits, now + ttl);
    }
    return {
      totalHits: hits.length,
      timeToExpire,
      isBlocked: record.isBlocked,
      timeToBlockExpire: record.isBlocked ? timeToBlockExpire : 0,
    };
  }

  private sweep(now: number): void {
    while (this.records.size > this.maxKeys) {
      this.records.delete(this.records.keys().next().value as string);
    }
    let examined = 0;
    for (const [key, record] of this.records) {
      if (++examined > SWEEP_PER_CALL) break;
      if (record.isIdle(now)) this.records.delete(key);
    }
  }
}
