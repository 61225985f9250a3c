import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { escalationModule } from './escalation.app.js';

const START = Date.UTC(2030, 0, 1); // a whole multiple of the 60 s windows
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** supertest connects over loopback; the client key is its address. */
const CLIENT = '127.0.0.1';

describe.each(ADAPTERS)('escalation on %s', (adapter) => {
  let clock: FakeClock;
  let storage: MemoryStorage;
  let t: TestApp;

  beforeEach(async () => {
    clock = new FakeClock(START);
    storage = memoryStorage();
    t = await startApp(adapter, escalationModule(clock, storage));
  });
  afterEach(() => t.close());

  const violations = () => storage.violations.count(CLIENT, 0);

  /** One admitted request, then `count` requests denied by the rule's algorithm (violations). */
  async function violate(count: number): Promise<void> {
    await t.http().get('/data').expect(200);
    for (let i = 0; i < count; i++) {
      const res = await t.http().get('/data').expect(429);
      expect(res.body.rule).toBe('default');
    }
  }

  /** The request that reaches the block threshold: answered by the new block. */
  async function expectBlockStarts(minutes: number) {
    const res = await t.http().get('/data').expect(429);
    expect(res.headers['retry-after']).toBe(String(minutes * 60));
    expect(res.body).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: `Blocked after repeated rate-limit violations until ${new Date(clock.now() + minutes * MINUTE).toISOString()}. Retry in ${minutes * 60} s.`,
      blockedUntil: new Date(clock.now() + minutes * MINUTE).toISOString(),
      retryAfterSeconds: minutes * 60,
    });
    expect(res.headers['ratelimit']).toBe('"default";r=0;t=60');
  }

  it('escalates one client from 429s to blocks of 15, 30 and 60 min, then to a permanent 403', async () => {
    // 429, 429, then the third violation starts a 15-minute block.
    await violate(2);
    await expectBlockStarts(15);
    expect(await violations()).toBe(3);

    // During the block every request is answered from the cache, and none is a violation.
    clock.advance(14 * MINUTE);
    const during = await t.http().get('/data').expect(429);
    expect(during.headers['retry-after']).toBe('60');
    expect(during.body.blockedUntil).toBe(new Date(START + 15 * MINUTE).toISOString());
    expect(during.headers['ratelimit']).toBeUndefined(); // no rule was counted
    await t.http().get('/data').expect(429);
    expect(await violations()).toBe(3);

    // The block ends: the client is admitted; three more violations bring a second block, twice as long.
    clock.advance(MINUTE);
    await violate(2);
    await expectBlockStarts(30);
    const record = await storage.bans.get({ type: 'key', key: CLIENT });
    expect(record).toMatchObject({ kind: 'temporary', source: 'auto', blockCount: 2, violationCount: 6 });

    clock.advance(30 * MINUTE);
    await violate(2);
    await expectBlockStarts(60);

    // The tenth violation within 24 hours: a permanent ban, answered with 403.
    clock.advance(60 * MINUTE);
    await t.http().get('/data').expect(200);
    const banned = await t.http().get('/data').expect(403);
    expect(banned.body).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'This client is banned. Ask the operator of this service to lift the ban.',
      reason: 'banned',
    });
    expect(banned.headers['retry-after']).toBeUndefined();
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toMatchObject({ kind: 'permanent', source: 'auto', blockCount: 3, violationCount: 10 });

    // Still banned a week later, on every limited route.
    clock.advance(7 * 24 * HOUR);
    await t.http().get('/data').expect(403);
    await t.http().post('/login').expect(403);
    expect(await violations()).toBe(10);
  });

  it('starts one block, not several, when violations arrive at once', async () => {
    await t.http().get('/data').expect(200);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        t
          .http()
          .get('/data')
          .then((r) => [r.status, r.headers['retry-after']]),
      ),
    );
    expect(statuses.every(([status]) => status === 429)).toBe(true);
    // The two violations before the block are answered by the rule, every later one by the block.
    expect(statuses.filter(([, retryAfter]) => retryAfter === '900')).toHaveLength(6);
    expect(await violations()).toBe(3);
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toMatchObject({ blockCount: 1 });
  });

  it('keeps the block count when a block expires', async () => {
    await violate(2);
    await expectBlockStarts(15);
    clock.advance(15 * MINUTE);
    await t.http().get('/data').expect(200);
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toMatchObject({ blockCount: 1 });
    // Hours later, still within the 24-hour window: the next block is the second one.
    clock.advance(5 * HOUR);
    await violate(2);
    await expectBlockStarts(30);
  });

  it('forgets violations older than the 24-hour window', async () => {
    await violate(2);
    clock.advance(24 * HOUR + MINUTE);
    // The two earlier violations are now outside the window: two more are not yet a block.
    await violate(2);
    clock.advance(MINUTE);
    await violate(0);
    await expectBlockStarts(15);
    expect(await violations()).toBe(5);
  });

  it('does not count requests denied by a rule block as violations', async () => {
    await t.http().post('/login').expect(201);
    const first = await t.http().post('/login').expect(429); // the algorithm denies: violation 1, rule block of 2 min
    expect(first.headers['retry-after']).toBe('120');
    for (let i = 0; i < 5; i++) await t.http().post('/login').expect(429); // inside the rule's block
    expect(await violations()).toBe(1);
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toBeNull();
  });

  it('neither escalates nor counts the violations of a rule with escalation off', async () => {
    await t.http().get('/search').expect(200);
    for (let i = 0; i < 12; i++) {
      const res = await t.http().get('/search').expect(429);
      expect(res.body.rule).toBe('search');
    }
    expect(await violations()).toBe(0);
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toBeNull();
    // So they do not bring the client nearer to a block under another rule.
    await violate(2);
    await expectBlockStarts(15);
  });

  it("applies a rule's own escalation settings, merged over the module's", async () => {
    await t.http().post('/otp').expect(201);
    await t.http().post('/otp').expect(429);
    const blocked = await t.http().post('/otp').expect(429);
    expect(blocked.headers['retry-after']).toBe('60');
    expect(blocked.body.blockedUntil).toBeDefined();
    // The block covers the client on every route.
    await t.http().get('/data').expect(429);
  });
});

