/**
 * RampartThrottlerStorage as the storage of either throttler module, @nestjs/throttler or the
 * drop-in nest-rampart/throttler: Nest runs its lifecycle hooks, and the guard counts through it.
 */
import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { memoryStorage } from '../../../lib/storage/memory-storage.js';
import { rampartThrottlerStorage } from '../../../lib/throttler/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, limitHeaders, startApp } from '../support/http.js';
import { LIBS } from '../support/libs.js';

@Controller()
class AppController {
  @Get() root() {
    return 'root';
  }
}

describe.each(LIBS)('RampartThrottlerStorage in the ThrottlerModule of %s', (_name, { ThrottlerModule, ThrottlerGuard }) => {
  it.each(ADAPTERS)('on %s: prepared with the app, counts, and is closed with it', async (adapter) => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const calls: string[] = [];
    const backing = { ...memoryStorage(), init: async () => void calls.push('init'), close: async () => void calls.push('close') };
    const t = await startApp(adapter, {
      imports: [ThrottlerModule.forRoot({ throttlers: [{ ttl: 1_000, limit: 2, blockDuration: 0 }], storage: rampartThrottlerStorage(backing, { clock }) })],
      controllers: [AppController],
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    });
    try {
      expect(calls).toEqual(['init']);
      expect(limitHeaders(await t.http().get('/').expect(200))).toEqual({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' });
      await t.http().get('/').expect(200);
      expect(limitHeaders(await t.http().get('/').expect(429))).toEqual({ 'retry-after': '1' });
      clock.advance(1_000);
      expect((await t.http().get('/').expect(200)).headers['x-ratelimit-remaining']).toBe('1');
    } finally {
      await t.close();
    }
    expect(calls).toEqual(['init', 'close']);
  });
});
