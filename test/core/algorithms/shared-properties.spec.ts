import type { Algorithm, AlgorithmName, AlgorithmRule, Decision } from '../../../lib/core/algorithms/algorithm.interface.js';
import { ALGORITHM_NAMES, getAlgorithm } from '../../../lib/core/algorithms/index.js';

/** Small seeded generator (mulberry32): the same scenarios on every run. */
function seeded(seed: number): { int(min: number, max: number): number; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (min, max) => min + Math.floor(next() * (max - min + 1)), chance: (p) => next() < p };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as object)) deepFreeze(inner);
  }
  return value;
}

const BUCKETS: readonly AlgorithmName[] = ['token-bucket', 'gcra'];
const capacityOf = (name: AlgorithmName, rule: AlgorithmRule): number => (BUCKETS.includes(name) ? (rule.burst ?? rule.limit) : rule.limit);

const RULES: readonly AlgorithmRule[] = [
  { limit: 1, windowMs: 1000 },
  { limit: 3, windowMs: 1000 },
  { limit: 10, windowMs: 1000 },
  { limit: 10, windowMs: 1000, burst: 20 },
  { limit: 7, windowMs: 333 },
  { limit: 5, windowMs: 60_000, burst: 2 },
  { limit: 4, windowMs: 1 },
  { limit: 3, windowMs: 10, burst: 1 },
  { limit: 1000, windowMs: 86_400_000, burst: 50 },
  { limit: 5000, windowMs: 1000, burst: 30 },
];

/** A realistic epoch time that is not aligned to any of the windows above. */
const T0 = 1_700_000_123_457;

interface Step {
  readonly before: unknown;
  readonly after: unknown;
  readonly nowMs: number;
  readonly cost: number;
  readonly decision: Decision;
}

/** Replays a seeded random traffic pattern (bursts, pauses, a few costly and oversized requests). */
function scenario(algorithm: Algorithm, name: AlgorithmName, rule: AlgorithmRule, seed: number, steps = 250): Step[] {
  const random = seeded(seed);
  const capacity = capacityOf(name, rule);
  const out: Step[] = [];
  let state: unknown;
  // Mostly faster than the sustained rate, so that denials are frequent, with the odd long pause.
  const interval = rule.windowMs / rule.limit;
  const sameMs = interval < 1 ? 0.85 : 0.45;
  const maxCost = Math.min(capacity, Math.max(3, Math.ceil(capacity / 50)));
  let nowMs = T0 + random.int(0, rule.windowMs);
  for (let i = 0; i < steps; i++) {
    if (random.chance(0.03)) nowMs += random.int(1, 2 * rule.windowMs);
    else if (!random.chance(sameMs)) nowMs += random.int(1, Math.max(1, Math.ceil(2 * interval)));
    const cost = random.chance(0.03) ? capacity + random.int(1, 3) : random.int(1, maxCost);
    const before = deepFreeze(state);
    const { state: after, decision } = algorithm.consume(before, rule, nowMs, cost);
    out.push({ before, after, nowMs, cost, decision });
    state = after;
  }
  return out;
}