describe.each(ADAPTERS)('escalation settings on %s', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  it('blocks per the module settings and caps the growth', async () => {
    const clock = new FakeClock(START);
    const storage = memoryStorage();
    t = await startApp(
      adapter,
      escalationModule(clock, storage, {
        escalation: { blockAfterViolations: 1, blockDurationMs: 10 * SECOND, blockMultiplier: 3, maxBlockDurationMs: 60 * SECOND, permanentBanAfter: 0 },
      }),
    );
    for (const seconds of [10, 30, 60, 60]) {
      clock.advance(MINUTE);
      await t.http().get('/data').expect(200);
      const res = await t.http().get('/data').expect(429);
      expect(res.headers['retry-after']).toBe(String(seconds));
    }
    expect(await storage.bans.get({ type: 'key', key: CLIENT })).toMatchObject({ kind: 'temporary', blockCount: 4 });
  });

  it('only answers by the rule when escalation is off for the module', async () => {
    const clock = new FakeClock(START);
    const storage = memoryStorage();
    t = await startApp(adapter, escalationModule(clock, storage, { escalation: false }));
    await t.http().get('/data').expect(200);
    for (let i = 0; i < 12; i++) {
      const res = await t.http().get('/data').expect(429);
      expect(res.body.rule).toBe('default');
    }
    expect(await storage.violations.count(CLIENT, 0)).toBe(0);
    // A rule's own settings (merged over the defaults) still escalate its violations.
    await t.http().post('/otp').expect(201);
    await t.http().post('/otp').expect(429);
    await t.http().post('/otp').expect(429).expect('retry-after', '60');
    expect(await storage.violations.count(CLIENT, 0)).toBe(2);
  });
});
