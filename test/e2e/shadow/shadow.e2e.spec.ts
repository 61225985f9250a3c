import { Controller, Get } from '@nestjs/common';
import { Rampart } from '../../../lib/engine/rampart.js';
import { RateLimitModule, Throttle, type RateLimitModuleOptions } from '../../../lib/index.js';
import { FakeClock } from '../../support/fake-clock.js';
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

  async function start(options: RateLimitModuleOptions) {
    events = [];
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
          ...options,
        }),
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
});
