import mongoose from 'mongoose';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { startWsApp, WS_ADAPTERS, type WsTestApp } from './ws.app.js';

describeMongo('WebSocket gateway messages on the Mongo storage', () => {
  const dbName = uniqueDbName('ws');
  let weeks = 0;
  let t: WsTestApp | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it.each(WS_ADAPTERS)('limits messages on %s, and admits them again once the window has passed', async (adapter) => {
    // Each run a week after the last (they share the database).
    const clock = new FakeClock(Date.UTC(2030, 0, 1) + ++weeks * 7 * 24 * 3_600_000);
    const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
    t = await startWsApp(adapter, { clock, storage });
    const client = await t.connect();
    const exchange = async (data: number) => {
      client.send('ping', data);
      return client.next();
    };
    expect(await exchange(1)).toEqual({ event: 'pong', data: 1 });
    expect(await exchange(2)).toEqual({ event: 'pong', data: 2 });
    expect(await exchange(3)).toMatchObject({ event: 'exception', data: { status: 'error', code: 'RATE_LIMITED', rule: 'default', retryAfterSeconds: 60 } });
    expect(client.isOpen).toBe(true);
    clock.advance(60_000);
    expect(await exchange(4)).toEqual({ event: 'pong', data: 4 });
  });
});
