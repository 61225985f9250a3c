/**
 * redisStorage() in a real app, on Express and Fastify: limits, escalation to a ban, the admin API,
 * and bans that survive a restart of the app; then the combination of counters in Redis with bans,
 * violations and lists in MongoDB, shared by two instances.
 */
import { Controller, Get } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import request from 'supertest';
import { RateLimitModule, type RateLimitModuleOptions } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { redisStorage, type RedisStorage } from '../../lib/storage/redis/redis-storage.js';
import { describeMongo, mongoConnections } from '../harness/mongo.js';
import { describeRedis, redisClients } from '../harness/redis.js';
import { FakeClock } from '../support/fake-clock.js';
import { until } from '../support/until.js';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../support/http-app.js';

const KEY = 'redis-admin-key-0123456789abcdef';
const T0 = Date.UTC(2030, 0, 1, 0, 0, 7);

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

function boot(adapter: AdapterName, storage: RateLimitModuleOptions['storage'], clock: FakeClock): Promise<TestApp> {
  return startApp(adapter, {
    imports: [
      RateLimitModule.forRoot({
        storage,
        clock,
        trustProxy: { proxies: ['loopback'] },
        rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
        escalation: { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3 },
        adminApiKey: KEY,
        admin: {},
      }),
    ],
    controllers: [PingController],
  });
}

const bearer = (req: request.Test) => req.set('Authorization', `Bearer ${KEY}`);

describeRedis('redisStorage', () => {
  const redis = redisClients('redis-storage');
  /** A client of a port where no server listens (port 1), disconnected after the spec. */
  const lost: Redis[] = [];
  const unreachable = (options: RedisOptions): Redis => {
    const client = new Redis({ host: '127.0.0.1', port: 1, ...options });
    lost.push(client);
    return client;
  };
  afterAll(() => lost.forEach((client) => client.disconnect()));

  it('refuses what is not a client, a bad prefix or a bad quitOnClose, naming the option', () => {
    expect(() => redisStorage({ client: {} as never })).toThrow(/redisStorage: client must be an ioredis client/);
    expect(() => redisStorage({ client: redis.connect(), prefix: '' })).toThrow(/prefix must be a non-empty string/);
    expect(() => redisStorage({ client: redis.connect(), prefix: '{app}:' })).toThrow(
      'redisStorage: prefix must not contain { or } (Rampart sets the hash tags of its keys itself), got "{app}:".',
    );
    expect(() => redisStorage({ client: redis.connect(), quitOnClose: 'yes' as never })).toThrow(/quitOnClose must be true or false/);
  });

  it('closes the client only when quitOnClose says so', async () => {
    const kept = redis.connect();
    await redisStorage({ client: kept, prefix: redis.prefix }).close();
    expect(await kept.ping()).toBe('PONG');
    const quit = redis.connect();
    await quit.ping();
    await redisStorage({ client: quit, prefix: redis.prefix, quitOnClose: true }).close();
    await expect(quit.ping()).rejects.toThrow(/Connection is closed/);
  });

  it('closes a client that cannot reach its server (quitOnClose), instead of failing with QUIT', async () => {
    const lost = unreachable({ enableOfflineQueue: false, retryStrategy: () => 50 });
    await redisStorage({ client: lost, prefix: redis.prefix, quitOnClose: true }).close();
    await until(() => lost.status === 'end');
    expect(lost.status).toBe('end');
  });

  it('starts on a client made with lazyConnect and no offline queue', async () => {
    const lazy = redis.connect({ lazyConnect: true, enableOfflineQueue: false });
    const storage = redisStorage({ client: lazy, prefix: redis.prefix });
    void lazy.connect();
    await storage.init();
    expect(lazy.status).toBe('ready');
  });

  it('waits in init() for a client still connecting, one that refuses commands until then (enableOfflineQueue: false) included', async () => {
    const client = redis.connect({ enableOfflineQueue: false });
    expect(client.status).toBe('connecting');
    await redisStorage({ client, prefix: redis.prefix }).init();
    expect(client.status).toBe('ready');
  });

  it('fails init() while the server cannot be reached, naming the cause', async () => {
    const nowhere = unreachable({ lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    await expect(redisStorage({ client: nowhere, prefix: redis.prefix }).init()).rejects.toThrow('the Redis client gave up connecting');
    const queueing = unreachable({ maxRetriesPerRequest: 0, retryStrategy: () => null });
    await expect(redisStorage({ client: queueing, prefix: redis.prefix }).init()).rejects.toThrow(/ECONNREFUSED|Connection is closed|gave up/);
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    it('limits, escalates to a ban kept across a restart of the app, and lets the admin API lift it', async () => {
      const clock = new FakeClock(T0);
      const prefix = `${redis.prefix}${adapter}:`;
      const storage = (): RedisStorage => redisStorage({ client: redis.connect(), prefix });
      let app = await boot(adapter, storage(), clock);
      const from = (ip: string) => app.http().get('/ping').set('X-Forwarded-For', ip);
      try {
        const statuses: number[] = [];
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 4; i++) statuses.push((await from('203.0.113.9')).status);
          clock.advance(61_000);
        }
        // Two violations start a block; the third, once the block is over, a permanent ban.
        expect(statuses).toEqual([200, 200, 429, 429, 200, 200, 403, 403]);
        await from('203.0.113.9').expect(403);
        await from('203.0.113.10').expect(200);
        await app.http().get('/rate-limit/bans').expect(401);
      } finally {
        await app.close();
      }

      app = await boot(adapter, storage(), clock); // a restart: the ban comes back from Redis
      try {
        await from('203.0.113.9').expect(403);
        const listed = await bearer(app.http().get('/rate-limit/bans?active=true')).expect(200);
        expect(listed.body.items).toEqual([expect.objectContaining({ key: '203.0.113.9', kind: 'permanent', source: 'auto' })]);
        const violations = await bearer(app.http().get('/rate-limit/violations?key=203.0.113.9')).expect(200);
        expect(violations.body.items.length).toBeGreaterThanOrEqual(3);
        await bearer(app.http().get('/rate-limit/bans?key[$gt]=')).expect(400);
        await bearer(app.http().delete('/rate-limit/bans?key=203.0.113.9')).expect(200);
        await from('203.0.113.9').expect(200);
      } finally {
        await app.close();
      }
    });
  });
});

