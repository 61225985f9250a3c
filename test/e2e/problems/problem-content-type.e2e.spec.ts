/**
 * Every problem body the guard sends (429 over a limit, 429 blocked, 403 banned or deny-listed, 503
 * with the store down) is served as `application/problem+json` (RFC 9457), on Express and Fastify,
 * and still reads as JSON.
 */
import { RateLimitService, type RateLimitStore } from '../../../lib/index.js';
import { memoryStorage } from '../../../lib/storage/memory-storage.js';
import { protectionModule } from '../../protection/protection.app.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';

const PROBLEM = /^application\/problem\+json(;|$)/;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe.each(ADAPTERS)('problem bodies of the guard on %s', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  const from = (address: string) => t.http().get('/data').set('X-Forwarded-For', address);

  it('serves 429, blocked 429 and both 403s as application/problem+json, parsed as JSON', async () => {
    t = await startApp(adapter, protectionModule({ clock: new FakeClock(Date.UTC(2030, 0, 1)), storage: memoryStorage(), escalation: false, logger: quiet }));
    const service = t.app.get(RateLimitService);

    await from('203.0.113.1')
      .expect(200)
      .expect('content-type', /^application\/json/);
    await from('203.0.113.1').expect(200);
    const limited = await from('203.0.113.1').expect(429).expect('content-type', PROBLEM);
    expect(limited.body).toMatchObject({ type: 'about:blank', title: 'Too Many Requests', status: 429, rule: 'default' });

    await service.ban({ type: 'key', key: '203.0.113.2' }, 'temporary', 60_000, 'cool down', 'test');
    const blocked = await from('203.0.113.2').expect(429).expect('content-type', PROBLEM);
    expect(blocked.body).toMatchObject({ status: 429, retryAfterSeconds: 60 });

    await service.ban({ type: 'key', key: '203.0.113.3' }, 'permanent', undefined, 'abuse', 'test');
    const banned = await from('203.0.113.3').expect(403).expect('content-type', PROBLEM);
    expect(banned.body).toMatchObject({ status: 403, reason: 'banned' });

    await service.putAccessEntry('deny', '198.51.100.0/24', 'test');
    const denied = await from('198.51.100.4').expect(403).expect('content-type', PROBLEM);
    expect(denied.body).toMatchObject({ status: 403, reason: 'deny-listed' });
  });

  it('serves the 503 of a store that is down (onStoreError deny) as application/problem+json', async () => {
    const down = (): Promise<never> => Promise.reject(new Error('connection refused'));
    const store: RateLimitStore = { consume: down, get: down, reset: down };
    t = await startApp(adapter, protectionModule({ store, onStoreError: 'deny', storeFallback: false, logger: quiet }));
    const res = await from('203.0.113.1').expect(503).expect('content-type', PROBLEM);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
  });
});
