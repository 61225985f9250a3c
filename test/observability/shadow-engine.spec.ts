import { createRampart, type RampartOptions, type Verdict } from '../../lib/engine/index.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const ESCALATION = { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 };

async function started(options: RampartOptions = {}) {
  const clock = new FakeClock(T0);
  const rampart = createRampart({ clock, logger: silent, escalation: ESCALATION, ...options });
  const events: string[] = [];
  rampart.events.listen((name, event) =>
    events.push(`${name} ${(event as { key?: string; target?: { key?: string } }).key ?? (event as { target?: { key?: string } }).target?.key}`),
  );
  await rampart.start();
  return { rampart, clock, events };
}

const decide = async (rampart: { decide(r: never): unknown }, request: object) => (await rampart.decide(request as never)) as Verdict;

describe('Shadow mode in the engine', () => {
  const saved = process.env.RAMPART_SHADOW;
  afterEach(() => {
    if (saved === undefined) delete process.env.RAMPART_SHADOW;
    else process.env.RAMPART_SHADOW = saved;
  });

  it('a shadow rule admits what it would refuse, escalates the shadow key only, and sends no header of its own', async () => {
    const { rampart, events } = await started({
      rules: [
        { name: 'enforced', limit: 100, windowMs: 60_000, algorithm: 'fixed-window' },
        { name: 'candidate', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true },
      ],
    });
    const verdicts: Verdict[] = [];
    for (let i = 0; i < 6; i++) verdicts.push(await decide(rampart, { target: 'GET /x', address: CLIENT }));
    expect(verdicts.map((v) => v.outcome)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'admitted']);
    // Only the enforced rule is in the results (what headers are written from).
    for (const v of verdicts) expect(v.results.map((r) => r.name)).toEqual(['enforced']);
    // 2nd: would have limited; 3rd: the second violation would have blocked; 4th-6th: the shadow block holds.
    expect(verdicts.map((v) => (v.outcome === 'admitted' ? (v.shadow?.outcome ?? 'none') : v.outcome))).toEqual([
      'none',
      'limited',
      'blocked',
      'blocked',
      'blocked',
      'blocked',
    ]);
    expect(events).toEqual([`rampart.violation shadow:${CLIENT}`, `rampart.violation shadow:${CLIENT}`, `rampart.block shadow:${CLIENT}`]);
    // The client itself is neither blocked nor recorded.
    expect((await rampart.service.status(CLIENT)).ban).toBeNull();
    expect(await rampart.config.storage.violations.count(CLIENT, 0)).toBe(0);
    expect(await rampart.config.storage.violations.count(`shadow:${CLIENT}`, 0)).toBe(2);
    await rampart.stop();
  });

  it('the module option (or RAMPART_SHADOW) shadows every rule, ban and list entry; an enforced refusal wins otherwise', async () => {
    process.env.RAMPART_SHADOW = 'true';
    const { rampart } = await started({ shadow: false, rules: [{ name: 'r', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }] });
    await rampart.service.ban({ type: 'key', key: '198.51.100.1' }, 'permanent', undefined, 'abuse', 'ops');
    const banned = await decide(rampart, { target: 'GET /x', address: '198.51.100.1' });
    expect(banned).toMatchObject({ outcome: 'admitted', results: [], shadow: { outcome: 'banned', reason: 'banned' } });
    await decide(rampart, { target: 'GET /x', address: CLIENT });
    expect(await decide(rampart, { target: 'GET /x', address: CLIENT })).toMatchObject({ outcome: 'admitted', results: [], shadow: { outcome: 'limited' } });
    await rampart.stop();

    process.env.RAMPART_SHADOW = 'maybe';
    expect(() => createRampart({ logger: silent })).toThrow(/RAMPART_SHADOW must be true, 1, on, yes, false, 0, off or no, got "maybe"/);
    delete process.env.RAMPART_SHADOW;
    expect(() => createRampart({ logger: silent, shadow: 'yes' as never })).toThrow(/shadow must be true or false/);
    expect(() => createRampart({ logger: silent, rules: [{ limit: 1, windowMs: 1_000, shadow: 1 as never }] })).toThrow(
      /rules\[0\]\.shadow must be true or false/,
    );
  });

  it('an identity that reads like a shadow key is keyed apart from it', async () => {
    const { rampart } = await started({ rules: [{ name: 'r', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true }] });
    const verdict = await decide(rampart, { target: 'GET /x', address: CLIENT, identity: `shadow:${CLIENT}` });
    expect(verdict.results).toEqual([]);
    await decide(rampart, { target: 'GET /x', address: CLIENT, identity: `shadow:${CLIENT}` });
    expect(await rampart.config.storage.violations.count(`shadow:id:shadow:${CLIENT}`, 0)).toBe(1);
    expect(await rampart.config.storage.violations.count(`shadow:${CLIENT}`, 0)).toBe(0);
    await rampart.stop();
  });
});