describeRedis('counters in Redis, records in MongoDB', () => {
  const redis = redisClients('redis-split');
  describeMongo('two instances', () => {
    const mongo = mongoConnections('redis_split');

    it('share counters through Redis and bans through MongoDB', async () => {
      const clock = new FakeClock(T0);
      const instance = async () => {
        const counters = redisStorage({ client: redis.connect(), prefix: redis.prefix });
        const records = mongoStorage({ connection: await mongo.connect(), sweepIntervalMs: false });
        return { counters, records, app: await boot('express', { counters, records }, clock) };
      };
      const a = await instance();
      const b = await instance();
      const from = (app: TestApp, ip: string) => app.http().get('/ping').set('X-Forwarded-For', ip);
      try {
        await from(a.app, '198.51.100.4').expect(200);
        await from(b.app, '198.51.100.4').expect(200);
        await from(a.app, '198.51.100.4').expect(429);
        await from(b.app, '198.51.100.4').expect(429);
        await bearer(a.app.http().post('/rate-limit/bans').send({ key: '198.51.100.5', kind: 'permanent', reason: 'abuse' })).expect(201);
        // The ban is a MongoDB record, seen by the other instance after its next sync.
        expect(await b.records.bans.get({ type: 'key', key: '198.51.100.5' })).toMatchObject({ kind: 'permanent' });
        expect(await a.counters.bans.get({ type: 'key', key: '198.51.100.5' })).toBeNull();
        const deadline = Date.now() + 5_000;
        let status = 0;
        while (status !== 403 && Date.now() < deadline) status = (await from(b.app, '198.51.100.5')).status;
        expect(status).toBe(403);
      } finally {
        await a.app.close();
        await b.app.close();
      }
    });
  });
});