describe.each(ALGORITHM_NAMES)('%s: shared properties', (name) => {
  const algorithm = getAlgorithm(name);
  const ruleCases = RULES.map((rule) => [JSON.stringify(rule), rule] as const);

  it('is registered under its name', () => {
    expect(algorithm.name).toBe(name);
  });

  it.each(ruleCases)('admits exactly the capacity from idle, then denies (%s)', (_, rule) => {
    const capacity = capacityOf(name, rule);
    for (const start of [T0, T0 - (T0 % rule.windowMs), T0 - (T0 % rule.windowMs) + rule.windowMs - 1]) {
      let state: unknown;
      const remaining: number[] = [];
      for (let i = 0; i < capacity; i++) {
        const outcome = algorithm.consume(state, rule, start, 1);
        remaining.push(outcome.decision.allowed ? outcome.decision.remaining : -1);
        state = outcome.state;
      }
      expect(remaining).toEqual(Array.from({ length: capacity }, (_, i) => capacity - i - 1));
      const denied = algorithm.consume(state, rule, start, 1);
      expect(denied.decision.allowed).toBe(false);
      expect(denied.decision.remaining).toBe(0);
      expect(denied.decision.retryAfterMs).toBeGreaterThan(0);
      expect(denied.state).toBe(state);
    }
  });

  it.each(ruleCases)('retryAfterMs is exact: admitted at now + retryAfterMs, denied 1 ms earlier (%s)', (_, rule) => {
    const capacity = capacityOf(name, rule);
    const violations: string[] = [];
    let checked = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const random = seeded(seed * 7919);
      for (const { before, nowMs, cost, decision } of scenario(algorithm, name, rule, seed)) {
        if (decision.allowed || cost > capacity) continue;
        const retry = decision.retryAfterMs;
        const admitted = (t: number): boolean => algorithm.consume(before, rule, t, cost).decision.allowed;
        // Denied at every earlier instant: the last one and a few samples in between.
        const earlier = [nowMs + retry - 1, ...[0, 1, 2].map(() => nowMs + random.int(0, retry - 1))];
        const at = `seed ${seed}, t ${nowMs}, cost ${cost}, retryAfterMs ${retry}`;
        if (!Number.isInteger(retry) || retry < 1) violations.push(`${at}: not a positive integer`);
        else if (!admitted(nowMs + retry)) violations.push(`${at}: denied at now + retryAfterMs`);
        else if (earlier.some(admitted)) violations.push(`${at}: admitted earlier`);
        checked++;
      }
    }
    expect(violations).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it.each(ruleCases)('a denial returns the very same state; an admission a new one (%s)', (_, rule) => {
    for (const { before, after, decision } of scenario(algorithm, name, rule, 42)) {
      if (decision.allowed) expect(after).not.toBe(before);
      else expect(after).toBe(before);
    }
  });

  it.each(ruleCases)('never mutates the input state, and states survive a JSON round trip (%s)', (_, rule) => {
    // scenario() deep-freezes every state before passing it in: a mutation would throw.
    for (const { before, after, nowMs, cost } of scenario(algorithm, name, rule, 99)) {
      const copy = before === undefined ? undefined : JSON.parse(JSON.stringify(before));
      const again = algorithm.consume(copy, rule, nowMs, cost);
      expect(again.decision).toEqual(algorithm.consume(before, rule, nowMs, cost).decision);
      expect(again.state).toEqual(after);
    }
  });

  it.each(ruleCases)('a request of cost n consumes n units (%s)', (_, rule) => {
    const capacity = capacityOf(name, rule);
    for (let cost = 1; cost <= Math.min(capacity, 6); cost++) {
      const first = algorithm.consume(undefined, rule, T0, cost);
      expect(first.decision).toMatchObject({ allowed: true, remaining: capacity - cost });
      // The same as `cost` requests of cost 1 at the same instant.
      let unitState: unknown;
      for (let i = 0; i < cost; i++) unitState = algorithm.consume(unitState, rule, T0, 1).state;
      expect(algorithm.peek(unitState, rule, T0)).toEqual(algorithm.peek(first.state, rule, T0));
      // What is left can be spent, one unit at a time, and no more.
      let state = first.state;
      let admitted = 0;
      for (let i = 0; i <= capacity - cost; i++) {
        const outcome = algorithm.consume(state, rule, T0, 1);
        if (outcome.decision.allowed) admitted++;
        state = outcome.state;
      }
      expect(admitted).toBe(capacity - cost);
    }
  });

  it.each(ruleCases)('a cost above the capacity is always denied, retrying when fully reset (%s)', (_, rule) => {
    const capacity = capacityOf(name, rule);
    const states = [undefined, ...scenario(algorithm, name, rule, 7, 60).map((step) => step.after)];
    for (const state of states) {
      for (const nowMs of [T0 + 2 * rule.windowMs, T0 + 100 * rule.windowMs]) {
        const outcome = algorithm.consume(state, rule, nowMs, capacity + 1);
        expect(outcome.decision.allowed).toBe(false);
        expect(outcome.state).toBe(state);
        expect(outcome.decision.retryAfterMs).toBe(outcome.decision.resetAtMs - nowMs);
        expect(algorithm.consume(state, rule, nowMs + outcome.decision.retryAfterMs, capacity + 1).decision.allowed).toBe(false);
      }
    }
  });

  it.each(ruleCases)('remaining, resetAtMs and retryAfterMs are sane (%s)', (_, rule) => {
    const capacity = capacityOf(name, rule);
    const violations: string[] = [];
    for (const { after, nowMs, cost, decision } of scenario(algorithm, name, rule, 2024)) {
      const { allowed, remaining, resetAtMs, retryAfterMs } = decision;
      const problem = (text: string): number => violations.push(`t ${nowMs}, cost ${cost}: ${text} ${JSON.stringify(decision)}`);
      if (decision.limit !== capacity) problem('limit is not the capacity');
      if (!Number.isInteger(remaining) || remaining < 0 || remaining > capacity) problem('remaining out of range');
      if (!Number.isInteger(resetAtMs) || resetAtMs < nowMs) problem('resetAtMs not an integer from now on');
      if (allowed) {
        if (retryAfterMs !== 0) problem('retryAfterMs not 0 when allowed');
        if (resetAtMs <= nowMs) problem('resetAtMs not in the future after an admission');
        if (resetAtMs !== algorithm.expiresAtMs(after, rule)) problem('resetAtMs differs from expiresAtMs');
        // `remaining` more units fit right now, and not one more.
        if (remaining > 0 && !algorithm.consume(after, rule, nowMs, remaining).decision.allowed) problem('remaining does not fit');
        if (algorithm.consume(after, rule, nowMs, remaining + 1).decision.allowed) problem('more than remaining fits');
      } else if (cost <= capacity && retryAfterMs > resetAtMs - nowMs) {
        problem('retry after the reset');
      }
      // At resetAtMs the whole quota is available again.
      const fresh = algorithm.peek(undefined, rule, resetAtMs);
      if (JSON.stringify(algorithm.peek(after, rule, resetAtMs)) !== JSON.stringify(fresh)) problem('quota not back at resetAtMs');
    }
    expect(violations).toEqual([]);
  });

  it.each(ruleCases)('from expiresAtMs on, a state is as good as none (%s)', (_, rule) => {
    expect(algorithm.expiresAtMs(undefined, rule)).toBe(0);
    const capacity = capacityOf(name, rule);
    for (const { after } of scenario(algorithm, name, rule, 5)) {
      const expiresAtMs = algorithm.expiresAtMs(after, rule);
      for (const t of [expiresAtMs, expiresAtMs + 1, expiresAtMs + 3 * rule.windowMs]) {
        expect(algorithm.peek(after, rule, t)).toEqual(algorithm.peek(undefined, rule, t));
        expect(algorithm.consume(after, rule, t, capacity).decision).toEqual(algorithm.consume(undefined, rule, t, capacity).decision);
      }
    }
  });

  it.each(ruleCases)('peek answers what consume with cost 1 would, without consuming (%s)', (_, rule) => {
    for (const { after, nowMs } of scenario(algorithm, name, rule, 11, 80)) {
      const frozen = deepFreeze(after);
      expect(algorithm.peek(frozen, rule, nowMs + 1)).toEqual(algorithm.consume(frozen, rule, nowMs + 1, 1).decision);
    }
  });
});

describe('algorithm registry', () => {
  it('lists the five algorithms, the default first', () => {
    expect(ALGORITHM_NAMES).toEqual(['sliding-window', 'fixed-window', 'sliding-log', 'token-bucket', 'gcra']);
    expect(Object.isFrozen(ALGORITHM_NAMES)).toBe(true);
  });

  it('rejects an unknown name', () => {
    expect(() => getAlgorithm('leaky' as AlgorithmName)).toThrow(/Unknown rate-limit algorithm "leaky"/);
    expect(() => getAlgorithm('toString' as AlgorithmName)).toThrow(/Unknown/);
  });
});
