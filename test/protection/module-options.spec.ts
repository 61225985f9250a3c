import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  DEFAULT_ESCALATION_POLICY,
  MemoryRateLimitStore,
  RATE_LIMIT_STORAGE,
  RATE_LIMIT_STORE,
  RateLimitConfigurationError,
  RateLimitModule,
  Throttle,
  type RampartStorage,
  type RateLimitStore,
} from '../../lib/index.js';
import { resolveRateLimitConfig, ruleEscalation } from '../../lib/rate-limit.config.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { problemsOf } from '../support/config-problems.js';
import { FakeClock } from '../support/fake-clock.js';

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

describe('protection options', () => {
  it('defaults to a memory storage, escalation with the seed defaults, 30 days of history and a 1 s sync', () => {
    const config = resolveRateLimitConfig({});
    expect(config.escalation).toEqual(DEFAULT_ESCALATION_POLICY);
    expect(config.violationRetentionMs).toBe(30 * 86_400_000);
    expect(config.banSyncIntervalMs).toBe(1_000);
    expect(config.store).toBe(config.storage.rateLimits);
    expect(config.store).toBeInstanceOf(MemoryRateLimitStore);
    expect(config.events).toBeUndefined();
  });

  it("merges partial escalation settings over the defaults, and rule settings over the module's", () => {
    const config = resolveRateLimitConfig({
      escalation: { blockAfterViolations: 5, permanentBanAfter: 0 },
      rules: [
        { name: 'a', limit: 1, windowMs: 1000 },
        { name: 'b', limit: 1, windowMs: 1000, escalation: { blockDurationMs: 60_000 } },
        { name: 'c', limit: 1, windowMs: 1000, escalation: false },
      ],
    });
    expect(config.escalation).toEqual({ ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 5, permanentBanAfter: 0 });
    const [a, b, c] = config.rules;
    expect(ruleEscalation(config, a!)).toBe(config.escalation);
    expect(ruleEscalation(config, b!)).toEqual({ ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 5, permanentBanAfter: 0, blockDurationMs: 60_000 });
    expect(ruleEscalation(config, c!)).toBe(false);
    const off = resolveRateLimitConfig({ escalation: false, rules: [{ limit: 1, windowMs: 1000, escalation: { blockAfterViolations: 2 } }] });
    expect(off.escalation).toBe(false);
    expect(ruleEscalation(off, off.rules[0]!)).toEqual({ ...DEFAULT_ESCALATION_POLICY, blockAfterViolations: 2 });
  });

  it('uses the storage it is given, with `store` overriding its counters', () => {
    const storage = memoryStorage();
    expect(resolveRateLimitConfig({ storage }).store).toBe(storage.rateLimits);
    const store = new MemoryRateLimitStore();
    const config = resolveRateLimitConfig({ storage, store });
    expect(config.store).toBe(store);
    expect(config.storage).toBe(storage);
  });

  it('lists every problem of the new options in the one startup error', () => {
    const problems = problemsOf({
      escalation: {
        blockAfterViolations: 0,
        blockDurationMs: 1.5,
        blockMultiplier: 0.5,
        maxBlockDurationMs: -1,
        permanentBanAfter: -2,
        permanentBanWindowMs: 0,
        banAfter: 3,
      } as never,
      violationRetentionMs: 0,
      banSyncIntervalMs: 0,
      events: { onBlock: 'https://hooks.example' } as never,
      rules: [{ limit: 1, windowMs: 1000, escalation: 'strict' as never }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'rules[0].escalation must be an object of escalation settings or false (no escalation), got "strict".',
        'violationRetentionMs must be a positive integer, got 0.',
        'banSyncIntervalMs must be a positive integer, got 0.',
        "escalation has no setting 'banAfter'. The settings are blockAfterViolations, blockDurationMs, blockMultiplier, maxBlockDurationMs, permanentBanAfter, permanentBanWindowMs.",
        'escalation.blockAfterViolations must be a positive integer, got 0.',
        'escalation.blockDurationMs must be a positive integer, got 1.5.',
        'escalation.blockMultiplier must be a finite number of 1 or more (1 keeps every block the same length), got 0.5.',
        'escalation.maxBlockDurationMs must be a positive integer, got -1.',
        'escalation.permanentBanAfter must be an integer of 0 or more, got -2.',
        'escalation.permanentBanWindowMs must be a positive integer, got 0.',
        'events.onBlock must be a function, got "https://hooks.example".',
      ]),
    );
    expect(problems).toHaveLength(11);
  });

  it('checks escalation settings against each other and against the retention', () => {
    expect(
      problemsOf({
        escalation: { blockDurationMs: 3_600_000, maxBlockDurationMs: 60_000 },
        violationRetentionMs: 3_600_000,
        rules: [{ limit: 1, windowMs: 1000, escalation: { permanentBanWindowMs: 7_200_000, maxBlockDurationMs: 3_600_000 } }],
      }),
    ).toEqual([
      'escalation.maxBlockDurationMs (60000) is shorter than escalation.blockDurationMs (3600000). Raise the maximum or shorten the block.',
      'escalation.permanentBanWindowMs (86400000) is longer than violationRetentionMs (3600000): violations would be purged before they count. Raise violationRetentionMs or shorten the window.',
      'rules[0].escalation.permanentBanWindowMs (7200000) is longer than violationRetentionMs (3600000): violations would be purged before they count. Raise violationRetentionMs or shorten the window.',
    ]);
  });

  it('names what a storage lacks', () => {
    const { violations: _dropped, ...partial } = memoryStorage();
    expect(problemsOf({ storage: partial as unknown as RampartStorage })).toEqual([
      'storage must be a RampartStorage (memoryStorage(), mongoStorage(...) or redisStorage(...)) or { counters, records }; violations.record(), violations.list(), violations.count(), violations.deleteByKey(), violations.purge() are missing, got an object.',
    ]);
    expect(problemsOf({ storage: { ...memoryStorage(), rateLimits: undefined } as unknown as RampartStorage, store: new MemoryRateLimitStore() })).toEqual([]);
  });

  it('refuses a store whose refund is not a function, and takes one without refund', () => {
    const inner = new MemoryRateLimitStore();
    const legacy = { consume: inner.consume.bind(inner), get: inner.get.bind(inner), reset: inner.reset.bind(inner) };
    expect(problemsOf({ store: legacy })).toEqual([]);
    expect(problemsOf({ store: { ...legacy, refund: 'yes' } as unknown as RateLimitStore })).toEqual([
      'store.refund must be a function refund(key, rule, nowMs, cost, reservedAtMs), or absent for a store that cannot give units back; got "yes".',
    ]);
  });

  it("validates a @Throttle rule's escalation at startup", async () => {
    @Controller()
    class BrokenController {
      @Throttle({ limit: 1, windowMs: 1000, escalation: { blockMultiplier: Infinity } }) @Get('x') x() {
        return 'x';
      }
    }
    const moduleRef = await Test.createTestingModule({ imports: [RateLimitModule.forRoot({})], controllers: [BrokenController] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = (await app.init().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RateLimitConfigurationError);
    expect(error.message).toContain('escalation.blockMultiplier must be a finite number of 1 or more');
    await app.close();
  });

  it('opens the storage at startup and closes it at shutdown', async () => {
    const calls: string[] = [];
    const storage: RampartStorage = {
      ...memoryStorage(),
      init: async () => {
        calls.push('init');
      },
      close: async () => {
        calls.push('close');
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ storage, clock: new FakeClock() })],
      controllers: [PingController],
    }).compile();
    expect(moduleRef.get(RATE_LIMIT_STORAGE)).toBe(storage);
    expect(moduleRef.get(RATE_LIMIT_STORE)).toBe(storage.rateLimits);
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(calls).toEqual(['init']);
    await request(app.getHttpServer()).get('/ping').expect(200);
    await app.close();
    expect(calls).toEqual(['init', 'close']);
  });

  it('stops the app at startup when the storage cannot be opened and requireStore is set', async () => {
    const storage: RampartStorage = {
      ...memoryStorage(),
      init: async () => {
        throw new Error('ECONNREFUSED 127.0.0.1:27017');
      },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ storage, requireStore: true })],
      controllers: [PingController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow('the storage was not ready within storeStartupTimeoutMs (5000 ms): ECONNREFUSED 127.0.0.1:27017');
    await app.close();
  });
});
