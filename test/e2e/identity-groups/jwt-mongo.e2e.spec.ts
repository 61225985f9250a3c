import { jwtIdentity } from '../../../lib/jwt/index.js';
import { mongoStorage } from '../../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoConnections, mongoUrl } from '../../harness/mongo.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { FORGED_SECRET, bearer, groupsModule, SECRET, statuses as statusesOf, token } from './groups.app.js';

describeMongo('JWT identity and groups on the Mongo storage', () => {
  const connections = mongoConnections('jwt-groups');
  const { dbName } = connections;
  let days = 0;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it.each(ADAPTERS)('counts users and partners in MongoDB on %s, never admins, and refuses a forged admin token', async (adapter) => {
    // Each run a day after the last: they share the database.
    const clock = new FakeClock(Date.UTC(2030, 0, 1) + ++days * 86_400_000);
    const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
    t = await startApp(adapter, groupsModule({ clock, storage, ...jwtIdentity({ secret: SECRET, algorithms: ['HS256'], clock }) }));
    const statuses = (n: number, headers: Record<string, string>) => statusesOf(t as TestApp, n, headers);
    expect(await statuses(3, bearer(await token(clock, { sub: 'alice' })))).toEqual([200, 200, 429]);
    expect(await statuses(5, bearer(await token(clock, { sub: 'acme', group: 'partner' })))).toEqual([200, 200, 200, 200, 429]);
    expect(await statuses(6, bearer(await token(clock, { sub: 'root', group: 'admin' })))).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await statuses(2, bearer(await token(clock, { sub: 'root', group: 'admin' }, FORGED_SECRET)))).toEqual([401, 401]);
    expect(await statuses(1, bearer(await token(clock, { sub: 'alice' })))).toEqual([429]);
    // The counters are in MongoDB, under the users' keys; an admin has none, a forged token made none.
    const counters = (await connections.connect()).collection<{ _id: string }>('rampart_rate_limits');
    const ids = (await counters.find({}, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
    expect(ids).toEqual(expect.arrayContaining(['default:AccountController.data:alice', 'partners:AccountController.data:acme']));
    expect(ids.filter((id) => id.endsWith(':root'))).toEqual([]);
  });
});
