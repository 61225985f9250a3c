import { formatRateLimit, formatRateLimitPolicy, mostRestrictive, secondsUntil } from '../core/headers.js';
import type { TargetRules } from './target-rules.js';
import { retryAfterSeconds, type Verdict } from './verdict.js';

/** Sets one header on an adapter's response. */
export type HeaderSetter<R> = (response: R, name: string, value: string) => void;

export interface RateLimitHeaderOptions {
  /** The IETF `RateLimit-Policy` and `RateLimit` headers. */
  readonly standardHeaders: boolean;
  /** `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. */
  readonly legacyHeaders: boolean;
}

/**
 * The headers of a verdict, for every adapter whose protocol has headers: `RateLimit-Policy` and
 * `RateLimit` for the rules that counted the request (legacy `X-RateLimit-*` when asked), then
 * `Retry-After` when the client must wait.
 */
export class RateLimitHeaders {
  /** `RateLimit-Policy` of each target, which only changes with the rules that were counted. */
  private readonly policies = new WeakMap<TargetRules<never>, string>();

  constructor(private readonly options: RateLimitHeaderOptions) {}

  write<R>(verdict: Verdict<never>, response: R, set: HeaderSetter<R>): void {
    const { results, nowMs } = verdict;
    if (results.length > 0) {
      if (this.options.standardHeaders) {
        set(response, 'RateLimit-Policy', this.policy(verdict));
        set(response, 'RateLimit', formatRateLimit(results, nowMs));
      }
      if (this.options.legacyHeaders) {
        const item = mostRestrictive(results);
        if (item) {
          set(response, 'X-RateLimit-Limit', String(item.limit));
          set(response, 'X-RateLimit-Remaining', String(item.remaining));
          set(response, 'X-RateLimit-Reset', String(secondsUntil(item.resetAtMs, nowMs)));
        }
      }
    }
    const retryAfter = retryAfterSeconds(verdict);
    if (retryAfter !== undefined) set(response, 'Retry-After', String(retryAfter));
  }

  /** The policy header, formatted once per target when every rule of the target was counted. */
  private policy(verdict: Verdict<never>): string {
    const { complete } = verdict;
    if (complete === undefined) return formatRateLimitPolicy(verdict.results);
    let policy = this.policies.get(complete);
    if (policy === undefined) {
      policy = formatRateLimitPolicy(verdict.results);
      this.policies.set(complete, policy);
    }
    return policy;
  }
}
