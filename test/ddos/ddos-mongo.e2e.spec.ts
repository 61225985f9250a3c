/**
 * DDoS detection with the Mongo storage: two app instances on one database, as two servers of one
 * app behind a load balancer. The flood reaches one of them; its blocks are shared through the ban
 * store, so the other enforces them too.
 */
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoConnections, mongoUrl } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, type TestApp } from '../support/http-app.js';
import { ddosModule, listening, sharedBlocks } from './ddos.app.js';

const START = Date.UTC(2030, 0, 1);

describeMongo('DDoS detection with the Mongo storage', () => {
  const { dbName } = mongoConnections('ddos');

  describe.each(ADAPTERS)('on %s', (adapter) => {
    const running: TestApp[] = [];
    afterEach(async () => {
      while (running.length > 0) await running.pop()!.close();
    });

    // Each adapter's run a day after the other's: they share the database, not their blocks.
    const instance = (clock: FakeClock) =>
      listening(adapter, ddosModule(clock, { storage: mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock }) }), running);

    it('blocks the flooders of one instance on both, while the steady client keeps its access on both', async () => {
      await sharedBlocks(new FakeClock(START + ADAPTERS.indexOf(adapter) * 86_400_000), instance);
    }, 60_000);
  });
});
