/**
 * Key kinds never collide: an identity from a key resolver (module or rule) is keyed apart from
 * every address, so a client cannot get another client's address counted, blocked or banned by
 * presenting it as its identity; the bans of a client's address (by key and by range, made by
 * escalation or by an operator) apply whatever identity it presents; and the `sha256:` form of long
 * identities is reserved.
 */
import { Injectable, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { RateLimitGuard, RateLimitModule, RateLimitService, type TargetRule } from '../../../lib/index.js';
import { memoryStorage, type MemoryStorage } from '../../../lib/storage/memory-storage.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { IdentityController, identityModule } from './identity.app.js';

const VICTIM = '198.51.100.7';
const ATTACKER = '203.0.113.9';
const BLOCK_MS = 900_000;

/** The module resolver of these apps: the `X-Api-Key` header, as an app keying clients by API key would. */
const apiKeyHeader = (ctx: ExecutionContext) =>
  ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-api-key'] || undefined;
const sha256 = (text: string, encoding: 'hex' | 'base64url') => createHash('sha256').update(text).digest(encoding);

/** A guard whose tracker is the `X-Tracker` header when sent (a subclass's own identity), else the default. */
@Injectable()
class HeaderTrackerGuard extends RateLimitGuard {
  static readonly stored: string[] = [];
  protected override getTracker(context: ExecutionContext, request: unknown, address?: string | null): string | Promise<string> {
    return (request as { headers: Record<string, string | undefined> }).headers['x-tracker'] ?? super.getTracker(context, request, address);
  }
  protected override generateKey(context: ExecutionContext, clientKey: string, rule: TargetRule<ExecutionContext>): string {
    HeaderTrackerGuard.stored.push(clientKey);
    return super.generateKey(context, clientKey, rule);
  }
}

describe.each(ADAPTERS)('identity namespaces on %s', (adapter) => {
  let t: TestApp;
  let storage: MemoryStorage;
  let clock: FakeClock;
  afterEach(() => t.close());

  /** An app behind a trusted proxy (clients told apart by X-Forwarded-For), escalating after 2 violations. */
  async function start(options: { moduleResolver: boolean }): Promise<void> {
    storage = memoryStorage();
    clock = new FakeClock();
    t = await startApp(
      adapter,
      identityModule({
        clock,
        storage,
        trustProxy: { proxies: ['loopback'] },
        escalation: { blockAfterViolations: 2, blockDurationMs: BLOCK_MS },
        ...(options.moduleResolver ? { keyResolver: apiKeyHeader } : {}),
      }),
    );
  }

  /** A request to `path` from `address`, presenting `apiKey` when given. */
  const from = (address: string, path: string, apiKey?: string) => {
    const req = t.http().get(path).set('X-Forwarded-For', address);
    return apiKey === undefined ? req : req.set('X-Api-Key', apiKey);
  };
  const service = () => t.app.get(RateLimitService);

  describe.each([
    ['the module keyResolver', '/ip', true],
    ["a rule's keyResolver", '/keyed', false],
  ] as const)('with %s', (_label, path, moduleResolver) => {
    beforeEach(() => start({ moduleResolver }));

    it("cannot get another client's address counted, blocked or banned by presenting it as an identity", async () => {
      // Under a limit of 2, the third and fourth requests are violations; the second violation blocks.
      await from(ATTACKER, path, VICTIM).expect(200);
      await from(ATTACKER, path, VICTIM).expect(200);
      await from(ATTACKER, path, VICTIM).expect(429);
      await from(ATTACKER, path, VICTIM)
        .expect(429)
        .expect('retry-after', String(BLOCK_MS / 1000));
      // The identity is blocked, from any address.
      await from('192.0.2.1', path, VICTIM)
        .expect(429)
        .expect('retry-after', String(BLOCK_MS / 1000));

      // The address of the same text is untouched: not blocked, and its counter is its own.
      await from(VICTIM, path).expect(200);
      await from(VICTIM, path).expect(200);
      await from(VICTIM, path).expect(429);

      expect(await storage.bans.get({ type: 'key', key: VICTIM })).toBeNull();
      expect(await storage.bans.get({ type: 'key', key: `id:${VICTIM}` })).toMatchObject({
        kind: 'temporary',
        source: 'auto',
        expiresAtMs: clock.now() + BLOCK_MS,
      });
      expect(await storage.violations.count(`id:${VICTIM}`, 0)).toBe(2);
      expect(await storage.violations.count(VICTIM, 0)).toBe(1);
      expect((await service().status(VICTIM, VICTIM)).verdict.status).toBe('none');
      expect((await service().status(`id:${VICTIM}`)).verdict.status).toBe('blocked');
    });

    it('refuses a client whose address is banned (by key, by range, by escalation) whatever identity it presents', async () => {
      await service().ban({ type: 'key', key: '198.51.100.10' }, 'permanent', undefined, 'abuse', 'ops');
      await from('198.51.100.10', path, 'alice').expect(403);
      await from('198.51.100.10', path).expect(403);

      await service().ban({ type: 'key', key: '198.51.100.11' }, 'temporary', 60_000, 'cool down', 'ops');
      await from('198.51.100.11', path, 'alice').expect(429).expect('retry-after', '60');

      await service().ban({ type: 'cidr', cidr: '192.0.2.0/24' }, 'permanent', undefined, 'botnet', 'ops');
      await from('192.0.2.77', path, 'alice').expect(403);
      // Alice from elsewhere is not refused: the bans were the addresses'.
      await from('203.0.113.50', path, 'alice').expect(200);

      // An address blocked by escalation, then presenting identities.
      for (let i = 0; i < 2; i++) await from('198.51.100.12', path).expect(200);
      await from('198.51.100.12', path).expect(429);
      await from('198.51.100.12', path)
        .expect(429)
        .expect('retry-after', String(BLOCK_MS / 1000));
      await from('198.51.100.12', path, 'bob')
        .expect(429)
        .expect('retry-after', String(BLOCK_MS / 1000));
      await from('198.51.100.12', path, '198.51.100.99').expect(429);
      clock.advance(BLOCK_MS);
      await from('198.51.100.12', path, 'bob').expect(200);
    });
  });

  describe('with the module keyResolver', () => {
    beforeEach(() => start({ moduleResolver: true }));

    it('refuses a banned address on a rule with its own keyResolver too', async () => {
      await service().ban({ type: 'key', key: '198.51.100.10' }, 'permanent', undefined, 'abuse', 'ops');
      await from('198.51.100.10', '/keyed', 'alice').expect(403);
    });

    it('keeps the sha256: form of long identities reserved: an identity spelling it is another client', async () => {
      const long = 'k'.repeat(200);
      const hashed = `sha256:${sha256(long, 'base64url')}`;
      const hex = `sha256:${sha256(long, 'hex')}`;
      await from(ATTACKER, '/ip', long).expect(200);
      await from(ATTACKER, '/ip', long).expect(200);
      // Counted apart from the long identity whose key they spell.
      await from(ATTACKER, '/ip', hashed).expect(200);
      await from(ATTACKER, '/ip', hex).expect(200);
      clock.advance(60_000);

      // The long identity is banned by its key (as violations show it); its spellings are not.
      await service().ban({ type: 'key', key: hashed }, 'permanent', undefined, 'abuse', 'ops');
      await from(ATTACKER, '/ip', long).expect(403);
      await from(ATTACKER, '/ip', hashed).expect(200);
      await from(ATTACKER, '/ip', hex).expect(200);
      // An identity spelling a hash is named `id:<identity>`.
      await service().ban({ type: 'key', key: `id:${hex}` }, 'permanent', undefined, 'abuse', 'ops');
      await from(ATTACKER, '/ip', hex).expect(403);
      await from(ATTACKER, '/ip', long).expect(403);
      expect(await storage.bans.get({ type: 'key', key: `id:${hex}` })).toMatchObject({ kind: 'permanent' });
    });
  });

  describe("with a guard subclass's getTracker", () => {
    beforeEach(async () => {
      storage = memoryStorage();
      clock = new FakeClock();
      HeaderTrackerGuard.stored.length = 0;
      t = await startApp(adapter, {
        imports: [
          RateLimitModule.forRoot({
            rules: [{ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' }],
            clock,
            storage,
            trustProxy: { proxies: ['loopback'] },
            escalation: { blockAfterViolations: 2, blockDurationMs: BLOCK_MS },
            registerGlobalGuard: false,
          }),
        ],
        controllers: [IdentityController],
        providers: [{ provide: APP_GUARD, useClass: HeaderTrackerGuard }],
      });
    });
    const tracked = (address: string, tracker?: string) => {
      const req = t.http().get('/ip').set('X-Forwarded-For', address);
      return tracker === undefined ? req : req.set('X-Tracker', tracker);
    };

    it('takes a tracker other than the address for an identity: keyed apart, and the address bans still apply', async () => {
      for (const status of [200, 200, 429, 429, 429]) await tracked(ATTACKER, VICTIM).expect(status);
      await tracked(VICTIM).expect(200);
      expect(await storage.bans.get({ type: 'key', key: `id:${VICTIM}` })).toMatchObject({ source: 'auto' });
      expect(await storage.bans.get({ type: 'key', key: VICTIM })).toBeNull();
      // generateKey is handed the client key: the identity's, or the address's.
      expect(HeaderTrackerGuard.stored).toContain(`id:${VICTIM}`);
      expect(HeaderTrackerGuard.stored).toContain(VICTIM);

      await service().ban({ type: 'key', key: '198.51.100.10' }, 'permanent', undefined, 'abuse', 'ops');
      await tracked('198.51.100.10', 'tenant-a').expect(403);
      // A tracker equal to the client's own address key is that address.
      await tracked('198.51.100.20', '198.51.100.20').expect(200);
      expect(HeaderTrackerGuard.stored.at(-1)).toBe('198.51.100.20');
    });
  });
});
