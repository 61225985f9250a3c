import { Rampart, type DdosAttackEvent } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type TestApp } from '../support/http-app.js';
import { ADMIN_KEY, bot, BOTS, ddosModule, flood, from, HEAVY, listening, STEADY } from './ddos.app.js';

const START = Date.UTC(2030, 0, 1);

describe.each(ADAPTERS)('DDoS detection over HTTP on %s (memory store)', (adapter) => {
  let t: TestApp;
  let clock: FakeClock;
  const attacks: DdosAttackEvent[] = [];

  beforeEach(async () => {
    clock = new FakeClock(START);
    attacks.length = 0;
    t = await listening(adapter, ddosModule(clock, { events: { onDdosAttack: (e) => void attacks.push(e) } }), []);
  });
  afterEach(() => t.close());

  it('trips on a flood from many addresses and blocks the flooders, while a steady client keeps its access', async () => {
    const steady = await flood(clock, t);
    expect(steady.every((s) => s === 200)).toBe(true);
    expect(attacks).toEqual([expect.objectContaining({ phase: 'start', requests: 150, threshold: 150 })]);
    expect(attacks[0]!.endpoints.map((e) => e.endpoint)).toContain('ShopController.item');

    // Every bot is blocked (429 with the block's Retry-After), the steady and the heavy client are not.
    for (let i = 0; i < BOTS; i++) await from(t, bot(i), '/search').expect(429).expect('retry-after', '1800');
    await from(t, STEADY, '/search').expect(200);
    await from(t, HEAVY, '/search').expect(200);

    // The admin API lists the blocks, by their source.
    const listed = await t.http().get('/rate-limit/bans?source=ddos&limit=100').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    const items = listed.body.items as { key: string; source: string; kind: string; reason: string; active: boolean }[];
    expect(items.map((b) => b.key).sort()).toEqual(Array.from({ length: BOTS }, (_, i) => bot(i)).sort());
    for (const ban of items)
      expect(ban).toMatchObject({ source: 'ddos', kind: 'temporary', active: true, reason: expect.stringMatching(/^ddos: suspicion score/) });
    const client = await t
      .http()
      .get(`/rate-limit/clients/${bot(3)}`)
      .set('Authorization', `Bearer ${ADMIN_KEY}`)
      .expect(200);
    expect(client.body.ban).toMatchObject({ source: 'ddos' });

    // The block ends after its own duration (30 minutes), the attack long before.
    clock.advance(29 * 60_000);
    await from(t, bot(3), '/search').expect(429);
    expect(t.app.get(Rampart).ddos!.snapshot()).toMatchObject({ attack: false, attacks: 1, suspects: BOTS });
    clock.advance(60_000);
    await from(t, bot(3), '/search').expect(200);
  }, 30_000);

  it('counts response statuses: the same flood answered 200 is heavy traffic, not an attack on the app', async () => {
    // 10 clients sending 16 requests each at once to a page that exists: rate and burst alone stay under 0.8.
    for (let round = 0; round < 16; round++) await Promise.all(Array.from({ length: BOTS }, (_, i) => from(t, bot(i), '/items/1').expect(200)));
    const rampart = t.app.get(Rampart);
    await rampart.ddos!.settled();
    expect(rampart.ddos!.snapshot()).toMatchObject({ attack: true, suspects: 0 });
    const listed = await t.http().get('/rate-limit/bans?source=ddos').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(listed.body.items).toEqual([]);
  }, 30_000);
});
