/**
 * Rampart on a real Redis Cluster (3 masters with a replica each, on loopback), through ioredis
 * `Cluster` clients: every script's keys are in one hash slot while the counters of many clients
 * spread over every master, N concurrent requests over two app
 * instances (a Cluster client each) admit exactly the limit with every algorithm, and escalation
 * and bans made on one instance hold on the other.
 */
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { RateLimitModule, type AlgorithmName, type RateLimitModuleOptions } from '../../lib/index.js';
import { ALGORITHM_NAMES } from '../../lib/core/algorithms/index.js';
import { RateLimitService } from '../../lib/protection/rate-limit.service.js';
import { redisStorage } from '../../lib/storage/redis/index.js';
import { redisClusterFixture } from '../harness/redis.js';
import { monitorServer } from '../harness/redis-server.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';

const T0 = Date.UTC(2030, 0, 1);
const REQUESTS = 200;
const LIMIT = 50;
const TRIALS = 5;

@Controller()
class HotController {
  @Get('hot') hot() {
    return 'ok';
  }
}

const clientHeader = (context: ExecutionContext) => context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'];

describe('Redis Cluster', () => {
  const fixture = redisClusterFixture();
  let a: Cluster;
  beforeAll(() => {
    a = fixture.connect();
  });
  let prefixes = 0;
  /** A key prefix of its own for each store or app, so that tests share nothing. */
  const freshPrefix = (label: string) => `t:${label}:${++prefixes}:`;

  describe('hash slots', () => {
    /** Every command each master runs while `work` does, as [master port, ...arguments]. */
    async function monitored(work: () => Promise<void>): Promise<Array<{ port: number; args: string[] }>> {
      const seen: Array<{ port: number; args: string[] }> = [];
      // Plain MONITOR sockets: an ioredis monitor connection, under load, took a monitored line for a
      // reply it awaited ("Command queue state error").
      const monitors: Array<{ stop(): void }> = [];
      for (const node of a.nodes('master')) {
        const port = node.options.port!;
        monitors.push(await monitorServer(port, ({ args }) => seen.push({ port, args })));
      }
      try {
        await work();
        // MONITOR streams a command after it ran: wait until one sent after the work shows up on every master.
        const marker = `monitor-marker-${++prefixes}`;
        for (const node of a.nodes('master')) await node.echo(`${marker}:${node.options.port}`);
        const deadline = performance.now() + 2_000;
        while (a.nodes('master').some((node) => !seen.some((s) => s.args[1] === `${marker}:${node.options.port}`)) && performance.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        for (const monitor of monitors) monitor.stop();
      }
      return seen;
    }

    it("runs every script on keys of one slot, keeps each kind of record in one slot, and spreads clients' counters over every master", async () => {
      const prefix = freshPrefix('slots');
      const storage = redisStorage({ client: a, prefix });
      const rule = (algorithm: AlgorithmName) => ({ name: 'r', algorithm, limit: 3, windowMs: 60_000, blockDurationMs: 60_000 });
      const seen = await monitored(async () => {
        for (let i = 0; i < 300; i++) {
          const algorithm = ALGORITHM_NAMES[i % ALGORITHM_NAMES.length]!;
          for (let n = 0; n < 5; n++) await storage.rateLimits.consume(`client-${i}`, rule(algorithm), T0, 1);
          await storage.rateLimits.get(`client-${i}`, rule(algorithm), T0);
        }
        await storage.rateLimits.reset('client-0');
        for (let i = 0; i < 10; i++) {
          await storage.bans.put(
            { target: { type: 'key', key: `banned-${i}` }, kind: 'permanent', reason: 'r', source: 'admin', createdBy: 'ops', violationCount: 1 },
            T0,
          );
          await storage.violations.record({ key: `banned-${i}`, rule: 'r', route: 'A.a', method: 'GET', hits: 4, limit: 3, atMs: T0 + i });
          await storage.leases!.acquire(`pool-${i}`, { id: `h:${i}`, holder: 'h', expiresAtMs: T0 + 30_000 }, 2, T0);
        }
        await storage.bans.put(
          { target: { type: 'cidr', cidr: '198.51.100.0/24' }, kind: 'permanent', reason: 'r', source: 'admin', createdBy: 'ops', violationCount: 0 },
          T0,
        );
        await storage.bans.lift({ type: 'key', key: 'banned-0' }, 'ops', T0 + 1);
        expect((await storage.bans.list({}, { limit: 100 })).items).toHaveLength(11);
        expect(await storage.bans.changedSince(T0, 100)).toHaveLength(11);
        expect(await storage.violations.count('banned-1', T0)).toBe(1);
        expect((await storage.violations.list({}, { limit: 100 })).items).toHaveLength(10);
        await storage.accessList.put({ kind: 'deny', cidr: '203.0.113.0/24', createdBy: 'ops', createdAtMs: T0 }, T0);
        await storage.accessList.put({ kind: 'allow', cidr: '192.0.2.1', createdBy: 'ops', createdAtMs: T0 }, T0);
        expect(await storage.accessList.list()).toHaveLength(2);
        expect(await storage.accessList.remove('allow', '192.0.2.1', T0 + 1)).toBe(true);
        await storage.leases!.renew('h', T0 + 1, T0 + 60_000);
        expect(await storage.leases!.count('pool-1', T0 + 40_000)).toBe(1);
        await storage.leases!.releaseHolder('h');
      });

      const slotOf = new Map<string, number>();
      const slot = async (key: string) => {
        if (!slotOf.has(key)) slotOf.set(key, Number(await a.cluster('KEYSLOT', key)));
        return slotOf.get(key)!;
      };
      // Every script run: at least one key, every key under the prefix, all of them in one slot.
      const scripts = seen.filter((s) => ['evalsha', 'eval'].includes(s.args[0]!.toLowerCase()));
      expect(scripts.length).toBeGreaterThan(1_500);
      const kinds = new Map<string, Set<number>>();
      const countersByMaster = new Map<number, number>();
      for (const { port, args } of scripts) {
        const keys = args.slice(3, 3 + Number(args[2]));
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.filter((key) => !key.startsWith(prefix))).toEqual([]);
        const slots = new Set(await Promise.all(keys.map(slot)));
        expect({ keys, slots: slots.size }).toEqual({ keys, slots: 1 });
        const kind = /^\{(\w+)\}|^rl:/.exec(keys[0]!.slice(prefix.length));
        expect(kind).not.toBeNull();
        const name = kind![1] ?? 'counters';
        if (name === 'counters') countersByMaster.set(port, (countersByMaster.get(port) ?? 0) + 1);
        else kinds.set(name, new Set([...(kinds.get(name) ?? []), ...slots]));
      }
      // Each kind of record in a slot of its own.
      expect([...kinds.keys()].sort()).toEqual(['access', 'bans', 'leases', 'violations']);
      for (const slots of kinds.values()) expect(slots.size).toBe(1);
      // 300 clients' counters on all three masters, a fair share each.
      expect(countersByMaster.size).toBe(3);
      for (const runs of countersByMaster.values()) expect(runs).toBeGreaterThan(300);
    }, 30_000);
  });

  describe('exactness over two app instances, a Cluster client each', () => {
    const clock = new FakeClock(T0);

    async function instances(algorithm: AlgorithmName): Promise<TestApp[]> {
      const prefix = freshPrefix(`exact-${algorithm}`);
      return Promise.all(
        [fixture.connect(), fixture.connect()].map((client) =>
          startApp('express', {
            imports: [
              RateLimitModule.forRoot({
                storage: redisStorage({ client, prefix }),
                clock,
                keyResolver: clientHeader,
                rules: [{ limit: LIMIT, windowMs: 60_000, algorithm }],
                escalation: false,
                // Only rate limiting is measured here, not the outage policy.
                storeTimeoutMs: 10_000,
              }),
            ],
            controllers: [HotController],
          }),
        ),
      );
    }

    it.each(ALGORITHM_NAMES)(
      `%s: admits exactly ${LIMIT} of ${REQUESTS} concurrent requests, ${TRIALS} trials in a row`,
      async (algorithm) => {
        const apps = await instances(algorithm);
        try {
          const admitted: number[] = [];
          for (let trial = 0; trial < TRIALS; trial++) {
            const client = `${algorithm}-trial-${trial}`;
            const statuses = await Promise.all(
              Array.from({ length: REQUESTS }, (_, i) =>
                apps[i % apps.length]!.http()
                  .get('/hot')
                  .set('x-client', client)
                  .then((r) => r.status),
              ),
            );
            expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
            admitted.push(statuses.filter((s) => s === 200).length);
          }
          expect(admitted).toEqual(Array<number>(TRIALS).fill(LIMIT));
        } finally {
          for (const app of apps) await app.close();
        }
      },
      30_000,
    );
  });

  describe.each(ADAPTERS)('a Nest app on %s, two instances', (adapter) => {
    const clock = new FakeClock(T0);
    let apps: TestApp[];
    beforeAll(async () => {
      const prefix = freshPrefix(`app-${adapter}`);
      const options = (client: Cluster): RateLimitModuleOptions => ({
        storage: redisStorage({ client, prefix }),
        clock,
        keyResolver: clientHeader,
        rules: [{ limit: 1, windowMs: 1_000, algorithm: 'fixed-window' }],
        // A block of a minute at each violation, a permanent ban at the third.
        escalation: { blockAfterViolations: 1, blockDurationMs: 60_000, maxBlockDurationMs: 60_000, permanentBanAfter: 3 },
      });
      apps = [];
      for (const client of [fixture.connect(), fixture.connect()]) {
        apps.push(await startApp(adapter, { imports: [RateLimitModule.forRoot(options(client))], controllers: [HotController] }));
      }
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
    });
    const sync = () => Promise.all(apps.map((app) => app.app.get(RateLimitService).syncNow()));
    const status = async (app: TestApp, client: string) => (await app.http().get('/hot').set('x-client', client)).status;

    it('escalates on one instance and blocks, then bans, on the other', async () => {
      const [one, two] = apps as [TestApp, TestApp];
      for (let violation = 1; violation <= 3; violation++) {
        // The violation, counted across instances, is answered by what it leads to: a block, then a ban.
        const expected = violation < 3 ? 429 : 403;
        expect(await status(one, 'abuser')).toBe(200);
        expect(await status(two, 'abuser')).toBe(expected);
        await sync();
        expect([await status(one, 'abuser'), await status(two, 'abuser')]).toEqual([expected, expected]);
        clock.advance(60_000);
      }
      const service = two.app.get(RateLimitService);
      expect(await service.getBan({ type: 'key', key: 'abuser' })).toMatchObject({ kind: 'permanent', source: 'auto', blockCount: 2 });
      expect((await service.listViolations({ key: 'abuser' }, { limit: 10 })).items).toHaveLength(3);
    });

    it("enforces an operator's ban and its lift on every instance", async () => {
      const [one, two] = apps as [TestApp, TestApp];
      clock.advance(60_000);
      await two.app.get(RateLimitService).ban({ type: 'key', key: 'spammer' }, 'permanent', undefined, 'spam', 'ops');
      await sync();
      expect([await status(one, 'spammer'), await status(two, 'spammer')]).toEqual([403, 403]);
      await one.app.get(RateLimitService).unban({ type: 'key', key: 'spammer' }, 'ops');
      await sync();
      expect(await status(two, 'spammer')).toBe(200);
    });
  });
});
