import type { Clock } from '../core/clock.js';
import { ruleCapacity } from '../core/algorithms/algorithm.interface.js';
import { isThenable } from '../core/thenable.js';
import type { BanSync } from '../protection/ban-sync.js';
import type { Escalator } from '../protection/escalator.js';
import type { ProtectionVerdict } from '../protection/protection-verdict.js';
import type { Counted, StoreGateway } from '../protection/store-gateway.js';
import type { RampartConfig } from './rampart-config.js';
import { fixedCost, requestCost, requestStoreKey, type RampartRequest, type StoreKeyHook } from './rampart-request.js';
import type { ClientIdentity } from './client-identity.js';
import { shadowKey, type StoreKeys } from './store-keys.js';
import { countsGroup, targetRules, type TargetRule, type TargetRules } from './target-rules.js';
import { clientGroup, isUnlimited } from './groups.js';
import { refusal, ruleResult, type RuleResult, type ShadowedVerdict, type Verdict } from './verdict.js';
import type { Decision, Tally } from './decision.js';
import { NetworkKeys } from './network-keys.js';
import { Verdicts } from './verdicts.js';
import { ownIdentityRefused, ruleClientKey } from './rule-identity.js';
import type { AdaptiveLimits } from '../adaptive/adaptive-limits.js';
import { requestLimits, windowedKey } from './request-limits.js';
import type { OutcomeDenials } from '../outcome/outcome-denials.js';

/** Peers whose parsed address is remembered, and targets whose rules are (each emptied when full). */
const CACHE_SIZE = 10_000;
const NONE: readonly never[] = Object.freeze([]);
/** A verdict, or the promise of one. */
type Decided<C> = Verdict<C> | Promise<Verdict<C>>;

/** Told of every decision the engine takes (the statistics behind metrics, the stats API and alerts). */
export interface DecisionObserver<C = unknown> {
  /** Called once per decided request, synchronously, with its verdict. Must not throw. */
  decided(decision: Decision<C>, verdict: Verdict<C>): void;
}

/** The parts the engine asks. */
export interface EngineParts<C> {
  readonly keys: StoreKeys;
  readonly identity: ClientIdentity<C>;
  readonly bans: BanSync;
  readonly gateway: StoreGateway;
  readonly escalator: Escalator;
  readonly adaptive: AdaptiveLimits;
  readonly outcomes: OutcomeDenials;
}

/**
 * The decision, for every protocol: identify the client, check the allow/deny lists, bans and
 * blocks (in memory), count the request against every rule of its target (one store call per
 * rule), record a violation and escalate, and answer with a verdict. It knows no protocol and no
 * store: adapters describe requests (`RampartRequest`) and turn verdicts into their answer.
 *
 * `decide` answers synchronously when every step does (a store that answers synchronously, hooks
 * that return plain values, no violation to record), otherwise with a promise.
 */
export class RampartEngine<C = unknown> {
  private readonly targets = new Map<string, TargetRules<C>>();
  /** The store key hook adapters last counted with: the admin API reads counters by the same keys. */
  private storeKeyHook: StoreKeyHook<C> | undefined;

  /** Wider IPv6 networks that rules of their own prefix length count by, and their blocks. */
  private networks: NetworkKeys;
  /** Told of every decision (see `observe`). */
  private observer: DecisionObserver<C> | undefined;
  /** Verdicts from the rules' answers, shadow rules apart. */
  private verdicts: Verdicts<C>;

  constructor(
    private config: RampartConfig<C>,
    private readonly parts: EngineParts<C>,
  ) {
    this.networks = new NetworkKeys(config.rules, parts.keys, parts.bans);
    this.verdicts = new Verdicts(config, parts.escalator);
  }

  /**
   * Decides by `config` from now on (its rules, escalation and groups: a reloaded configuration).
   * A decision under way finishes with the rules it started with.
   */
  reconfigure(config: RampartConfig<C>): void {
    this.config = config;
    this.targets.clear();
    this.networks = new NetworkKeys(config.rules, this.parts.keys, this.parts.bans, this.networks);
    this.verdicts = new Verdicts(config, this.parts.escalator);
  }

