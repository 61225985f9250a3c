import type { IdentityError } from '../errors/identity.error.js';
import { bannedDetail, blockedDetail, defaultViolationDetail, denyListedDetail, storeUnavailableDetail } from '../errors/messages.js';
import type { RateLimitViolation } from './rampart-options.interface.js';
import { retryAfterSeconds, type Verdict } from './verdict.js';

/** Why the engine refused a request, in every protocol's answer. */
export type RefusalCode = 'RATE_LIMITED' | 'BLOCKED' | 'BANNED' | 'UNAVAILABLE';

/**
 * A refused verdict as the non-HTTP adapters answer it (a WebSocket `exception`, a TCP `RpcException`,
 * gRPC trailers, a GraphQL error's extensions): its code, the rule and the wait.
 */
export interface VerdictRefusal {
  readonly status: 'error';
  readonly code: RefusalCode;
  /** The rule that refused the request (`RATE_LIMITED` only). */
  readonly rule?: string;
  /** Whole seconds until a request may be admitted (not for `BANNED`). */
  readonly retryAfterSeconds?: number;
  readonly message: string;
}

/** The refusal of a verdict, undefined when it admits; the module's `errorMessage` words a `RATE_LIMITED` one. */
export function verdictRefusal<C>(verdict: Verdict<C>, errorMessage?: string | ((violation: RateLimitViolation) => string)): VerdictRefusal | undefined {
  const retry = retryAfterSeconds(verdict);
  switch (verdict.outcome) {
    case 'admitted':
      return undefined;
    case 'limited': {
      const { rule } = verdict.rule.targetRule;
      const { result, windowMs } = verdict.rule;
      const violation: RateLimitViolation = { rule: rule.name, limit: result.limit, windowMs, retryAfterSeconds: retry as number };
      const message =
        typeof errorMessage === 'string'
          ? errorMessage
          : typeof errorMessage === 'function'
            ? errorMessage(violation)
            : defaultViolationDetail(rule.name, result.limit, windowMs, retry as number);
      return { status: 'error', code: 'RATE_LIMITED', rule: rule.name, retryAfterSeconds: retry as number, message };
    }
    case 'blocked':
      return blockedRefusal(verdict.untilMs, retry as number);
    case 'banned':
      return bannedRefusal(verdict.reason);
    case 'unavailable':
      return { status: 'error', code: 'UNAVAILABLE', retryAfterSeconds: retry as number, message: storeUnavailableDetail() };
  }
}

export function blockedRefusal(untilMs: number, retryAfter: number): VerdictRefusal {
  return { status: 'error', code: 'BLOCKED', retryAfterSeconds: retryAfter, message: blockedDetail(new Date(untilMs).toISOString(), retryAfter) };
}

/** What the non-HTTP adapters answer a request whose client could not be identified (an `IdentityError`). */
export interface IdentityRefusal {
  readonly status: 'error';
  readonly code: 'UNAUTHENTICATED';
  /** The error's message (written to be shown to the client). */
  readonly message: string;
}

export function identityRefusal(error: IdentityError): IdentityRefusal {
  return { status: 'error', code: 'UNAUTHENTICATED', message: error.message };
}

export function bannedRefusal(reason: 'banned' | 'deny-listed'): VerdictRefusal {
  return { status: 'error', code: 'BANNED', message: reason === 'banned' ? bannedDetail() : denyListedDetail() };
}
