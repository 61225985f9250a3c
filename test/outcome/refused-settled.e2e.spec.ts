/**
 * A request refused by another rule is settled at once as a 429: a rule that counts successes only
 * gives back the unit it took for it, so that refusals never eat its quota. Both adapters.
 */
import { Controller, Post } from '@nestjs/common';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitModule, Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';

@Controller()
class ExportController {
  @Throttle([
    { name: 'per-second', limit: 2, windowMs: 1_000, algorithm: 'fixed-window' },
    { name: 'exports', limit: 3, windowMs: 60_000, algorithm: 'fixed-window', countIf: 'succeeded' },
  ])
  @Post('export')
  export() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('a request another rule refuses, under a rule that counts successes (%s)', (adapter) => {
  let t: TestApp;
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0));

  beforeAll(async () => {
    t = await startApp(adapter, { imports: [RateLimitModule.forRoot({ clock, escalation: false })], controllers: [ExportController] });
  });
  afterAll(() => t.close());

  const post = async () => {
    const res = await t.http().post('/export');
    await t.app.get(Rampart).outcomes.drain();
    return res;
  };

  it('gives its unit back: only successes use up the quota', async () => {
    expect((await post()).status).toBe(201);
    expect((await post()).status).toBe(201);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect((refused.body as { rule?: string }).rule).toBe('per-second');
    clock.advance(1_000);
    // The third success fits: the refusal took nothing from the quota of three.
    expect((await post()).status).toBe(201);
    clock.advance(1_000);
    const spent = await post();
    expect(spent.status).toBe(429);
    expect((spent.body as { rule?: string }).rule).toBe('exports');
  });
});
