import { retryAfterSeconds, type Verdict } from '../engine/verdict.js';
import { bannedDetail, blockedDetail, defaultViolationDetail, denyListedDetail, storeUnavailableDetail } from '../errors/messages.js';
import type { RateLimitViolation } from '../rate-limit-options.interface.js';

/** Why a WebSocket message was refused. */
export type WsRateLimitCode = 'RATE_LIMITED' | 'BLOCKED' | 'BANNED' | 'UNAVAILABLE' | 'TOO_MANY_CONNECTIONS';

/**
 * What a refused WebSocket message gets, as the error of a `WsException`: Nest's exception filter
 * sends it as the `exception` event on socket.io, and as `{ "event": "exception", "data": <this> }`
 * on the `ws` adapter.
 */
export interface WsRateLimitError {
  readonly status: 'error';
  readonly code: WsRateLimitCode;
  /** The rule that refused the message (`RATE_LIMITED` only). */
  readonly rule?: string;
  /** Whole seconds until a message may be admitted (not for `BANNED`). */
  readonly retryAfterSeconds?: number;
  readonly message: string;
}

/** The error of a refused message, from its verdict; the module's `errorMessage` words a `RATE_LIMITED` one. */
export function wsRateLimitError<C>(verdict: Verdict<C>, errorMessage?: string | ((violation: RateLimitViolation) => string)): WsRateLimitError | undefined {
  const retry = retryAfterSeconds(verdict);
  switch (verdict.outcome) {
    case 'admitted':
      return undefined;
    case 'limited': {
      const { rule } = verdict.rule.targetRule;
      const { result } = verdict.rule;
      const violation: RateLimitViolation = { rule: rule.name, limit: result.limit, windowMs: rule.windowMs, retryAfterSeconds: retry as number };
      const message =
        typeof errorMessage === 'string'
          ? errorMessage
          : typeof errorMessage === 'function'
            ? errorMessage(violation)
            : defaultViolationDetail(rule.name, result.limit, rule.windowMs, retry as number);
      return { status: 'error', code: 'RATE_LIMITED', rule: rule.name, retryAfterSeconds: retry as number, message };
    }
    case 'blocked':
      return blockedError(verdict.untilMs, retry as number);
    case 'banned':
      return bannedError(verdict.reason);
    case 'unavailable':
      return { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: retry as number, message: storeUnavailableDetail() };
  }
}

export function blockedError(untilMs: number, retryAfter: number): WsRateLimitError {
  return { status: 'error', code: 'BLOCKED', retryAfterSeconds: retryAfter, message: blockedDetail(new Date(untilMs).toISOString(), retryAfter) };
}

export function bannedError(reason: 'banned' | 'deny-listed'): WsRateLimitError {
  return { status: 'error', code: 'BANNED', message: reason === 'banned' ? bannedDetail() : denyListedDetail() };
}
