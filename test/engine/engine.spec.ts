import { createRampart, type RampartOptions, type RateLimitStore, type Verdict } from '../../lib/engine/index.js';
import { MemoryRateLimitStore } from '../../lib/storage/memory-rate-limit.store.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function started<C = unknown>(options: RampartOptions<C> = {}) {
  const clock = new FakeClock(T0);
  const rampart = createRampart<C>({ clock, logger: silent, rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }], ...options });
  await rampart.start();
  return { rampart, clock };
}

/** Asks for one decision and waits for it when it came as a promise. */
async function decide(rampart: { decide(r: never): unknown }, request: object): Promise<Verdict> {
  return (await rampart.decide(request as never)) as Verdict;
}

describe('RampartEngine (through createRampart, without Nest)', () => {
  it('admits, with each rule result for headers, then limits with the rule and the wait', async () => {
    const { rampart } = await started();
    const first = await decide(rampart, { target: 'GET /search', address: CLIENT });
    expect(first).toMatchObject({ outcome: 'admitted', nowMs: T0, results: [{ name: 'default', limit: 2, remaining: 1, clientKey: CLIENT }] });
    await decide(rampart, { target: 'GET /search', address: CLIENT });
    const third = await decide(rampart, { target: 'GET /search', address: CLIENT });
    expect(third).toMatchObject({ outcome: 'limited', retryAfterMs: 60_000, rule: { name: 'default', result: { allowed: false } } });
    // Another target counts on its own; another client too.
    expect((await decide(rampart, { target: 'GET /other', address: CLIENT })).outcome).toBe('admitted');
    expect((await decide(rampart, { target: 'GET /search', address: '203.0.113.8' })).outcome).toBe('admitted');
    await rampart.stop();
  });

  it('answers synchronously with a store that answers synchronously, and with a promise otherwise', async () => {
    const { rampart } = await started();
    const sync = rampart.decide({ target: 't', address: CLIENT });
    expect(sync).not.toBeInstanceOf(Promise);
    expect((sync as Verdict).outcome).toBe('admitted');
    await rampart.stop();

    const inner = new MemoryRateLimitStore();
    const asyncStore: RateLimitStore = {
      consume: (...args) => Promise.resolve(inner.consume(...args)),
      get: (...args) => inner.get(...args),
      reset: (key) => inner.reset(key),
    };
    const { rampart: other } = await started({ store: asyncStore });
    const answer = other.decide({ target: 't', address: CLIENT });
    expect(answer).toBeInstanceOf(Promise);
    expect((await answer).outcome).toBe('admitted');
    await other.stop();
  });

  it('counts an identity instead of the address, and refuses a banned identity before any rule', async () => {
    const { rampart } = await started();
    await rampart.service.ban({ type: 'key', key: 'user-42' }, 'permanent', undefined, 'abuse', 'ops');
    expect(await decide(rampart, { target: 't', address: CLIENT, identity: 'user-42' })).toMatchObject({ outcome: 'banned', reason: 'banned', results: [] });
    expect((await decide(rampart, { target: 't', address: CLIENT, identity: 'user-43' })).outcome).toBe('admitted');
    // An address's range ban applies whatever identity the client presents.
    await rampart.service.ban({ type: 'cidr', cidr: '203.0.113.0/24' }, 'temporary', 60_000, 'abuse', 'ops');
    expect(await decide(rampart, { target: 't', address: CLIENT, identity: 'user-43' })).toMatchObject({ outcome: 'blocked', retryAfterMs: 60_000 });
    await rampart.stop();
  });

  it('answers deny-listed clients as banned and lets allow-listed ones through uncounted', async () => {
    const { rampart } = await started();
    await rampart.service.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    await rampart.service.putAccessEntry('allow', CLIENT, 'ops');
    expect(await decide(rampart, { target: 't', address: '198.51.100.9' })).toMatchObject({ outcome: 'banned', reason: 'deny-listed' });
    for (let i = 0; i < 5; i++) expect(await decide(rampart, { target: 't', address: CLIENT })).toMatchObject({ outcome: 'admitted', results: [] });
    await rampart.stop();
  });

  it('escalates repeated violations to a block, which answers the very request', async () => {
    const { rampart } = await started({ escalation: { blockAfterViolations: 2, blockDurationMs: 600_000 } });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) outcomes.push((await decide(rampart, { target: 't', address: CLIENT, method: 'POST', protocol: 'rpc' })).outcome);
    expect(outcomes).toEqual(['admitted', 'admitted', 'limited', 'blocked', 'blocked']);
    const status = await rampart.service.status(CLIENT);
    expect(status.ban).toMatchObject({ kind: 'temporary', source: 'auto', blockCount: 1 });
    await rampart.stop();
  });

  it('charges the request cost, rounded up and bounded by the rule capacity', async () => {
    const { rampart } = await started({ rules: [{ limit: 10, windowMs: 60_000, algorithm: 'fixed-window' }] });
    expect(await decide(rampart, { target: 't', address: CLIENT, cost: 3.2 })).toMatchObject({ outcome: 'admitted', results: [{ cost: 4, remaining: 6 }] });
    expect(await decide(rampart, { target: 't', address: CLIENT, cost: 1e9 })).toMatchObject({ outcome: 'limited', rule: { cost: 11 } });
    expect(await decide(rampart, { target: 't', address: CLIENT, cost: -5 })).toMatchObject({ outcome: 'admitted', results: [{ cost: 1, remaining: 5 }] });
    await rampart.stop();
  });

  it('is unavailable while the store is down for a rule that fails closed, and admits uncounted for one that fails open', async () => {
    const failing: RateLimitStore = {
      consume: () => Promise.reject(new Error('connection refused')),
      get: () => Promise.resolve(null),
      reset: () => Promise.resolve(),
    };
    const { rampart } = await started({
      store: failing,
      storeFallback: false,
      rules: [
        { name: 'strict', limit: 2, windowMs: 60_000, onStoreError: 'deny' },
        { name: 'lenient', limit: 2, windowMs: 60_000 },
      ],
    });
    expect(await decide(rampart, { target: 't', address: CLIENT })).toMatchObject({ outcome: 'unavailable', retryAfterMs: 1_000 });
    const { rampart: open } = await started({ store: failing, storeFallback: false });
    expect(await decide(open, { target: 't', address: CLIENT })).toMatchObject({ outcome: 'admitted', results: [] });
    await Promise.all([rampart.stop(), open.stop()]);
  });

  it("hands the request's context to the rules' hooks", async () => {
    const { rampart } = await started<{ user: string; weight: number }>({
      rules: [{ name: 'per-user', limit: 5, windowMs: 60_000, keyResolver: (c) => c.user, cost: (c) => c.weight }],
    });
    const verdict = await decide(rampart, { target: 'job', address: null, context: { user: 'u-1', weight: 2 } });
    expect(verdict).toMatchObject({ outcome: 'admitted', results: [{ clientKey: 'u-1', cost: 2, remaining: 3 }] });
    await rampart.stop();
  });

  it('writes RateLimit headers and Retry-After for a verdict', async () => {
    const { rampart } = await started();
    const headers: Record<string, string> = {};
    const set = (h: Record<string, string>, name: string, value: string) => void (h[name] = value);
    rampart.headers.write(await decide(rampart, { target: 't', address: CLIENT }), headers, set);
    expect(headers).toEqual({ 'RateLimit-Policy': '"default";q=2;w=60', RateLimit: '"default";r=1;t=60' });
    await decide(rampart, { target: 't', address: CLIENT });
    rampart.headers.write(await decide(rampart, { target: 't', address: CLIENT }), headers, set);
    expect(headers).toMatchObject({ RateLimit: '"default";r=0;t=60', 'Retry-After': '60' });
    await rampart.stop();
  });

  it('reports every bad option at once', () => {
    expect(() => createRampart({ rules: [{ limit: 0, windowMs: -1 }], logger: {} as never })).toThrow(
      /rules\[0\]\.limit[\s\S]*rules\[0\]\.windowMs[\s\S]*logger/,
    );
  });

  it('shares one storage between two instances: a ban on one is enforced by the other after a sync', async () => {
    const storage = memoryStorage();
    const a = await started({ storage });
    const b = await started({ storage });
    await a.rampart.service.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'ops');
    await b.rampart.service.syncNow();
    expect((await decide(b.rampart, { target: 't', address: CLIENT })).outcome).toBe('banned');
    await Promise.all([a.rampart.stop(), b.rampart.stop()]);
  });

  it("applies the module's keyResolver and skipIf to requests that carry no identity of their own", async () => {
    const { rampart } = await started<{ user?: string; internal?: boolean }>({
      keyResolver: (c) => c.user,
      skipIf: (c) => c.internal === true,
    });
    expect(await decide(rampart, { target: 't', address: CLIENT, context: { user: 'alice' } })).toMatchObject({ results: [{ clientKey: 'alice' }] });
    for (let i = 0; i < 3; i++)
      expect(await decide(rampart, { target: 't', address: CLIENT, context: { internal: true } })).toMatchObject({ outcome: 'admitted', results: [] });
    // Not the adapter's: skipChecked says the adapter asked skipIf itself.
    expect(await decide(rampart, { target: 't', address: CLIENT, context: { user: 'bob', internal: true }, skipChecked: true })).toMatchObject({
      results: [{ clientKey: 'bob' }],
    });
    await rampart.stop();
  });

  it("counts a request without a storeKey hook under the default keys, even after another adapter's hooked requests", async () => {
    const { rampart } = await started();
    const hooked = { target: 't', address: CLIENT, storeKey: (_c: unknown, identity: string) => `custom:${identity}` };
    await decide(rampart, hooked);
    await decide(rampart, hooked);
    expect((await decide(rampart, hooked)).outcome).toBe('limited');
    // The same client and target with the default key format: its own, untouched pool.
    expect(await decide(rampart, { target: 't', address: CLIENT })).toMatchObject({ outcome: 'admitted', results: [{ remaining: 1 }] });
    await rampart.stop();
  });

  it('takes a raw address to its canonical form, so lists and range bans match it; text that is no address is unknown', async () => {
    const { rampart } = await started();
    await rampart.service.putAccessEntry('deny', 'fe80::/10', 'ops', { force: true });
    expect(await decide(rampart, { target: 't', address: 'fe80::1%eth0' })).toMatchObject({ outcome: 'banned', reason: 'deny-listed' });
    expect(await decide(rampart, { target: 't', address: '::ffff:203.0.113.7' })).toMatchObject({ results: [{ clientKey: CLIENT }] });
    expect(await decide(rampart, { target: 't', address: 'not an address' })).toMatchObject({ outcome: 'admitted', results: [{ clientKey: 'unknown' }] });
    await rampart.stop();
  });

  it('counts clients without an address under the shared key unknown, and never escalates it to a block or ban', async () => {
    const escalation = { blockAfterViolations: 1, permanentBanAfter: 2 };
    const { rampart } = await started({ escalation });
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) outcomes.push((await decide(rampart, { target: 't', address: null })).outcome);
    expect(outcomes).toEqual(['admitted', 'admitted', ...Array(10).fill('limited')]);
    expect(await rampart.service.status('unknown')).toMatchObject({ ban: null, verdict: { status: 'none' }, recentViolations: 10 });
    // A client with an address is escalated by the same policy.
    for (let i = 0; i < 3; i++) await decide(rampart, { target: 't', address: CLIENT });
    expect((await decide(rampart, { target: 't', address: CLIENT })).outcome).toBe('blocked');
    await rampart.stop();
    // An identity that merely names itself `unknown` (a key resolver's answer) has an address and escalates as any.
    const { rampart: other } = await started({ escalation, keyResolver: () => 'unknown' });
    for (let i = 0; i < 3; i++) await decide(other, { target: 't', address: CLIENT });
    expect((await decide(other, { target: 't', address: CLIENT })).outcome).toBe('blocked');
    await other.stop();
  });

  it('counts a rule with its own ipv6PrefixLength per wider network, and refuses a network escalation blocked', async () => {
    const rules = [
      { limit: 100, windowMs: 60_000, algorithm: 'fixed-window' as const },
      { name: 'per-48', limit: 2, windowMs: 60_000, algorithm: 'fixed-window' as const, ipv6PrefixLength: 48 },
    ];
    const { rampart } = await started({ rules, escalation: { blockAfterViolations: 1 } });
    const at = (address: string, identity?: string) => decide(rampart, { target: 't', address, ...(identity ? { identity } : {}) });
    expect(await at('2001:db8:1:1::1')).toMatchObject({ results: [{ clientKey: '2001:db8:1:1::/64' }, { clientKey: '2001:db8:1::/48' }] });
    await at('2001:db8:1:2::1');
    // The violation blocks the /48: every /64 in it is refused, other networks are not.
    expect(await at('2001:db8:1:3::1')).toMatchObject({ outcome: 'blocked', ban: { target: { type: 'key', key: '2001:db8:1::/48' } } });
    expect((await at('2001:db8:1:4::1')).outcome).toBe('blocked');
    expect((await at('2001:db8:2:1::1')).outcome).toBe('admitted');
    // A client identified otherwise (a user id) is counted by that identity under the rule...
    expect(await at('2001:db8:3:1::1', 'user-7')).toMatchObject({ outcome: 'admitted', results: [{ clientKey: 'user-7' }, { clientKey: 'user-7' }] });
    // ...and its network's block applies whatever identity it presents, as its address's would.
    expect((await at('2001:db8:1:5::1', 'user-8')).outcome).toBe('blocked');
    await rampart.stop();
    expect(() => createRampart({ rules: [{ limit: 1, windowMs: 1_000, ipv6PrefixLength: 0 }] })).toThrow(
      /rules\[0\]\.ipv6PrefixLength must be an integer from 1 to 128/,
    );
    expect(() => createRampart({ rules: [{ limit: 1, windowMs: 1_000, ipv6PrefixLength: 48, keyResolver: () => 'user' }] })).toThrow(
      /rules\[0\] has both keyResolver and ipv6PrefixLength/,
    );
  });

  it('never throws: a failing hook or a malformed request comes back as a rejected promise', async () => {
    const { rampart } = await started<{ fail: boolean }>({
      keyResolver: () => {
        throw new Error('resolver broke');
      },
    });
    let answer: unknown;
    expect(() => (answer = rampart.decide({ target: 't', address: CLIENT, context: { fail: true } }))).not.toThrow();
    await expect(answer).rejects.toThrow('resolver broke');
    await expect(rampart.decide({ target: 't', address: CLIENT, identity: 42 as never })).rejects.toThrow(TypeError);
    await rampart.stop();
  });

  it('starts once however often start() is called, and refuses to start again after stop()', async () => {
    const { rampart } = await started();
    await expect(rampart.start()).resolves.toBeUndefined();
    await rampart.stop();
    await expect(rampart.start()).rejects.toThrow('cannot start again');
  });

  it('names createRampart in its configuration error', () => {
    expect(() => createRampart({ rules: [{ limit: 0, windowMs: 1_000 }] })).toThrow(/^createRampart is misconfigured \(1 problem\):/);
  });
});
