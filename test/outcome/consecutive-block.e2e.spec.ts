/**
 * A failure refused while a slow success holds the last unit of a `consecutive` rule is refused
 * without a violation or a block: the success may give its unit back, and its reset leaves the user
 * free to log in. Failures alone that fill the limit block, and the block holds for every password.
 * Both adapters.
 */
import { Body, Controller, Post, UnauthorizedException } from '@nestjs/common';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitModule, Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { Gate } from '../support/gate.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { until } from '../support/until.js';

const HOUR_MS = 3_600_000;
const gate = new Gate();

@Controller()
class SlowLoginController {
  @Throttle({ name: 'in-a-row', limit: 2, windowMs: HOUR_MS, algorithm: 'fixed-window', blockDurationMs: HOUR_MS, countIf: 'failed', consecutive: true })
  @Post('login')
  login(@Body() body: { password?: string }) {
    if (body.password !== 'right') throw new UnauthorizedException();
    // A right password takes its time: the test lets it finish.
    return gate.hold({ ok: true });
  }
}

describe.each(ADAPTERS)('a consecutive count reset by a success in flight (%s)', (adapter) => {
  let t: TestApp;
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0));

  beforeAll(async () => {
    t = await startApp(adapter, {
      // No remembered denials: every answer comes from the store's state.
      imports: [RateLimitModule.forRoot({ clock, escalation: false, denialCacheSize: 0 })],
      controllers: [SlowLoginController],
    });
  });
  afterAll(() => t.close());

  const login = (password: string) => t.http().post('/login').send({ password });

  it('refuses without a block while a success is in flight, and blocks once failures alone fill the limit', async () => {
    const slow = login('right').then((res) => res.status);
    await until(() => gate.waiting === 1);
    await login('wrong').expect(401);
    // The slow success and the failure hold the two units: the next failure is refused, told to
    // come back shortly (the success may give its unit back), and blocks nothing.
    const held = await login('wrong').expect(429);
    expect(held.headers['retry-after']).toBe('1');
    gate.release();
    expect(await slow).toBe(201);
    await t.app.get(Rampart).outcomes.drain();
    // The success reset the count: two failures in a row reach the handler again.
    await login('wrong').expect(401);
    await login('wrong').expect(401);
    await t.app.get(Rampart).outcomes.drain();
    // Failures alone fill the limit: the next attempt starts the hour's block, whatever its password.
    const blocked = await login('wrong').expect(429);
    expect(blocked.headers['retry-after']).toBe(String(HOUR_MS / 1000));
    await login('right').expect(429);
    clock.advance(HOUR_MS);
    await login('wrong').expect(401);
  });
});

const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const;

/** A login route whose consecutive rule runs on `algorithm`: `POST /<algorithm>`. */
function loginOn(algorithm: (typeof ALGORITHMS)[number]) {
  @Controller(algorithm)
  class AlgorithmLoginController {
    @Throttle({ name: 'in-a-row', limit: 3, windowMs: 60_000, algorithm, countIf: 'failed', consecutive: true })
    @Post()
    login(@Body() body: { password?: string }) {
      if (body.password !== 'right') throw new UnauthorizedException();
      return { ok: true };
    }
  }
  return AlgorithmLoginController;
}

describe.each(ADAPTERS)('a consecutive count reset by a success, on every algorithm that can reset (%s)', (adapter) => {
  let t: TestApp;
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 30));

  beforeAll(async () => {
    t = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ clock, escalation: false })],
      controllers: ALGORITHMS.map(loginOn),
    });
  });
  afterAll(() => t.close());

  const attemptOn = async (algorithm: string, password: string) => {
    const res = await t.http().post(`/${algorithm}`).send({ password });
    await t.app.get(Rampart).outcomes.drain();
    return res.status;
  };

  it.each(ALGORITHMS)('%s: a success forgives every failure before it', async (algorithm) => {
    const attempt = (password: string) => attemptOn(algorithm, password);
    expect([await attempt('wrong'), await attempt('wrong'), await attempt('right')]).toEqual([401, 401, 201]);
    // The whole limit again: three failures in a row, then refused.
    expect([await attempt('wrong'), await attempt('wrong'), await attempt('wrong'), await attempt('wrong')]).toEqual([401, 401, 401, 429]);
  });

  it('sliding-window: a success forgives the failures of the previous window too', async () => {
    clock.advance(120_000);
    const attempt = (password: string) => attemptOn('sliding-window', password);
    expect([await attempt('wrong'), await attempt('wrong')]).toEqual([401, 401]);
    // Into the next window: the two failures still weigh on the estimate, until a success.
    clock.advance(40_000);
    expect(await attempt('right')).toBe(201);
    expect([await attempt('wrong'), await attempt('wrong'), await attempt('wrong'), await attempt('wrong')]).toEqual([401, 401, 401, 429]);
  });
});
