/**
 * What each decision costs in commands, as the server sees them (MONITOR): one EVALSHA per decision
 * once the script is cached, none for a client known to be blocked; and after the server lost its
 * scripts (SCRIPT FLUSH, a restart, a failover), one EVAL more, once.
 *
 * On a Redis server of this spec's own, so that no other spec flushes the script cache meanwhile.
 */
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ALGORITHM_NAMES } from '../../lib/core/algorithms/index.js';
import type { StoreRule } from '../../lib/core/rule-decision.js';
import { RedisRateLimitStore } from '../../lib/storage/redis/redis-rate-limit.store.js';
import { scriptClientOf } from '../../lib/storage/redis/redis-script.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { describeRedis } from '../harness/redis.js';
import { FakeClock } from '../support/fake-clock.js';
import { recordCommands, type CommandRecorder } from './command-recorder.js';
import { startHotApp } from './hot-app.js';

const T0 = Date.UTC(2030, 0, 1);
const LIMIT = 50;

describeRedis('Redis store round trips', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  };
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = connect();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.dispose();
  });

  /** A store on a client of its own, with a recorder of that client's commands. */
  async function recordedStore(): Promise<{ store: RedisRateLimitStore; recorder: CommandRecorder }> {
    const client = connect();
    const recorder = await recordCommands(client, admin);
    return { store: new RedisRateLimitStore(scriptClientOf(client), { prefix: 'rt:' }), recorder };
  }

  describe.each(ALGORITHM_NAMES)('%s through an app', (algorithm) => {
    let app: INestApplication;
    let recorder: CommandRecorder;
    beforeAll(async () => {
      const recorded = await recordedStore();
      recorder = recorded.recorder;
      app = await startHotApp(recorded.store, new FakeClock(T0), { algorithm, limit: LIMIT, windowMs: 60_000, blockDurationMs: 60_000 });
    });
    afterAll(async () => {
      recorder.stop();
      await app.close();
    });

    it('sends one EVALSHA per allowed decision (and an EVAL on the first, the script not cached), none for a client known to be blocked', async () => {
      await admin.script('FLUSH');
      const hot = () => request(app.getHttpServer()).get('/hot').set('x-client', `${algorithm}-round-trips`);
      const perAllowed: string[][] = [];
      for (let i = 0; i < LIMIT; i++) {
        await hot().expect(200);
        await recorder.settle();
        perAllowed.push(recorder.commands.splice(0));
      }
      await hot().expect(429); // starts the rule's block
      await recorder.settle();
      expect(recorder.commands.splice(0)).toEqual(['evalsha']);
      for (let i = 0; i < 20; i++) await hot().expect(429);
      await recorder.settle();
      expect(perAllowed[0]).toEqual(['evalsha', 'eval']); // NOSCRIPT, then the script itself
      expect(perAllowed.slice(1)).toEqual(Array(LIMIT - 1).fill(['evalsha']));
      expect(recorder.commands).toEqual([]);
    });
  });

  describe('the store alone', () => {
    const rule: StoreRule = { name: 'r', algorithm: 'sliding-window', limit: 3, windowMs: 10_000, blockDurationMs: 60_000 };

    it('answers a key known to be blocked without a command', async () => {
      const { store, recorder } = await recordedStore();
      try {
        for (let i = 0; i < 3; i++) expect((await store.consume('known', rule, T0, 1)).allowed).toBe(true);
        expect(await store.consume('known', rule, T0, 1)).toMatchObject({ allowed: false, blockedUntilMs: T0 + 60_000 });
        await recorder.settle();
        recorder.commands.length = 0;
        for (let i = 1; i <= 20; i++) expect(await store.consume('known', rule, T0 + i * 1_000, 1)).toMatchObject({ allowed: false, ongoingBlock: true });
        await recorder.settle();
        expect(recorder.commands).toEqual([]);
        // At its end the block is forgotten, and the script decides again.
        expect((await store.consume('known', rule, T0 + 60_000, 1)).allowed).toBe(true);
        await recorder.settle();
        expect(recorder.commands).toEqual(['evalsha']);
      } finally {
        recorder.stop();
      }
    });

    it('decides, looks and resets as before after SCRIPT FLUSH, sending each script again once', async () => {
      const { store, recorder } = await recordedStore();
      try {
        await admin.script('FLUSH');
        expect(await store.consume('flushed', rule, T0, 1)).toMatchObject({ allowed: true, remaining: 2 });
        expect(await store.consume('flushed', rule, T0, 1)).toMatchObject({ allowed: true, remaining: 1 });
        await admin.script('FLUSH');
        expect(await store.get('flushed', rule, T0)).toMatchObject({ allowed: true, remaining: 0 });
        expect(await store.consume('flushed', rule, T0, 1)).toMatchObject({ allowed: true, remaining: 0 });
        await store.reset('flushed');
        expect(await store.get('flushed', rule, T0)).toBeNull();
        await recorder.settle();
        expect(recorder.commands).toEqual([
          ...['evalsha', 'eval'], // consume: NOSCRIPT, then the script itself (which caches it)
          'evalsha', // consume
          ...['evalsha', 'eval'], // get, after the second flush
          'evalsha', // consume
          ...['evalsha', 'eval'], // reset, its own script not cached yet
          'evalsha', // get
        ]);
      } finally {
        recorder.stop();
      }
    });
  });
});
