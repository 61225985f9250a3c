import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MemoryRateLimitStore,
  RateLimitConfigurationError,
  RateLimitGuard,
  RateLimitModule,
  RATE_LIMIT_OPTIONS,
  RATE_LIMIT_STORE,
  Throttle,
  type RateLimitModuleOptions,
} from '../../lib/index.js';
import { FakeClock } from '../support/fake-clock.js';

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

@Controller()
@UseGuards(RateLimitGuard)
class GuardedController {
  @Get('guarded') guarded() {
    return 'guarded';
  }
}

const OPTIONS: RateLimitModuleOptions = { rules: [{ limit: 1, windowMs: 60_000 }], clock: new FakeClock() };

@Injectable()
class OptionsFactory {
  createRateLimitOptions(): RateLimitModuleOptions {
    return OPTIONS;
  }
}

@Injectable()
class Settings {
  readonly limit = 1;
}

@Module({ providers: [Settings, OptionsFactory], exports: [Settings, OptionsFactory] })
class SettingsModule {}

/** Boots `imports` with PingController and checks that the second request is limited. */
async function expectLimited(imports: unknown[], controller: new () => unknown = PingController, path = '/ping') {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[], controllers: [controller] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  try {
    await request(app.getHttpServer()).get(path).expect(200);
    await request(app.getHttpServer()).get(path).expect(429);
    return moduleRef;
  } finally {
    await app.close();
  }
}

describe('RateLimitModule registration', () => {
  it('forRoot(options)', async () => {
    const ref = await expectLimited([RateLimitModule.forRoot(OPTIONS)]);
    expect(ref.get(RATE_LIMIT_OPTIONS)).toEqual(OPTIONS);
    expect(ref.get(RATE_LIMIT_STORE)).toBeInstanceOf(MemoryRateLimitStore);
  });

  it('forRootAsync with useFactory', async () => {
    await expectLimited([RateLimitModule.forRootAsync({ useFactory: () => OPTIONS })]);
  });

  it('forRootAsync with an async useFactory, imports and inject', async () => {
    await expectLimited([
      RateLimitModule.forRootAsync({
        imports: [SettingsModule],
        inject: [Settings],
        useFactory: async (settings: Settings) => ({ ...OPTIONS, rules: [{ limit: settings.limit, windowMs: 60_000 }] }),
      }),
    ]);
  });

  it('forRootAsync with useClass', async () => {
    await expectLimited([RateLimitModule.forRootAsync({ useClass: OptionsFactory })]);
  });

  it('forRootAsync with useExisting', async () => {
    await expectLimited([RateLimitModule.forRootAsync({ imports: [SettingsModule], useExisting: OptionsFactory })]);
  });

  it('uses the store it is given', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 10 });
    const ref = await expectLimited([RateLimitModule.forRoot({ ...OPTIONS, store })]);
    expect(ref.get(RATE_LIMIT_STORE)).toBe(store);
    expect(store.size).toBe(1);
  });

  it('leaves binding to @UseGuards when registerGlobalGuard is false', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ ...OPTIONS, registerGlobalGuard: false })],
      controllers: [PingController, GuardedController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      for (let i = 0; i < 3; i++) await request(app.getHttpServer()).get('/ping').expect(200);
      await request(app.getHttpServer()).get('/guarded').expect(200);
      await request(app.getHttpServer()).get('/guarded').expect(429);
    } finally {
      await app.close();
    }
  });

  it('stops the app at startup with every option problem listed', async () => {
    const bad = {
      rules: [
        { limit: 0, windowMs: -5, algorithm: 'leaky', blockDurationMs: 1.5, cost: 9 },
        { name: 'bad name!', limit: 2, windowMs: 1000 },
      ],
      ipv6PrefixLength: 200,
      legacyHeaders: 'yes',
      trustProxy: { proxies: ['not-a-cidr'] },
      clock: {},
    } as unknown as RateLimitModuleOptions;
    const compiled = Test.createTestingModule({ imports: [RateLimitModule.forRoot(bad)], controllers: [PingController] }).compile();
    await expect(compiled).rejects.toThrow(RateLimitConfigurationError);
    const error = (await compiled.catch((e: unknown) => e)) as RateLimitConfigurationError;
    expect(error.message).toMatch(/^RateLimitModule is misconfigured \(\d+ problems\):/);
    for (const fragment of [
      'rules[0].limit must be a positive integer, got 0',
      'rules[0].windowMs must be a positive integer, got -5',
      'rules[0].algorithm must be one of',
      'rules[0].blockDurationMs must be an integer of 0 or more',
      'rules[1].name must be 1-64 letters',
      'legacyHeaders must be true or false',
      'clock must be an object with a now() method',
      'not-a-cidr',
    ]) {
      expect(error.message).toContain(fragment);
    }
    expect(error.problems.some((p) => /ipv6PrefixLength|prefix/i.test(p))).toBe(true);
  });

  it('rejects a cost no request could ever pay', async () => {
    const compiled = Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ rules: [{ limit: 5, windowMs: 1000, cost: 6 }] })],
    }).compile();
    await expect(compiled).rejects.toThrow(/cost is 6, more than the rule's capacity 5/);
  });

  it('stops the app at startup when a @Throttle rule is incomplete or invalid', async () => {
    @Controller()
    class BrokenController {
      @Throttle({ name: 'orphan', limit: 3 }) @Get('x') x() {
        return 'x';
      }
      @Throttle({ limit: -1 }) @Get('y') y() {
        return 'y';
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot(OPTIONS)],
      controllers: [BrokenController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = (await app.init().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    expect(error.message).toContain("@Throttle on BrokenController.x: @Throttle rule 'orphan' names no module rule");
    expect(error.message).toContain('limit must be a positive integer, got -1');
    await app.close();
  });
});