  /** Tells `observer` of every decision from now on (one observer; undefined stops it). */
  observe(observer: DecisionObserver<C> | undefined): void {
    this.observer = observer;
  }

  get clock(): Clock {
    return this.config.clock;
  }

  /** Who a client is: its address from a peer and headers, its identity. */
  get identity(): ClientIdentity<C> {
    return this.parts.identity;
  }

  /**
   * The keys a request of this address and identity is known by: its address key (the address's
   * bans) and its client key (what its rules count and its escalation bans).
   */
  clientKeys(address: string | null, identity: string): { readonly address: string | null; readonly addressKey: string; readonly clientKey: string } {
    const canonical = address === null ? null : this.parts.identity.canonicalAddress(address);
    return { address: canonical, ...this.keysOf(canonical, identity) };
  }

  /** The address key and the client key of a canonical address and an identity. */
  private keysOf(address: string | null, identity: string): { readonly addressKey: string; readonly clientKey: string } {
    const addressKey = this.parts.keys.addressIdentity(address);
    return { addressKey, clientKey: this.parts.keys.clientKey(identity, addressKey) };
  }

  /** The module's rules on a named target (cached). */
  rulesFor(target: string): TargetRules<C> {
    let rules = this.targets.get(target);
    if (rules === undefined) {
      rules = targetRules(target, this.config.rules);
      if (this.targets.size >= CACHE_SIZE) this.targets.clear();
      this.targets.set(target, rules);
    }
    return rules;
  }

  /**
   * The store key of a client key under `rule` as the last adapter that gave a `storeKey` hook counts
   * it (the admin client view reads counters by it), without a request context.
   */
  storeKey(rule: TargetRule<C>, clientKey: string): string {
    const hook = this.storeKeyHook;
    return hook ? hook(undefined, clientKey, rule) : this.defaultStoreKey(rule, clientKey);
  }

  /** The store key of a client key under `rule` in Rampart's own format: `<rule>:<scope or target>:<client key>`. */
  defaultStoreKey(rule: TargetRule<C>, clientKey: string): string {
    return rule.keyPrefix + clientKey;
  }

