import type { AccessListEntry } from '../storage/access-list-store.interface.js';
import type { Ban } from '../storage/ban-store.interface.js';

/**
 * What the in-process cache knows about a client before any rule runs. Allow-listed clients skip
 * every rule; deny-listed and permanently banned ones get 403; blocked ones get 429 until `untilMs`.
 */
export type ProtectionVerdict =
  | { readonly status: 'none' }
  | { readonly status: 'allow-listed'; readonly entry: AccessListEntry }
  | { readonly status: 'deny-listed'; readonly entry: AccessListEntry }
  | { readonly status: 'banned'; readonly ban: Ban }
  | { readonly status: 'blocked'; readonly ban: Ban; readonly untilMs: number };

/** The verdict of a client the cache knows nothing about (one shared object: no allocation). */
export const NO_VERDICT: ProtectionVerdict = Object.freeze({ status: 'none' });

/** What recording a violation led to. */
export type ViolationOutcome =
  { readonly action: 'none' } | { readonly action: 'block'; readonly ban: Ban; readonly untilMs: number } | { readonly action: 'ban'; readonly ban: Ban };

export const NO_OUTCOME: ViolationOutcome = Object.freeze({ action: 'none' });

/** The verdict of an active ban record: permanent bans are `banned`, temporary ones `blocked`. */
export function verdictOfBan(ban: Ban): ProtectionVerdict {
  return ban.kind === 'permanent' ? { status: 'banned', ban } : { status: 'blocked', ban, untilMs: ban.expiresAtMs ?? 0 };
}

/** The outcome of an active ban record. */
export function outcomeOfBan(ban: Ban): ViolationOutcome {
  return ban.kind === 'permanent' ? { action: 'ban', ban } : { action: 'block', ban, untilMs: ban.expiresAtMs ?? 0 };
}

/** Whether ban `candidate` should answer rather than `current`: permanent over temporary, then the later end. */
export function strongerBan(candidate: Ban, current: Ban | undefined): boolean {
  if (!current) return true;
  if (current.kind === 'permanent') return false;
  if (candidate.kind === 'permanent') return true;
  return (candidate.expiresAtMs ?? 0) > (current.expiresAtMs ?? 0);
}
