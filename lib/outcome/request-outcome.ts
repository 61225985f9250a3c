import type { RampartLogger } from '../core/logger.js';
import {
  badCountIf,
  consecutiveOnSlidingLog,
  consecutiveWithoutCountIf,
  countIfWithVaryingLimits,
  predicateThrew,
  storeWithoutRefund,
  badWaitMs,
  waitMsWithoutCountIf,
} from '../errors/outcome-messages.js';

/**
 * How a request ended, as an outcome-aware rule (`countIf`) sees it once its handler is done.
 * HTTP gives the final status, whatever produced it (the handler, an exception and its filter,
 * another guard); GraphQL and microservice handlers give the error they ended with, if any.
 */
export interface RequestOutcome<C = unknown> {
  /** The protocol the request came by: `http`, `graphql` or `rpc`. */
  readonly protocol: string;
  /** The final HTTP status (HTTP only). */
  readonly status?: number;
  /** What the handler threw or its stream failed with (GraphQL and microservice handlers). */
  readonly error?: unknown;
  /**
   * The request's context (Nest's `ExecutionContext`), once its response is done: what the handler
   * left on the request or the response (a login that answers a failure with a redirect or a 200
   * page is told apart by it, not by its status).
   */
  readonly context?: C;
}

/**
 * Which outcomes a rule counts: `'failed'` (an HTTP status of 400 or more, or an error),
 * `'succeeded'` (anything else), or a function returning true for an outcome to count.
 */
export type CountIf<C = unknown> = 'failed' | 'succeeded' | ((outcome: RequestOutcome<C>) => boolean);

export const COUNT_IF_WORDS: readonly string[] = ['failed', 'succeeded'];

/** Whether an outcome is a failure: an HTTP status of 400 or more, or an error. */
export function isFailure(outcome: RequestOutcome<unknown>): boolean {
  return outcome.error !== undefined || (outcome.status !== undefined && outcome.status >= 400);
}

/**
 * Checks a rule's `countIf` and `consecutive`; problems are appended. `varying`: the rule's limits
 * vary per request (dynamic or adaptive), which a refund cannot yet give back under.
 */
export function checkOutcomeRule(
  rule: { countIf?: unknown; consecutive?: unknown; waitMs?: unknown; algorithm?: unknown },
  path: string,
  problems: string[],
  varying = false,
): void {
  const { countIf, consecutive } = rule;
  if (countIf !== undefined && varying) problems.push(countIfWithVaryingLimits(path));
  if (countIf !== undefined && typeof countIf !== 'function' && !COUNT_IF_WORDS.includes(countIf as string))
    problems.push(badCountIf(`${path}.countIf`, countIf));
  if (consecutive !== undefined && typeof consecutive !== 'boolean') problems.push(`${path}.consecutive must be true or false.`);
  else if (consecutive === true && countIf === undefined) problems.push(consecutiveWithoutCountIf(path));
  else if (consecutive === true && rule.algorithm === 'sliding-log') problems.push(consecutiveOnSlidingLog(path));
  const { waitMs } = rule;
  if (waitMs === undefined) return;
  if (!Number.isSafeInteger(waitMs) || (waitMs as number) < 0 || (waitMs as number) > MAX_WAIT_MS)
    problems.push(badWaitMs(`${path}.waitMs`, waitMs, MAX_WAIT_MS));
  else if (countIf === undefined && waitMs !== 0) problems.push(waitMsWithoutCountIf(path));
}

/** Longest `waitMs`: a request waits no longer than a client would. */
export const MAX_WAIT_MS = 60_000;

/** Rules whose throwing predicate was already logged. */
const reported = new WeakSet<object>();

/**
 * Whether `countIf` counts `outcome`. A predicate that throws, or answers anything but a boolean,
 * counts it: an outcome is never let through uncounted by mistake. A throw is logged once per rule.
 */
export function counts<C>(countIf: CountIf<C>, outcome: RequestOutcome<C>, rule: { readonly name: string }, logger: RampartLogger): boolean {
  if (countIf === 'failed') return isFailure(outcome);
  if (countIf === 'succeeded') return !isFailure(outcome);
  try {
    return countIf(outcome) !== false;
  } catch (error) {
    if (!reported.has(rule)) {
      reported.add(rule);
      logger.error(predicateThrew(rule.name, error));
    }
    return true;
  }
}

/** Reports rules that count outcomes on a store that cannot give units back. */
export function checkRefunds(store: unknown, rules: readonly { readonly countIf?: unknown }[], problems: string[]): void {
  if (!rules.some((rule) => rule.countIf !== undefined) || typeof (store as { refund?: unknown } | null)?.refund === 'function') return;
  const name = (store as object | null)?.constructor?.name;
  problems.push(storeWithoutRefund(typeof name === 'string' && name !== 'Object' ? name : 'a custom store'));
}
