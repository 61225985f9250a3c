/**
 * How repeat offenders are escalated: from 429s to temporary blocks that grow with each repeat, to a
 * permanent ban. Pure: the caller counts violations and blocks; this only decides.
 */
export interface EscalationPolicy {
  /**
   * Violations (requests denied by a rule's algorithm) since the last block ended, and within
   * `permanentBanWindowMs`, that start a new temporary block.
   * @default 3
   */
  blockAfterViolations: number;
  /**
   * Length of the first temporary block, in milliseconds.
   * @default 900_000 (15 minutes)
   */
  blockDurationMs: number;
  /**
   * Each further block lasts this many times longer than the one before (1 keeps every block the
   * same length), like fail2ban's `bantime.increment`.
   * @default 2
   */
  blockMultiplier: number;
  /**
   * Upper bound of a temporary block, in milliseconds.
   * @default 86_400_000 (24 hours)
   */
  maxBlockDurationMs: number;
  /**
   * Violations within `permanentBanWindowMs` that turn into a permanent ban (until an operator
   * lifts it). 0 never bans permanently.
   * @default 10
   */
  permanentBanAfter: number;
  /**
   * The look-back period of `permanentBanAfter`, in milliseconds; older violations no longer count
   * (towards a block either).
   * @default 86_400_000 (24 hours)
   */
  permanentBanWindowMs: number;
}

/** 3 violations: a 15-minute block, doubling up to 24 hours; 10 violations within 24 hours: a permanent ban. */
export const DEFAULT_ESCALATION_POLICY: Readonly<EscalationPolicy> = Object.freeze({
  blockAfterViolations: 3,
  blockDurationMs: 900_000,
  blockMultiplier: 2,
  maxBlockDurationMs: 86_400_000,
  permanentBanAfter: 10,
  permanentBanWindowMs: 86_400_000,
});

/** The names of the policy's fields, for validation. */
export const ESCALATION_POLICY_FIELDS = Object.freeze(Object.keys(DEFAULT_ESCALATION_POLICY)) as readonly (keyof EscalationPolicy)[];

/** What the caller counted for one client when it recorded a violation (that violation included). */
export interface EscalationInput {
  /** Violations since the last temporary block ended (when there was one) and within the ban window. */
  readonly violationsSinceLastBlock: number;
  /** Violations within the policy's `permanentBanWindowMs`. */
  readonly violationsInBanWindow: number;
  /** Temporary blocks the client has had so far. */
  readonly previousBlocks: number;
}

export type EscalationDecision = { readonly action: 'none' } | { readonly action: 'block'; readonly durationMs: number } | { readonly action: 'ban' };

const NONE: EscalationDecision = Object.freeze({ action: 'none' });
const BAN: EscalationDecision = Object.freeze({ action: 'ban' });

/**
 * Decides what a client's latest violation leads to. A permanent ban wins over a block; a block
 * lasts `blockDurationMs × blockMultiplier ^ previousBlocks`, at most `maxBlockDurationMs`.
 *
 * @example
 * decideEscalation({ violationsSinceLastBlock: 3, violationsInBanWindow: 6, previousBlocks: 1 }, DEFAULT_ESCALATION_POLICY)
 * // { action: 'block', durationMs: 1_800_000 }
 */
export function decideEscalation(input: EscalationInput, policy: EscalationPolicy): EscalationDecision {
  if (policy.permanentBanAfter > 0 && input.violationsInBanWindow >= policy.permanentBanAfter) return BAN;
  if (input.violationsSinceLastBlock < policy.blockAfterViolations) return NONE;
  return { action: 'block', durationMs: blockDurationFor(input.previousBlocks, policy) };
}

/** Length of the block that follows `previousBlocks` earlier ones, in milliseconds. */
export function blockDurationFor(previousBlocks: number, policy: EscalationPolicy): number {
  const grown = policy.blockDurationMs * policy.blockMultiplier ** Math.max(0, previousBlocks);
  // `min` also absorbs Infinity when the exponent runs away.
  return Math.round(Math.min(policy.maxBlockDurationMs, grown));
}

/** `override` over `base`, fields left undefined keeping the base's value. */
export function mergeEscalationPolicy(base: EscalationPolicy, override: Partial<EscalationPolicy>): EscalationPolicy {
  const merged: EscalationPolicy = { ...base };
  for (const field of ESCALATION_POLICY_FIELDS) {
    const value = override[field];
    if (value !== undefined) merged[field] = value;
  }
  return Object.freeze(merged);
}
