import { Rampart } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type TestApp } from '../support/http-app.js';
import { ADMIN_KEY, bot, BOTS, ddosModule, from, HEAVY, listening, PAGES, STEADY } from './ddos.app.js';

const START = Date.UTC(2030, 0, 1);
const SECOND = 1_000;

/**
 * The default score settings (clientThreshold 300, scoreThreshold 0.65, the default weights; only
 * the attack threshold is lowered, to 1 000 requests a minute, for a short test): a client whose
 * requests all succeed is never a suspect, however heavy.
 */
describe.each(ADAPTERS)('DDoS detection with the default score settings over HTTP on %s', (adapter) => {
  let t: TestApp;
  let clock: FakeClock;

  beforeEach(async () => {
    clock = new FakeClock(START);
    t = await listening(adapter, ddosModule(clock, { ddos: { threshold: 1_000 } }), []);
  });
  afterEach(() => t.close());

  it('blocks the flooders, never a steady client nor a heavy one whose requests all succeed', async () => {
    const steady: number[] = [];
    for (let i = 0; i < 10; i++) {
      steady.push((await from(t, STEADY, '/search')).status);
      clock.advance(6 * SECOND);
    }
    // The heavy client: 330 requests at once (past clientThreshold), over 8 endpoints, every one 200:
    // its rate, burst and spread signals are all full, the most a client without errors can score.
    for (let i = 0; i < 330; i++) expect((await from(t, HEAVY, PAGES[i % PAGES.length]!)).status).toBe(200);
    // 10 bots, 90 requests each at once, for items that do not exist.
    for (let round = 0; round < 90; round++) {
      const statuses = await Promise.all(Array.from({ length: BOTS }, (_, i) => from(t, bot(i), `/items/${round * BOTS + i + 2}`).then((r) => r.status)));
      for (const status of statuses) expect([404, 429]).toContain(status);
      if (round % 30 === 0) steady.push((await from(t, STEADY, '/search')).status);
    }
    const rampart = t.app.get(Rampart);
    await rampart.ddos!.settled();
    expect(rampart.ddos!.snapshot()).toMatchObject({ attack: true, suspects: BOTS });
    expect(steady.every((s) => s === 200)).toBe(true);
    // During the attack the heavy client goes on, judged at each request: still served everywhere.
    for (const page of PAGES) await from(t, HEAVY, page).expect(200);
    for (let i = 0; i < BOTS; i++) await from(t, bot(i), '/search').expect(429).expect('retry-after', '3600');
    await from(t, STEADY, '/search').expect(200);
    const listed = await t.http().get('/rate-limit/bans?source=ddos&limit=100').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect((listed.body.items as { key: string }[]).map((ban) => ban.key).sort()).toEqual(Array.from({ length: BOTS }, (_, i) => bot(i)).sort());
  }, 30_000);
});