  /**
   * Decides one request. Never throws: a failing hook or a malformed request comes back as a
   * rejected promise. On a target without rules only the lists, bans and blocks are checked
   * (nothing at all with `enforceBans: 'limited-routes'`, or on an exempt target).
   */
  decide(request: RampartRequest<C>): Verdict<C> | Promise<Verdict<C>> {
    try {
      const nowMs = request.nowMs ?? this.config.clock.now();
      const rules = typeof request.target === 'string' ? this.rulesFor(request.target) : request.target;
      if (rules.exempt || (rules.rules.length === 0 && this.config.enforceBans === 'limited-routes')) return { outcome: 'admitted', results: NONE, nowMs };
      const { skipIf } = this.config;
      const skip = skipIf && !request.skipChecked ? skipIf(request.context as C) : false;
      if (isThenable(skip))
        return Promise.resolve(skip).then((skipped) => (skipped ? { outcome: 'admitted', results: NONE, nowMs } : this.identified(request, rules, nowMs)));
      return skip ? { outcome: 'admitted', results: NONE, nowMs } : this.identified(request, rules, nowMs);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** `decide` once the request is known not to be skipped: its identity, then the checks and the count. */
  private identified(request: RampartRequest<C>, rules: TargetRules<C>, nowMs: number): Verdict<C> | Promise<Verdict<C>> {
    if (request.storeKey !== undefined) this.storeKeyHook = request.storeKey;
    const { identity: identities } = this.parts;
    const address = request.address === null ? null : identities.canonicalAddress(request.address);
    const identity = request.identity ?? identities.identify(request.context as C, address, rules.rules.length > 0);
    if (isThenable(identity)) return Promise.resolve(identity).then((id) => this.grouped(request, rules, nowMs, address, id));
    return this.grouped(request, rules, nowMs, address, identity);
  }

  /** The client's group (see `clientGroup`), then the checks. */
  private grouped(request: RampartRequest<C>, rules: TargetRules<C>, nowMs: number, address: string | null, identity: string): Decided<C> {
    const group = clientGroup(this.config, request, rules, address);
    if (isThenable(group)) return group.then((g) => this.checked(request, rules, nowMs, address, identity, g));
    return this.checked(request, rules, nowMs, address, identity, group);
  }

  /**
   * The lists, bans and blocks of the client, then the count. The identity is keyed apart from
   * addresses (unless it is the request's own address key), and the address's bans are checked
   * whatever identity the client presents.
   */
  private checked(request: RampartRequest<C>, rules: TargetRules<C>, nowMs: number, address: string | null, identity: string, group: string): Decided<C> {
    if (typeof identity !== 'string') throw new TypeError(`A request's identity must be a string, got ${typeof identity}.`);
    const { addressKey, clientKey } = this.keysOf(address, identity);
    const decision: Decision<C> = { request, rules, address, addressKey, identity, clientKey, nowMs, group };
    const known = this.parts.bans.check(clientKey, address, nowMs, addressKey);
    // A promise only for a client whose ban record the bounded cache dropped: read once from the store.
    const verdict = isThenable(known) ? Promise.resolve(known).then((k) => this.afterCheck(decision, k)) : this.afterCheck(decision, known);
    return this.observed(decision, verdict);
  }

  /** Tells the observer of the verdict, once it is known. */
  private observed(decision: Decision<C>, verdict: Verdict<C> | Promise<Verdict<C>>): Verdict<C> | Promise<Verdict<C>> {
    const { observer } = this;
    if (observer === undefined) return verdict;
    if (isThenable(verdict)) return verdict.then((v) => (observer.decided(decision, v), v));
    observer.decided(decision, verdict);
    return verdict;
  }

  /** The client's known standing decided: answered from it, or counted. */
  private afterCheck(decision: Decision<C>, known: ProtectionVerdict): Verdict<C> | Promise<Verdict<C>> {
    const { nowMs, rules } = decision;
    if (known.status === 'allow-listed') return { outcome: 'admitted', results: NONE, nowMs };
    if (known.status !== 'none') return this.verdicts.enforced(refusal(known, nowMs, NONE) as ShadowedVerdict<C>);
    const network = this.networks.ban(decision);
    if (network !== undefined) return this.verdicts.enforced(refusal(network, nowMs, NONE) as ShadowedVerdict<C>);
    if (rules.rules.length === 0 || isUnlimited(this.config, decision)) return { outcome: 'admitted', results: NONE, nowMs };
    if (!this.config.shadow && !rules.shadowed) return rules.plain ? this.countPlain(decision) : this.countAll(decision);
    // Shadow rules: the block or ban their escalation would have given the client (in memory, but
    // for a record the bounded cache dropped) answers them as it would have, without counting.
    const standing = this.parts.bans.check(shadowKey(decision.clientKey), null, nowMs);
    if (isThenable(standing)) return Promise.resolve(standing).then((s) => this.countShadowed(decision, s));
    return this.countShadowed(decision, standing);
  }

  /** Counts a target with shadow rules, knowing the client's shadow standing. */
  private countShadowed(decision: Decision<C>, standing: ProtectionVerdict): Verdict<C> | Promise<Verdict<C>> {
    const shadowed: Decision<C> = standing.status === 'blocked' || standing.status === 'banned' ? { ...decision, shadowStanding: standing } : decision;
    return shadowed.rules.plain ? this.countPlain(shadowed) : this.countAll(shadowed);
  }

  /** Whether `targetRule` is not counted on this request: a shadow rule of a client its shadow escalation holds. */
  private skipsShadow(decision: Decision<C>, targetRule: TargetRule<C>): boolean {
    return decision.shadowStanding !== undefined && this.verdicts.isShadow(targetRule);
  }

  /** Every rule at a fixed cost for the request's client: straight to the store, synchronous while it answers so. */
  private countPlain(decision: Decision<C>): Verdict<C> | Promise<Verdict<C>> {
    const { rules } = decision.rules;
    const tally: Tally<C> = { results: [], storeDenied: false };
    for (let i = 0; i < rules.length; i++) {
      if (decision.shadowStanding !== undefined && this.skipsShadow(decision, rules[i])) continue;
      const cost = fixedCost(decision, rules[i]);
      const answer = this.count(decision, rules[i], decision.clientKey, cost);
      if (isThenable(answer)) return this.countPlainLater(decision, tally, i, answer);
      this.add(tally, decision, rules[i], cost, answer);
    }
    return this.verdicts.conclude(decision, tally);
  }

  /** `countPlain` once the store answered rule `from` with a promise: that answer and the rules after it. */
  private async countPlainLater(decision: Decision<C>, tally: Tally<C>, from: number, pending: Promise<Counted>): Promise<Verdict<C>> {
    const rules = decision.rules.rules.slice(from).filter((rule, i) => i === 0 || !this.skipsShadow(decision, rule));
    const costs = rules.map((rule) => fixedCost(decision, rule));
    const settled = await Promise.all(rules.map((rule, i) => (i === 0 ? pending : this.count(decision, rule, decision.clientKey, costs[i]))));
    for (let i = 0; i < settled.length; i++) this.add(tally, decision, rules[i], costs[i], settled[i]);
    return this.verdicts.conclude(decision, tally);
  }

  /** Adds a fixed-cost rule's answer for the request's client to the tally. */
  private add(tally: Tally<C>, decision: Decision<C>, targetRule: TargetRule<C>, cost: number, answer: Counted): void {
    // A shadow rule never refuses, not even by the outage policy.
    if (answer === 'deny') tally.storeDenied ||= !this.verdicts.isShadow(targetRule);
    else if (answer !== 'allow') tally.results.push(ruleResult(targetRule, decision.clientKey, cost, answer));
  }

  /** Every rule with its hooks (skipIf, its own identity, a cost function), concurrently. */
  private async countAll(decision: Decision<C>): Promise<Verdict<C>> {
    const tally: Tally<C> = { results: [], storeDenied: false };
    const { context } = decision.request;
    const countOne = async (targetRule: TargetRule<C>): Promise<RuleResult<C> | undefined> => {
      const { rule } = targetRule;
      if (this.skipsShadow(decision, targetRule) || !countsGroup(targetRule, decision.group)) return undefined;
      if (rule.skipIf && (await rule.skipIf(context as C))) return undefined;
      const clientKey = await ruleClientKey(decision, targetRule, this.parts.keys, this.networks);
      const shadow = this.verdicts.isShadow(targetRule);
      if (clientKey !== decision.clientKey && (await ownIdentityRefused(this.parts.bans, clientKey, shadow, decision.nowMs, tally))) return undefined;
      const limits = await requestLimits(decision, targetRule, clientKey, this.config.logger);
      const capacity = ruleCapacity(limits);
      const cost = typeof rule.cost === 'number' ? fixedCost(decision, targetRule, capacity) : requestCost(await rule.cost(context as C), capacity);
      const answer = await this.count(decision, targetRule, clientKey, cost, limits);
      if (answer === 'allow') return undefined;
      if (answer === 'deny') {
        tally.storeDenied ||= !shadow;
        return undefined;
      }
      return ruleResult(targetRule, clientKey, cost, answer, limits.windowMs);
    };
    const counted = await Promise.all(decision.rules.rules.map(countOne));
    for (const result of counted) if (result !== undefined) tally.results.push(result);
    return this.verdicts.conclude(decision, tally);
  }

  /** Counts one rule for one request by `limits` (see `requestLimits`: the rule's own unless they vary per request). */
  private count(decision: Decision<C>, targetRule: TargetRule<C>, clientKey: string, cost: number, limits = targetRule.rule.storeRule) {
    const { rule } = targetRule;
    const key = windowedKey(requestStoreKey(decision.request, targetRule, clientKey), limits, rule);
    const { onStoreError } = rule;
    // An adaptive rule counts by the client's effective limit, scaled from `limits`, and learns from the answer.
    if (rule.adaptive)
      return this.parts.adaptive.count(key, rule.adaptive, limits, decision.nowMs, cost, (r) =>
        this.parts.gateway.consume(key, r, onStoreError, decision.nowMs, cost, decision.addressKey),
      );
    const answer = this.parts.gateway.consume(key, limits, onStoreError, decision.nowMs, cost, decision.addressKey);
    if (rule.countIf === undefined) return answer;
    return this.parts.outcomes.judge(key, rule, answer, decision.nowMs, cost, decision.addressKey, !this.verdicts.isShadow(targetRule));
  }
}
