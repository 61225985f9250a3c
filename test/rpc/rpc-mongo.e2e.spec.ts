import * as grpc from '@grpc/grpc-js';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import mongoose from 'mongoose';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { Rampart } from '../../lib/engine/rampart.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';
import { startChildApp } from '../support/child-app.js';
import { FakeClock } from '../support/fake-clock.js';
import { untilValue } from '../support/until.js';
import { TcpController, startRpcApp, trailers, unary, type RpcTestApp } from './rpc.app.js';

const SLOW_TCP = 'concurrency:TcpController.slow:127.0.0.1';
const LEASE_MS = 60_000;

describeMongo('microservice handlers on the Mongo storage', () => {
  const dbName = uniqueDbName('rpc');
  let weeks = 0;
  const apps: RpcTestApp[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) {
      const { gate } = app.app.get(TcpController);
      while (gate.waiting > 0) gate.release();
      await app.close();
    }
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
      apps.push(await startRpcApp({ clock, storage, leaseMs: LEASE_MS }));
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

  it('shares the slots of a concurrency limit among instances', async () => {
    const { instances } = await startInstances(2);
    const [a, b] = await Promise.all(instances.map((t) => t.tcpClient()));
    const first = instances[0].send(a, 'slow', 1);
    const second = instances[1].send(b, 'slow', 2);
    await untilValue(() => instances[0].app.get(Rampart).leases.count(SLOW_TCP), 2);
    for (const [i, client] of [a, b].entries())
      await expect(instances[i].send(client, 'slow', 3)).rejects.toMatchObject({ code: 'CONCURRENCY_LIMITED', limit: 2 });
    instances[0].app.get(TcpController).gate.release();
    expect(await first).toBe(1);
    await untilValue(() => instances[1].app.get(Rampart).leases.count(SLOW_TCP), 1);
    const third = instances[1].send(b, 'slow', 4);
    await untilValue(() => instances[0].app.get(Rampart).leases.count(SLOW_TCP), 2);
    instances[1].app.get(TcpController).gate.release();
    instances[1].app.get(TcpController).gate.release();
    expect([await second, await third]).toEqual([2, 4]);
  });

  it("frees the slots of an instance that was killed once its leases lapse, leaseMs later on the app's clock", async () => {
    const {
      clock,
      instances: [survivor],
    } = await startInstances(1);
    const rampart = survivor.app.get(Rampart);
    const { child, port, exited } = await startChildApp(join(__dirname, '..', 'support', 'slot-holder.mjs'), {
      RAMPART_DIST: join(__dirname, '..', '..', 'dist'),
      TRANSPORT: 'tcp',
      DB_NAME: dbName,
      CLOCK_MS: String(clock.now()),
      LEASE_MS: String(LEASE_MS),
    });
    try {
      const holderClient = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
      const held = [1, 2].map((n) => firstValueFrom(holderClient.send('slow', n)).catch((error: unknown) => error));
      await untilValue(() => rampart.leases.count(SLOW_TCP), 2);
      child.kill('SIGKILL');
      await exited;
      await Promise.all(held);
      await holderClient.close();

      const client = await survivor.tcpClient();
      await expect(survivor.send(client, 'slow', 1)).rejects.toMatchObject({ code: 'CONCURRENCY_LIMITED' });
      clock.advance(LEASE_MS - 1);
      await expect(survivor.send(client, 'slow', 2)).rejects.toMatchObject({ code: 'CONCURRENCY_LIMITED' });
      clock.advance(1);
      const admitted = survivor.send(client, 'slow', 3);
      const { gate } = survivor.app.get(TcpController);
      await untilValue(() => Promise.resolve(gate.started), 1);
      expect(await rampart.leases.count(SLOW_TCP)).toBe(1);
      gate.release();
      expect(await admitted).toBe(3);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    // It starts a Node process of its own.
  }, 30_000);
});
