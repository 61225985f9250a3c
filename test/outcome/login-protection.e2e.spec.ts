/**
 * The login-protection preset over real HTTP: consecutive failures per user name, forgiven by a
 * success, and failures per address per day; a countIf that throws counts the request. Both adapters.
 */
import { Controller, Post, UseGuards } from '@nestjs/common';
import { loginProtection, Throttle } from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { Checks, PASSWORD, PasswordGuard } from './login.app.js';
import { Rampart } from '../../lib/engine/rampart.js';
import { RateLimitModule } from '../../lib/index.js';

const HOUR_MS = 3_600_000;

@Controller()
class ProtectedLoginController {
  @Throttle(loginProtection({ maxConsecutiveFailures: 3, consecutiveBlockMs: HOUR_MS, maxFailuresPerAddressPerDay: 7 }))
  @UseGuards(PasswordGuard)
  @Post('login')
  login() {
    return { ok: true };
  }
}

@Controller()
class ThrowingController {
  @Throttle({
    name: 'throws',
    limit: 2,
    windowMs: 60_000,
    countIf: () => {
      throw new Error('predicate bug');
    },
  })
  @Post('ping')
  ping() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('login protection (%s)', (adapter) => {
  let t: TestApp;
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0));
  const errors: string[] = [];

  beforeAll(async () => {
    t = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          clock,
          escalation: false,
          rules: [{ limit: 1_000, windowMs: 60_000 }],
          logger: { log: () => undefined, warn: () => undefined, error: (message: string) => errors.push(message) },
          logging: false,
        }),
      ],
      providers: [{ provide: Checks, useValue: new Checks() }, PasswordGuard],
      controllers: [ProtectedLoginController, ThrowingController],
    });
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  const attempt = async (username: string, password: string) => {
    const res = await t.http().post('/login').send({ username, password });
    await t.app.get(Rampart).outcomes.drain();
    return res.status;
  };

  it('forgives failures on a success, and blocks the user name after the limit in a row', async () => {
    expect([await attempt('alice', 'x'), await attempt('Alice ', 'y'), await attempt('alice', PASSWORD)]).toEqual([401, 401, 201]);
    // The success reset the run: three more failures are allowed, then the user name is blocked.
    expect([await attempt('alice', 'x'), await attempt('alice', 'x'), await attempt('alice', 'x')]).toEqual([401, 401, 401]);
    expect(await attempt('alice', PASSWORD)).toBe(429);
    // Another user name from the same address is not blocked.
    expect(await attempt('bob', PASSWORD)).toBe(201);
    clock.advance(HOUR_MS);
    expect(await attempt('alice', PASSWORD)).toBe(201);
  });

  it('blocks an address after its failures of the day, whatever the user names', async () => {
    clock.set(Date.UTC(2030, 0, 2, 0, 0, 0));
    // A new day: seven failures allowed from this address, then none until the next day.
    const statuses: number[] = [];
    for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7']) statuses.push(await attempt(user, 'wrong'));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401]);
    expect(await attempt('carol', PASSWORD)).toBe(429);
    clock.set(Date.UTC(2030, 0, 3, 0, 0, 0));
    expect(await attempt('carol', PASSWORD)).toBe(201);
  });

  it('counts every request under a countIf that throws, and logs it once', async () => {
    await t.http().post('/ping').expect(201);
    await t.http().post('/ping').expect(201);
    await t.app.get(Rampart).outcomes.drain();
    await t.http().post('/ping').expect(429);
    expect(errors.filter((e) => e.includes("countIf of rule 'throws' threw (predicate bug)"))).toHaveLength(1);
  });
});

@Controller()
class DailyCapController {
  @Throttle(loginProtection({ maxConsecutiveFailures: 100, maxFailuresPerAddressPerDay: 3 }))
  @UseGuards(PasswordGuard)
  @Post('login')
  login() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)("login protection beside a module keyResolver that reads a client's header (%s)", (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          clock: new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0)),
          escalation: false,
          rules: [{ limit: 1_000, windowMs: 60_000 }],
          keyResolver: (context) => context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-api-key'],
        }),
      ],
      providers: [{ provide: Checks, useValue: new Checks() }, PasswordGuard],
      controllers: [DailyCapController],
    });
  });
  afterAll(() => t.close());

  it('caps the failures of an address per day, whatever API key each attempt sends', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t
        .http()
        .post('/login')
        .set('X-Api-Key', `key-${i}`)
        .send({ username: `user-${i}`, password: 'wrong' });
      statuses.push(res.status);
      await t.app.get(Rampart).outcomes.drain();
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // The address is blocked, with the right password and a fresh key too.
    await t.http().post('/login').set('X-Api-Key', 'key-new').send({ username: 'dave', password: PASSWORD }).expect(429);
  });
});