describe('Shadow rules never refuse', () => {
  it('not by the outage policy: a shadow rule whose store fails is left out, the enforced rule still decides', async () => {
    const failing = { consume: () => Promise.reject(new Error('down')), get: () => Promise.resolve(undefined), reset: () => Promise.resolve() };
    const { rampart } = await started({
      store: failing as never,
      storeFallback: false,
      rules: [{ name: 'candidate', limit: 5, windowMs: 60_000, shadow: true, onStoreError: 'deny' }],
    });
    expect(await decide(rampart, { target: 'GET /x', address: CLIENT })).toMatchObject({ outcome: 'admitted', results: [] });
    await rampart.stop();
  });

  it('not by a ban on its own identity: reported as what it would have been, while the enforced rule counts', async () => {
    const { rampart } = await started({
      rules: [
        { name: 'enforced', limit: 100, windowMs: 60_000, algorithm: 'fixed-window' },
        { name: 'per-key', limit: 5, windowMs: 60_000, algorithm: 'fixed-window', shadow: true, keyResolver: () => 'api-key-1' },
      ],
    });
    await rampart.service.ban({ type: 'key', key: 'api-key-1' }, 'permanent', undefined, 'abuse', 'ops');
    const verdict = await decide(rampart, { target: 'GET /x', address: CLIENT });
    expect(verdict).toMatchObject({ outcome: 'admitted', results: [{ name: 'enforced', remaining: 99 }], shadow: { outcome: 'banned' } });
    await rampart.stop();
  });

  it("an enforced refusal wins, and still carries the shadow rules' results; events mark what shadow mode computed", async () => {
    const shadowFlags: (boolean | undefined)[] = [];
    const { rampart } = await started({
      events: { onViolation: (e) => void shadowFlags.push(e.shadow), onBlock: (e) => void shadowFlags.push(e.shadow) },
      rules: [
        { name: 'enforced', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' },
        { name: 'candidate', limit: 10, windowMs: 60_000, algorithm: 'fixed-window', shadow: true },
      ],
    });
    await decide(rampart, { target: 'GET /x', address: CLIENT });
    const refused = await decide(rampart, { target: 'GET /x', address: CLIENT });
    expect(refused).toMatchObject({ outcome: 'limited', results: [{ name: 'enforced' }], shadowResults: [{ name: 'candidate', remaining: 8 }] });
    expect(rampart.stats!.summary(T0).buckets[0].rules).toEqual([
      ['enforced', 2, 1, 1],
      ['candidate', 2, 0, 0],
    ]);
    expect(shadowFlags).toEqual([undefined]);
    await rampart.stop();

    const { rampart: trial } = await started({
      events: { onViolation: (e) => void shadowFlags.push(e.shadow), onBlock: (e) => void shadowFlags.push(e.shadow) },
      rules: [{ name: 'candidate', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true }],
    });
    for (let i = 0; i < 3; i++) await decide(trial, { target: 'GET /x', address: CLIENT });
    expect(shadowFlags).toEqual([undefined, true, true, true]);
    await trial.stop();
  });

  it("a refusal before the enforced rules answered still carries, and records, the shadow rules' answers", async () => {
    const { rampart } = await started({
      rules: [
        { name: 'per-key', limit: 100, windowMs: 60_000, algorithm: 'fixed-window', keyResolver: () => 'api-key-2' },
        { name: 'candidate', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true },
      ],
    });
    await decide(rampart, { target: 'GET /x', address: CLIENT });
    await rampart.service.ban({ type: 'key', key: 'api-key-2' }, 'permanent', undefined, 'abuse', 'ops');
    const verdict = await decide(rampart, { target: 'GET /x', address: CLIENT });
    expect(verdict).toMatchObject({ outcome: 'banned', shadowResults: [{ name: 'candidate', result: { allowed: false } }] });
    expect(await rampart.config.storage.violations.count(`shadow:${CLIENT}`, 0)).toBe(1);
    await rampart.stop();
  });

  it("in the module's shadow mode, a rule's own identity under its shadow block is reported blocked, not counted", async () => {
    const { rampart } = await started({
      shadow: true,
      escalation: { ...ESCALATION, blockAfterViolations: 1 },
      rules: [{ name: 'per-key', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', keyResolver: () => 'api-key-3' }],
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const v = await decide(rampart, { target: 'GET /x', address: CLIENT });
      outcomes.push(v.outcome === 'admitted' ? (v.shadow?.outcome ?? 'none') : v.outcome);
    }
    // 1st admitted, 2nd would have been limited and its violation would have blocked (one violation
    // blocks here), 3rd and 4th: the would-be block of api-key-3 holds, and the rule does not count.
    expect(outcomes).toEqual(['none', 'blocked', 'blocked', 'blocked']);
    expect(await rampart.config.storage.violations.count('shadow:api-key-3', 0)).toBe(1);
    await rampart.stop();
  });

  it('answers synchronously on the memory store while no violation is recorded', async () => {
    const { rampart } = await started({ rules: [{ name: 'candidate', limit: 5, windowMs: 60_000, shadow: true }] });
    const verdict = rampart.decide({ target: 'GET /x', address: CLIENT });
    expect(verdict).not.toBeInstanceOf(Promise);
    expect(verdict).toMatchObject({ outcome: 'admitted', results: [], shadowResults: [{ name: 'candidate', remaining: 4 }] });
    await rampart.stop();
  });
});

describe('DecisionRecorder', () => {
  it('counts each decision by protocol, outcome and deciding rule, near-limit admissions and refusals by key', async () => {
    const { rampart } = await started({
      escalation: false,
      rules: [
        { name: 'burst', limit: 5, windowMs: 1_000, algorithm: 'fixed-window' },
        { name: 'minute', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' },
      ],
    });
    for (let i = 0; i < 5; i++) await decide(rampart, { target: 'GET /x', address: CLIENT });
    await decide(rampart, { target: 'chat.message', address: CLIENT, protocol: 'ws', method: 'WS' });
    const stats = rampart.stats!;
    expect([...stats.decisionSeries()]).toEqual([
      { labels: { protocol: 'http', outcome: 'allowed', rule: 'minute' }, value: 3 },
      { labels: { protocol: 'http', outcome: 'limited', rule: 'minute' }, value: 2 },
      { labels: { protocol: 'ws', outcome: 'allowed', rule: 'minute' }, value: 1 },
    ]);
    // minute: its 3rd admission used 3/3 (80 % of 3 is 2.4); burst: its 4th and 5th used 4/5 and 5/5
    // (refused by minute, but admitted by burst).
    expect([...stats.nearLimitSeries()]).toEqual([
      { labels: { protocol: 'http', rule: 'minute' }, value: 1 },
      { labels: { protocol: 'http', rule: 'burst' }, value: 2 },
    ]);
    expect([...stats.hitSeries()]).toEqual([{ labels: { limit_type: 'http' }, value: 2 }]);
    const [bucket] = stats.summary(T0).buckets;
    expect(bucket.outcomes).toEqual([4, 2, 0, 0, 0, 0, 0, 0]);
    expect(bucket.keys).toEqual([[CLIENT, 2]]);
    expect(bucket.rules).toEqual([
      ['burst', 6, 0, 2],
      ['minute', 6, 2, 1],
    ]);
    await rampart.stop();
  });
});
