import * as grpc from '@grpc/grpc-js';
import mongoose from 'mongoose';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { FakeClock } from '../support/fake-clock.js';
import { startRpcApp, trailers, unary, type RpcTestApp } from './rpc.app.js';

describeMongo('microservice handlers on the Mongo storage', () => {
  const dbName = uniqueDbName('rpc');
  let weeks = 0;
  const apps: RpcTestApp[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  /** `count` instances of the app sharing one database, on a clock a week after the last test's (they share the database). */
  const startInstances = async (count: number) => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1) + ++weeks * 7 * 24 * 3_600_000);
    for (let i = 0; i < count; i++) {
      const storage = mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false, clock });
      apps.push(await startRpcApp({ clock, storage }));
    }
    return { clock, instances: apps.slice(-count) };
  };

  it('limits TCP messages, and admits them again once the window has passed', async () => {
    const {
      clock,
      instances: [t],
    } = await startInstances(1);
    const client = await t.tcpClient();
    expect(await t.send(client, { cmd: 'sum' }, [1, 2])).toBe(3);
    expect(await t.send(client, { cmd: 'sum' }, [1, 2])).toBe(3);
    await expect(t.send(client, { cmd: 'sum' }, [1, 2])).rejects.toMatchObject({
      status: 'error',
      code: 'RATE_LIMITED',
      rule: 'default',
      retryAfterSeconds: 60,
    });
    clock.advance(60_000);
    expect(await t.send(client, { cmd: 'sum' }, [4])).toBe(4);
  });

  it('counts the gRPC calls a client makes to two instances against one limit', async () => {
    const { instances } = await startInstances(2);
    const [a, b] = instances.map((t) => t.grpcClient());
    expect('value' in (await unary(a, 'add').outcome)).toBe(true);
    expect('value' in (await unary(b, 'add').outcome)).toBe(true);
    for (const client of [a, b]) {
      const outcome = await unary(client, 'add').outcome;
      if (!('error' in outcome)) throw new Error('expected a refusal');
      expect(outcome.error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(trailers(outcome.error)).toMatchObject({ 'rampart-code': 'RATE_LIMITED', 'rampart-rule': 'default' });
    }
  });
});
