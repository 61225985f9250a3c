import type { Page, PageRequest } from './ban-store.interface.js';

/** One request over a limit. Times are epoch milliseconds. */
export interface Violation {
  /** Client key (tracker) of the offender. */
  readonly key: string;
  /** Name of the rule exceeded. */
  readonly rule: string;
  /** `Controller.handler` or the rule's scope. */
  readonly route: string;
  readonly method: string;
  /** Requests counted against the rule when it denied (limit + how far over). */
  readonly hits: number;
  readonly limit: number;
  readonly atMs: number;
}

export interface ViolationFilter {
  readonly key?: string;
  readonly rule?: string;
  /** Inclusive lower bound. */
  readonly fromMs?: number;
  /** Exclusive upper bound. */
  readonly toMs?: number;
}

/** Violation history, shared by every instance, kept for a retention period. */
export interface ViolationStore {
  record(violation: Violation): Promise<void>;
  /** Newest first. */
  list(filter: ViolationFilter, page: PageRequest): Promise<Page<Violation>>;
  /** Violations of `key` at or after `sinceMs`. */
  count(key: string, sinceMs: number): Promise<number>;
  /** Deletes the history of `key`; returns how many were removed. */
  deleteByKey(key: string): Promise<number>;
  /** Deletes everything older than `beforeMs`; returns how many were removed. */
  purge(beforeMs: number): Promise<number>;
}
