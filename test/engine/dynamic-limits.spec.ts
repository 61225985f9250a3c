import { createRampart, type RampartOptions, type RateLimitRule, type RateLimitStore, type Verdict } from '../../lib/engine/index.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { dynamicStoreRule } from '../../lib/engine/dynamic-limits.js';
import { givenRule, overriddenRule } from '../../lib/engine/rule-override.js';
import { resolveRule } from '../../lib/engine/rule-resolution.js';
import { targetRules, type TargetRule } from '../../lib/engine/target-rules.js';
import type { Rampart } from '../../lib/engine/rampart.js';
import { adaptiveViews } from '../../lib/admin/admin-adaptive.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';

/** A request's context in these tests: the API key it presents. */
interface Ctx {
  readonly key: string;
}

/** Plans by API key, and how often each was looked up. */
const PLANS: Record<string, { limit: number; windowMs?: number }> = { free: { limit: 2 }, pro: { limit: 5, windowMs: 10_000 } };

async function started(rule: Partial<RateLimitRule<Ctx>>, options: RampartOptions<Ctx> = {}) {
  const clock = new FakeClock(T0);
  const warnings: string[] = [];
  const logger = { log: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined };
  const rampart = createRampart<Ctx>({
    clock,
    logger,
    escalation: false,
    logging: false,
    keyResolver: (ctx) => ctx.key,
    rules: [{ name: 'plan', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', ...rule } as RateLimitRule<Ctx>],
    ...options,
  });
  await rampart.start();
  const decide = async (key: string, extra: object = {}) =>
    (await rampart.decide({ target: 'GET /data', address: CLIENT, context: { key }, ...extra })) as Verdict<Ctx>;
  /** How many of `n` requests of `key` are admitted. */
  const admitted = async (key: string, n: number) => {
    let count = 0;
    for (let i = 0; i < n; i++) if ((await decide(key)).outcome === 'admitted') count++;
    return count;
  };
  return { rampart, clock, warnings, decide, admitted };
}

describe('dynamic limits (engine, memory store)', () => {
  it('counts each client by the limit its function gives, once per request, with the limit in its results', async () => {
    const calls: string[] = [];
    const { rampart, decide, admitted } = await started({
      limit: (ctx) => (calls.push(ctx.key), PLANS[ctx.key]?.limit ?? 0),
      fallback: { limit: 1 },
    });
    expect(rampart.engine.rulesFor('GET /data')).toMatchObject({ plain: false, varying: true });
    expect(await decide('pro')).toMatchObject({ outcome: 'admitted', results: [{ name: 'plan', limit: 5, remaining: 4, windowMs: 60_000 }] });
    expect(await admitted('pro', 5)).toBe(4);
    expect(await admitted('free', 3)).toBe(2);
    expect(calls).toEqual([...Array(6).fill('pro'), ...Array(3).fill('free')]);
    await rampart.stop();
  });

  it('resolves limit, window and burst in one call of `limits`, and keeps a counter per window length', async () => {
    let calls = 0;
    let plan: object = { limit: 3, windowMs: 10_000 };
    const { rampart, clock, decide, admitted } = await started({ limits: () => (calls++, plan), limit: 2, windowMs: 60_000 });
    expect(await decide('a')).toMatchObject({ results: [{ limit: 3, windowMs: 10_000, remaining: 2 }] });
    expect(await admitted('a', 3)).toBe(2);
    expect(calls).toBe(4);
    // A window the plan changes to counts on its own: the other window's counter is left as it was.
    plan = { limit: 3 };
    expect(await decide('a')).toMatchObject({ outcome: 'admitted', results: [{ limit: 3, windowMs: 60_000, remaining: 2 }] });
    plan = { limit: 3, windowMs: 10_000 };
    expect((await decide('a')).outcome).toBe('limited');
    clock.advance(10_000);
    expect(await decide('a')).toMatchObject({ outcome: 'admitted', results: [{ windowMs: 10_000, remaining: 2 }] });
    await rampart.stop();
  });

  it('gives token buckets the burst of the plan', async () => {
    const { rampart, admitted } = await started({ algorithm: 'token-bucket', limits: (ctx) => ({ limit: 1, burst: ctx.key === 'pro' ? 4 : 1 }) });
    expect(await admitted('pro', 6)).toBe(4);
    expect(await admitted('free', 3)).toBe(1);
    await rampart.stop();
  });

  it('answers a known denial from memory for a plan seen before, as for a fixed rule', async () => {
    const inner = new MemoryRateLimitStore();
    let consumed = 0;
    const store: RateLimitStore = {
      consume: (...args) => (consumed++, inner.consume(...args)),
      get: (...args) => inner.get(...args),
      reset: (key) => inner.reset(key),
    };
    const { rampart, admitted } = await started({ limits: () => ({ limit: 1, windowMs: 10_000 }) }, { store });
    expect(await admitted('a', 4)).toBe(1);
    expect(consumed).toBe(2);
    await rampart.stop();
  });

  it('caps a request cost by the capacity the request is counted with, not the fallback', async () => {
    const { rampart, decide } = await started({ limits: () => ({ limit: 100 }), limit: 10 });
    expect(await decide('a', { cost: 50 })).toMatchObject({ outcome: 'admitted', results: [{ limit: 100, remaining: 50, cost: 50 }] });
    await rampart.stop();
  });

  const hostile: [string, () => unknown, string][] = [
    [
      'throws',
      () => {
        throw new Error('plans DB down');
      },
      'limits threw plans DB down',
    ],
    ['rejects', () => Promise.reject(new Error('timeout')), 'limits threw timeout'],
    ['returns NaN', () => ({ limit: NaN }), 'limit returned NaN'],
    ['returns 0', () => ({ limit: 0 }), 'limit returned 0'],
    ['returns a negative number', () => ({ limit: -5 }), 'limit returned -5'],
    ['returns a fraction', () => ({ limit: 2.5 }), 'limit returned 2.5'],
    ['returns Infinity', () => ({ limit: Infinity }), 'limit returned Infinity'],
    ['returns text', () => ({ windowMs: '1000' }), 'windowMs returned "1000"'],
    ['returns null', () => null, 'limits returned null'],
    ['returns an unknown field', () => ({ limit: 5, windowMS: 1_000 }), "unknown field 'windowMS'"],
    [
      'returns an object whose field throws',
      () => ({
        get limit(): number {
          throw new Error('getter');
        },
      }),
      'limits threw getter',
    ],
  ];
  it.each(hostile)('counts by the fallback, never unlimited, when `limits` %s', async (_, limits, reason) => {
    const { rampart, warnings, admitted } = await started({ limits: limits as never, limit: 2 });
    expect(await admitted('a', 5)).toBe(2);
    expect(warnings).toEqual([expect.stringContaining(reason)]);
    expect(warnings[0]).toMatch(/^Rule 'plan': its dynamic limits failed .*counted by the rule's fallback, 2 per 60000 ms\./);
    await rampart.stop();
  });

  it.each([
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    [
      'a throw',
      () => {
        throw new Error('no');
      },
    ],
    ['a rejection', () => Promise.reject(new Error('no'))],
  ])('counts by the fallback when a per-field function gives %s, the whole rule falling back', async (_, bad) => {
    const { rampart, decide, admitted } = await started({ limit: () => 50, windowMs: bad as () => number, fallback: { limit: 2, windowMs: 60_000 } });
    expect(await decide('a')).toMatchObject({ results: [{ limit: 2, windowMs: 60_000 }] });
    expect(await admitted('a', 3)).toBe(1);
    await rampart.stop();
  });

  it('logs a failing rule at most once a minute, with the failures in between', async () => {
    const { rampart, clock, warnings, admitted } = await started({ limits: () => ({ limit: NaN }), limit: 100 });
    await admitted('a', 3);
    clock.advance(59_999);
    await admitted('a', 1);
    expect(warnings).toHaveLength(1);
    clock.advance(1);
    await admitted('a', 1);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('3 more failures since the last report.');
    await rampart.stop();
  });

  describe('limitsCache', () => {
    it('looks a key up once per TTL on the clock, and again once it is stale', async () => {
      const calls: string[] = [];
      const { rampart, clock, admitted } = await started({
        limits: async (ctx) => (calls.push(ctx.key), { limit: PLANS[ctx.key]?.limit ?? 1 }),
        limitsCache: { ttlMs: 30_000 },
      });
      expect(await admitted('pro', 6)).toBe(5);
      expect(await admitted('free', 3)).toBe(2);
      expect(calls).toEqual(['pro', 'free']);
      clock.advance(29_999);
      await admitted('pro', 1);
      expect(calls).toEqual(['pro', 'free']);
      clock.advance(1);
      await admitted('pro', 1);
      expect(calls).toEqual(['pro', 'free', 'pro']);
      await rampart.stop();
    });

    it('shares one lookup between requests of a key that arrive while it runs', async () => {
      let calls = 0;
      let answer: (v: object) => void = () => undefined;
      const { rampart } = await started({ limits: () => (calls++, new Promise((resolve) => (answer = resolve))), limitsCache: { ttlMs: 1_000 } });
      const pending = Array.from({ length: 5 }, () => rampart.decide({ target: 'GET /data', address: CLIENT, context: { key: 'a' } }));
      await new Promise((resolve) => setImmediate(resolve));
      answer({ limit: 3 });
      const verdicts = (await Promise.all(pending)) as Verdict[];
      expect(verdicts.map((v) => v.outcome)).toEqual(['admitted', 'admitted', 'admitted', 'limited', 'limited']);
      expect(calls).toBe(1);
      await rampart.stop();
    });

    it('does not keep a failed lookup: the next request asks again', async () => {
      let calls = 0;
      const { rampart, admitted } = await started({
        limits: () => (++calls === 1 ? Promise.reject(new Error('down')) : { limit: 3 }),
        limitsCache: { ttlMs: 60_000 },
      });
      expect(await admitted('a', 1)).toBe(1);
      expect(await admitted('a', 3)).toBe(2);
      expect(calls).toBe(2);
      await rampart.stop();
    });

    it('keys by its key function, and forgets the oldest key beyond maxKeys', async () => {
      const calls: string[] = [];
      const { rampart, decide } = await started({
        limits: (ctx) => (calls.push(ctx.key), { limit: 10 }),
        limitsCache: { ttlMs: 60_000, maxKeys: 2, key: (ctx) => ctx.key.split('/')[0] },
      });
      for (const key of ['t1/a', 't1/b', 't2/a', 't1/c', 't3/a', 't2/b', 't1/d']) await decide(key);
      // t1 and t2 were cached; t3 pushed t1 out; t2 stayed.
      expect(calls).toEqual(['t1/a', 't2/a', 't3/a', 't1/d']);
      await rampart.stop();
    });
  });
});

describe('dynamic limits: startup validation', () => {
  const problems = (rule: object): string[] => {
    try {
      createRampart({ rules: [{ name: 'plan', ...rule } as RateLimitRule] });
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('requires a fallback for every field given as a function', () => {
    expect(problems({ limit: () => 5, windowMs: () => 1_000 })).toEqual([
      expect.stringMatching(/^rules\[0\]\.limit is a function, so rules\[0\]\.fallback\.limit is required/),
      expect.stringMatching(/^rules\[0\]\.windowMs is a function, so rules\[0\]\.fallback\.windowMs is required/),
    ]);
    expect(problems({ limit: () => 5, windowMs: 1_000, burst: () => 3, fallback: { limit: 5 } })).toEqual([
      expect.stringContaining('fallback.burst is required'),
    ]);
    expect(problems({ limit: () => 5, windowMs: 1_000, fallback: { limit: 5 } })).toEqual([]);
  });

  it('refuses a bad fallback, limits with field functions, a limits that is no function and a bad cache', () => {
    expect(problems({ limit: () => 5, windowMs: 1_000, fallback: { limit: NaN, windowMS: 3 } })).toEqual([
      "rules[0].fallback has an unknown field 'windowMS': it takes limit, windowMs and burst.",
      'rules[0].fallback.limit must be a positive integer, got NaN.',
    ]);
    expect(problems({ limit: () => 5, windowMs: 1_000, fallback: 5 })).toEqual([expect.stringContaining('rules[0].fallback must be an object')]);
    expect(problems({ limits: () => ({}), limit: () => 5, windowMs: 1_000, fallback: { limit: 1 } })).toEqual([
      'rules[0] has both limits and limit as a function: give one or the other (limits returns every field in one call).',
    ]);
    expect(problems({ limits: 5, limit: 5, windowMs: 1_000 })).toEqual(['rules[0].limits must be a function, got 5.']);
    expect(problems({ limits: () => ({}), limit: 5, windowMs: 1_000, limitsCache: { ttlMs: 0, maxKeys: Infinity, key: 'k', size: 1 } })).toEqual([
      'rules[0].limitsCache.size is not an option; the options are ttlMs, maxKeys, key.',
      'rules[0].limitsCache.ttlMs must be a positive integer, got 0.',
      'rules[0].limitsCache.maxKeys must be a positive integer, got Infinity.',
      'rules[0].limitsCache.key must be a function, got "k".',
    ]);
    expect(problems({ limit: 5, windowMs: 1_000, limitsCache: { ttlMs: 10 } })).toEqual([
      expect.stringContaining('limitsCache is set but the rule has no dynamic limits'),
    ]);
  });

  it('still requires limit and windowMs as numbers alongside limits (its fallback)', () => {
    expect(problems({ limits: () => ({}), limit: NaN, windowMs: Infinity })).toEqual([
      'rules[0].limit must be a positive integer, got NaN.',
      'rules[0].windowMs must be a positive integer, got Infinity.',
    ]);
  });
});

describe('dynamic limits under an adaptive rule: the admin client view', () => {
  it("reads a client's adaptive state by the limits cached for it (its plan's window and limit), else by the fallback", async () => {
    const { rampart, admitted, clock } = await started({ limits: (ctx) => PLANS[ctx.key] ?? {}, limitsCache: { ttlMs: 60_000 }, adaptive: true });
    const views = () =>
      adaptiveViews(rampart as unknown as Rampart<never>, 'pro', rampart.engine.rulesFor('GET /data').rules as unknown as readonly TargetRule<never>[]);
    // pro: 5 per 10 s, counted under `~10000ms:…`.
    expect(await admitted('pro', 3)).toBe(3);
    expect(await views()).toEqual([expect.objectContaining({ rule: 'plan', baseLimit: 5, effectiveLimit: 5, requestsInInterval: 3 })]);
    // Once the cached answer is stale, the view falls back to the rule's own values: no state under its window.
    clock.advance(60_000);
    expect(await views()).toEqual([]);
    await rampart.stop();
  });
});

describe('dynamic limits: rules merged over them, and the plain path', () => {
  const limit = () => 7;
  const module = resolveRule<unknown>({ name: 'plan', limit, windowMs: 60_000, fallback: { limit: 2 }, limitsCache: { ttlMs: 1_000 } }, 'rules[0]', []);

  it('keeps the functions of the rule an override is merged over, and drops those the override replaces', () => {
    const problems: string[] = [];
    const windowOnly = resolveRule({ ...givenRule(module), windowMs: 1_000 }, 'override', problems);
    expect(windowOnly).toMatchObject({ limit: 2, windowMs: 1_000, dynamic: { functions: { limit }, fallback: { limit: 2 } } });
    expect(windowOnly.storeRule).toMatchObject({ limit: 2, windowMs: 1_000 });
    const fixed = resolveRule(overriddenRule(module, { limit: 5 }), 'override', problems);
    expect(fixed.dynamic).toBeUndefined();
    expect(fixed.storeRule).toMatchObject({ limit: 5, windowMs: 60_000 });
    expect(problems).toEqual([]);
  });

  it('pins the fields an override gives as numbers over a `limits` function: the plan decides the others', async () => {
    const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
    const plan = resolveRule<Ctx>(
      { name: 'plan', limit: 1, windowMs: 60_000, limits: (ctx) => PLANS[ctx.key] ?? {}, limitsCache: { ttlMs: 1_000 } },
      'rules[0]',
      [],
    );
    const problems: string[] = [];
    const pinned = resolveRule(overriddenRule(plan, { name: 'plan', limit: 3 }), 'override', problems);
    const ruleOf = (key: string) => dynamicStoreRule(pinned, pinned.dynamic!, { key }, key, T0, quiet);
    // Before, the plan's limit won over the override's 3, which was only the fallback.
    expect(ruleOf('pro')).toMatchObject({ limit: 3, windowMs: 10_000 });
    expect(ruleOf('free')).toMatchObject({ limit: 3, windowMs: 60_000 });
    expect(pinned.storeRule).toMatchObject({ limit: 3, windowMs: 60_000 });
    // An async plan is pinned alike.
    const slow = resolveRule<Ctx>({ ...givenRule(plan), limits: (ctx) => Promise.resolve(PLANS[ctx.key] ?? {}) }, 'rules[0]', []);
    const slowPinned = resolveRule(overriddenRule(slow, { name: 'plan', windowMs: 5_000 }), 'override', problems);
    expect(await dynamicStoreRule(slowPinned, slowPinned.dynamic!, { key: 'pro' }, 'pro', T0, quiet)).toMatchObject({ limit: 5, windowMs: 5_000 });
    // Numbers for all three fields, or `limits: undefined`, leave no function: the inherited cache goes with it.
    const fixed = resolveRule(overriddenRule(plan, { name: 'plan', limit: 3, windowMs: 1_000, burst: 3 }), 'override', problems);
    expect(fixed.dynamic).toBeUndefined();
    const dropped = resolveRule(overriddenRule(plan, { name: 'plan', limit: 4, limits: undefined }), 'override', problems);
    expect(dropped.dynamic).toBeUndefined();
    expect(dropped.storeRule).toMatchObject({ limit: 4, windowMs: 60_000 });
    expect(problems).toEqual([]);
    // A cache the override gives itself, without any function, is still its own mistake.
    resolveRule(overriddenRule(plan, { name: 'plan', limits: undefined, limitsCache: { ttlMs: 5 } }), 'override', problems);
    expect(problems).toEqual([expect.stringContaining('limitsCache is set but the rule has no dynamic limits')]);
  });

  it("keeps the answers cached by the cache's key apart from those cached by the client key", () => {
    const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
    // A tenant header (here the context's key) names the plan; a request without one is cached by its client key.
    const rule = resolveRule<Ctx>(
      { name: 'plan', limit: 1, windowMs: 60_000, limits: (ctx) => ({ limit: ctx.key === '' ? 2 : 5 }), limitsCache: { ttlMs: 1_000, key: (ctx) => ctx.key } },
      'rules[0]',
      [],
    );
    const ruleOf = (key: string, clientKey: string) => dynamicStoreRule(rule, rule.dynamic!, { key }, clientKey, T0, quiet);
    expect(ruleOf('', 'acme')).toMatchObject({ limit: 2 });
    // Anyone naming the tenant "acme" gets the tenant's own answer, not the one cached for the client "acme"…
    expect(ruleOf('acme', 'someone-else')).toMatchObject({ limit: 5 });
    // …and the client "acme" still gets its own.
    expect(ruleOf('', 'acme')).toMatchObject({ limit: 2 });
    expect(rule.dynamic!.cache!.size).toBe(2);
  });

  it("resolves the adaptive option again over the merged rule: its interval follows the override's window", () => {
    const problems: string[] = [];
    const adaptive = resolveRule({ name: 'api', limit: 100, windowMs: 60_000, adaptive: true }, 'rules[0]', problems);
    expect(adaptive.adaptive).toMatchObject({ intervalMs: 60_000, limit: 100 });
    const faster = resolveRule(overriddenRule(adaptive, { name: 'api', windowMs: 1_000, limit: 10 }), 'override', problems);
    expect(faster.adaptive).toMatchObject({ intervalMs: 1_000, limit: 10 });
    const given = resolveRule({ name: 'api', limit: 100, windowMs: 60_000, adaptive: { intervalMs: 5_000, max: 150 } }, 'rules[0]', problems);
    const kept = resolveRule(overriddenRule(given, { name: 'api', windowMs: 1_000 }), 'override', problems);
    expect(kept.adaptive).toMatchObject({ intervalMs: 5_000, max: 150 });
    expect(problems).toEqual([]);
    // Checked again too: a min above the override's limit is a startup error, as on a module rule.
    resolveRule(
      overriddenRule(resolveRule({ name: 'api', limit: 100, windowMs: 1_000, adaptive: { min: 10 } }, 'r', []), { name: 'api', limit: 5 }),
      'override',
      problems,
    );
    expect(problems).toEqual([expect.stringContaining('override.adaptive')]);
  });

  it('leaves targets without dynamic limits on the plain path, with a cached policy', () => {
    const fixed = resolveRule({ name: 'fixed', limit: 5, windowMs: 1_000 }, 'rules[1]', []);
    expect(targetRules('t', [fixed])).toMatchObject({ plain: true });
    expect(targetRules('t', [fixed])).not.toHaveProperty('varying');
    expect(targetRules('t', [fixed, module])).toMatchObject({ plain: false, varying: true });
  });
});
