import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import type { RampartRequest } from './rampart-request.js';
import type { TargetRules } from './target-rules.js';
import type { RuleResult } from './verdict.js';

/** One request being decided: what every step of the engine needs, in one object. */
export interface Decision<C> {
  readonly request: RampartRequest<C>;
  readonly rules: TargetRules<C>;
  /** The request's address in canonical form. */
  readonly address: string | null;
  /** The key of the request's address (`unknown` without one): its bans apply whatever the identity. */
  readonly addressKey: string;
  readonly identity: string;
  /** The key of `identity`: the address key, or the key of an identity (never an address's). */
  readonly clientKey: string;
  readonly nowMs: number;
  /** The client's group (`default` unless the `groupResolver` names one). */
  readonly group: string;
  /** The block or ban that shadow rules' escalation gave the client: its shadow rules are not counted. */
  readonly shadowStanding?: ProtectionVerdict;
}

/** What counting the rules gave: results for headers, and whether the request must be refused. */
export interface Tally<C> {
  readonly results: RuleResult<C>[];
  /** A rule's outage policy refused the request. */
  storeDenied: boolean;
  /** A rule's own identity is banned or blocked. */
  refusal?: ProtectionVerdict;
  /** A shadow rule's own identity is banned or blocked (for real, or by its shadow escalation): reported, never enforced. */
  shadowRefusal?: ProtectionVerdict;
}
