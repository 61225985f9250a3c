/** DDoS detection with the Redis storage: two app instances on one Redis, the flood reaching one. */
import { redisStorage } from '../../lib/storage/redis/redis-storage.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type TestApp } from '../support/http-app.js';
import { ddosModule, listening, sharedBlocks } from './ddos.app.js';

const START = Date.UTC(2030, 0, 1);

describeRedis('DDoS detection with the Redis storage', () => {
  const redis = redisClients('ddos');

  describe.each(ADAPTERS)('on %s', (adapter) => {
    const running: TestApp[] = [];
    afterEach(async () => {
      while (running.length > 0) await running.pop()!.close();
    });

    // Each adapter's run a day after the other's: they share the keys' prefix, not their blocks.
    const instance = (clock: FakeClock) =>
      listening(adapter, ddosModule(clock, { storage: redisStorage({ client: redis.connect(), prefix: redis.prefix }) }), running);

    it('blocks the flooders of one instance on both, while the steady client keeps its access on both', async () => {
      await sharedBlocks(new FakeClock(START + ADAPTERS.indexOf(adapter) * 86_400_000), instance);
    }, 60_000);
  });
});
