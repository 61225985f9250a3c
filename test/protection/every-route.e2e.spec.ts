import { Controller, Get, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RateLimitModule, RateLimitService } from '../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../lib/storage/memory-storage.js';
import { BEARER, startAdminApp, type AdminTestApp } from '../admin/admin.app.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const MINUTE = 60_000;

/** A route the module's rules do not cover: the module below has no rules of its own. */
@Controller('open')
class OpenController {
  @Get() open() {
    return { open: true };
  }
}

describe.each(ADAPTERS)('bans and lists on every route (%s)', (adapter) => {
  let clock: FakeClock;
  let storage: MemoryStorage;
  let t: TestApp;
  let protection: RateLimitService;

  async function start(options = {}, extra: Type[] = []) {
    clock = new FakeClock();
    storage = memoryStorage();
    const metadata = protectionModule({ clock, storage, ...options });
    t = await startApp(adapter, { ...metadata, controllers: [...metadata.controllers, ...extra] });
    protection = t.app.get(RateLimitService);
  }
  afterEach(() => t?.close());

  const get = (path: string, address: string) => t.http().get(path).set('X-Forwarded-For', address);

  it('refuses a banned or deny-listed client on a route under @SkipThrottle()', async () => {
    await start();
    await protection.ban({ type: 'key', key: '203.0.113.7' }, 'permanent', undefined, 'abuse', 'ops');
    await protection.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    await protection.ban({ type: 'cidr', cidr: '192.0.2.0/24' }, 'temporary', 10 * MINUTE, 'abuse', 'ops');
    expect((await get('/health', '203.0.113.7').expect(403)).body.reason).toBe('banned');
    expect((await get('/health', '198.51.100.1').expect(403)).body.reason).toBe('deny-listed');
    await get('/health', '192.0.2.9').expect(429).expect('retry-after', '600');
    // Nothing is counted there: any number of requests from a clean client pass.
    for (let i = 0; i < 5; i++) await get('/health', '203.0.113.8').expect(200);
  });

  it('refuses a client that escalation blocked on every other route of the app', async () => {
    await start({ escalation: { blockAfterViolations: 1, blockDurationMs: 5 * MINUTE } });
    await get('/data', '203.0.113.7').expect(200);
    await get('/data', '203.0.113.7').expect(200);
    await get('/data', '203.0.113.7').expect(429); // the violation that starts the block
    await get('/health', '203.0.113.7').expect(429).expect('retry-after', '300');
    await get('/health', '203.0.113.8').expect(200);
  });

  it('applies to routes of a module without any rule of its own', async () => {
    clock = new FakeClock();
    storage = memoryStorage();
    t = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ rules: [], clock, storage, trustProxy: { proxies: ['loopback'] } })],
      controllers: [OpenController],
    });
    protection = t.app.get(RateLimitService);
    await protection.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    await get('/open', '198.51.100.1').expect(403);
    await get('/open', '198.51.101.1').expect(200);
  });

  it("is limited to rate-limited routes by enforceBans: 'limited-routes'", async () => {
    await start({ enforceBans: 'limited-routes' });
    await protection.ban({ type: 'key', key: '203.0.113.7' }, 'permanent', undefined, 'abuse', 'ops');
    await get('/health', '203.0.113.7').expect(200);
    await get('/data', '203.0.113.7').expect(403);
  });
});

describe.each(ADAPTERS)('the admin API under a ban (%s)', (adapter) => {
  let t: AdminTestApp;
  afterEach(() => t?.close());

  it('stays reachable from a deny-listed and banned address, so the ban can be lifted', async () => {
    t = await startAdminApp(adapter);
    const protection = t.app.get(RateLimitService);
    await protection.putAccessEntry('deny', '198.51.100.0/24', 'ops');
    await protection.ban({ type: 'key', key: '198.51.100.7' }, 'permanent', undefined, 'abuse', 'ops');
    await t.http().get('/ping').set('X-Forwarded-For', '198.51.100.7').expect(403);
    await t.http().get('/rate-limit/bans').set('X-Forwarded-For', '198.51.100.7').set('Authorization', BEARER).expect(200);
    await t.http().delete('/rate-limit/bans').query({ key: '198.51.100.7' }).set('X-Forwarded-For', '198.51.100.7').set('Authorization', BEARER).expect(200);
  });
});

describe('startup validation', () => {
  it('refuses an unknown enforceBans', async () => {
    const compiled = Test.createTestingModule({ imports: [RateLimitModule.forRoot({ enforceBans: 'some-routes' as never })] }).compile();
    await expect(compiled).rejects.toThrow(/enforceBans must be 'all-routes' .* got "some-routes"/);
  });
});
