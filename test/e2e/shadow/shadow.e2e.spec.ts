import { Controller, Get } from '@nestjs/common';
import { Rampart } from '../../../lib/engine/rampart.js';
import { RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../../lib/index.js';
import { Registry } from 'prom-client';
import { RampartMetricsModule } from '../../../lib/metrics/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { samples } from '../../support/exposition.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';

const START = Date.UTC(2030, 0, 1);
const CLIENT = '127.0.0.1';

@Controller()
class ShadowController {
  @Get('search') search() {
    return { route: 'search' };
  }
  /** A route whose own rule is on trial. */
  @Throttle({ name: 'export', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', shadow: true })
  @Get('export')
  export() {
    return { route: 'export' };
  }
}

const RULES: RateLimitModuleOptions['rules'] = [
  { name: 'sustained', limit: 100, windowMs: 60_000, algorithm: 'fixed-window' },
  { name: 'candidate', limit: 2, windowMs: 60_000, algorithm: 'fixed-window', shadow: true },
];
const ESCALATION = { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 };

describe.each(ADAPTERS)('shadow mode on %s', (adapter) => {
  let t: TestApp;
  let events: string[];
  const saved = process.env.RAMPART_SHADOW;
  afterEach(async () => {
    await t.close();
    if (saved === undefined) delete process.env.RAMPART_SHADOW;
    else process.env.RAMPART_SHADOW = saved;
  });

  let logs: string[];
  const ADMIN_KEY = 'shadow-admin-key-0123456789';

  async function start(options: RateLimitModuleOptions) {
    events = [];
    logs = [];
    const capture = (message: string) => void logs.push(message);
    const record = (name: string) => (e: object) => {
      const { key, target } = e as { key?: string; target?: { key?: string } };
      events.push(`${name} ${key ?? target?.key}`);
    };
    t = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          clock: new FakeClock(START),
          escalation: ESCALATION,
          events: { onViolation: record('violation'), onBlock: record('block'), onBan: record('ban') },
          logger: { log: capture, warn: capture, error: capture },
          adminApiKey: ADMIN_KEY,
          admin: {},
          ...options,
        }),
        RampartMetricsModule.forRoot({ registry: new Registry() }),
      ],
      controllers: [ShadowController],
    });
    return t.app.get(Rampart);
  }

  it('a shadow rule refuses nothing and sends no header, and reports what it would have done', async () => {
    const rampart = await start({ rules: RULES });
    for (let i = 0; i < 6; i++) {
      const res = await t.http().get('/search').expect(200);
      // Only the enforced rule is announced to the client: no header of the rule on trial, no Retry-After.
      expect(res.headers['ratelimit-policy']).toBe('"sustained";q=100;w=60');
      expect(res.headers['ratelimit']).toBe(`"sustained";r=${99 - i};t=60`);
      expect(res.headers['retry-after']).toBeUndefined();
    }
    // 3rd request: would have been limited; 4th: the second violation would have blocked; 5th-6th: the would-be block holds.
    expect(events).toEqual([`violation shadow:${CLIENT}`, `violation shadow:${CLIENT}`, `block shadow:${CLIENT}`]);
    expect([...rampart.stats!.decisionSeries()]).toEqual([
      { labels: { protocol: 'http', outcome: 'allowed', rule: 'sustained' }, value: 2 },
      { labels: { protocol: 'http', outcome: 'shadow_limited', rule: 'candidate' }, value: 1 },
      { labels: { protocol: 'http', outcome: 'shadow_blocked', rule: 'candidate' }, value: 1 },
      { labels: { protocol: 'http', outcome: 'shadow_blocked', rule: '' }, value: 2 },
    ]);
    // The client is not blocked: an enforced refusal would show here.
    expect((await rampart.service.status(CLIENT)).ban).toBeNull();
  });

  it('@Throttle({ shadow: true }) puts one route rule on trial', async () => {
    await start({ rules: [] });
    for (let i = 0; i < 3; i++) {
      const res = await t.http().get('/export').expect(200);
      expect(res.headers['ratelimit']).toBeUndefined();
    }
    expect(events).toEqual([`violation shadow:${CLIENT}`, `violation shadow:${CLIENT}`, `block shadow:${CLIENT}`]);
  });

  it('the module in shadow mode (RAMPART_SHADOW wins over the option) lets a banned client through and reports it', async () => {
    process.env.RAMPART_SHADOW = '1';
    const rampart = await start({ shadow: false, rules: [{ name: 'tight', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' }] });
    await rampart.service.ban({ type: 'key', key: CLIENT }, 'permanent', undefined, 'abuse', 'ops');
    const res = await t.http().get('/search').expect(200);
    expect(res.headers['ratelimit']).toBeUndefined();
    expect([...rampart.stats!.decisionSeries()]).toEqual([{ labels: { protocol: 'http', outcome: 'shadow_banned', rule: '' }, value: 1 }]);
  });

  it('refuses nothing and reports everything: events, /metrics, the stats API and the logs say what would have been refused', async () => {
    await start({ rules: RULES });
    for (let i = 0; i < 6; i++) await t.http().get('/search').expect(200);
    expect(events).toEqual([`violation shadow:${CLIENT}`, `violation shadow:${CLIENT}`, `block shadow:${CLIENT}`]);

    const exposition = samples((await t.http().get('/metrics').expect(200)).text);
    expect(exposition['rampart_decisions_total{protocol="http",outcome="shadow_limited",rule="candidate"}']).toBe(1);
    expect(exposition['rampart_decisions_total{protocol="http",outcome="shadow_blocked",rule="candidate"}']).toBe(1);
    expect(exposition['rampart_decisions_total{protocol="http",outcome="shadow_blocked",rule=""}']).toBe(2);
    expect(exposition['rampart_decisions_total{protocol="http",outcome="allowed",rule="sustained"}']).toBe(2);
    expect(exposition['rampart_violations_total{rule="candidate",mode="shadow"}']).toBe(2);
    expect(exposition['rampart_blocks_total{source="auto",mode="shadow"}']).toBe(1);
    expect(Object.keys(exposition).filter((series) => series.startsWith('rate_limit_hits_total'))).toEqual([]);

    const stats = await t.http().get('/rate-limit/stats').set('Authorization', `Bearer ${ADMIN_KEY}`).expect(200);
    expect(stats.body).toMatchObject({
      requests: 6,
      admitted: 6,
      limited: 0,
      blocked: 0,
      banned: 0,
      blockRate: 0,
      violations: 0,
      shadow: { limited: 1, blocked: 3, banned: 0, violations: 2 },
      topKeys: [{ key: CLIENT, refusals: 4 }],
    });
    expect(stats.body.topRules).toEqual(
      expect.arrayContaining([
        { rule: 'candidate', requests: 4, refused: 2, nearLimit: 1 },
        { rule: 'sustained', requests: 6, refused: 0, nearLimit: 0 },
      ]),
    );
    // One line for the first violation of the key (the second is held for the interval's summary), one for the block.
    expect(logs.filter((line) => line.includes('shadow mode'))).toEqual([
      `Rate limit would have been exceeded by ${CLIENT} (shadow mode): rule 'candidate' on ShadowController.search, 3 of 2`,
      expect.stringMatching(/^127\.0\.0\.1 would have been blocked \(shadow mode\) for 60 s \(auto\): /),
    ]);
  });
});
