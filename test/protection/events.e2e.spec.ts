import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import {
  RateLimitService,
  RAMPART_EVENTS,
  type BanEvent,
  type BlockEvent,
  type RateLimitEventHandlers,
  type UnbanEvent,
  type ViolationEvent,
} from '../../lib/index.js';
import { memoryStorage } from '../../lib/storage/memory-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { protectionModule } from './protection.app.js';

const START = Date.UTC(2030, 0, 1);
const CLIENT = '203.0.113.7';

type Received = [string, unknown][];

/** An app-side listener, as users write them with @nestjs/event-emitter. */
@Injectable()
class RampartListener {
  static received: Received = [];
  static failOn = new Set<string>();

  @OnEvent('rampart.*')
  onAny(event: unknown) {
    RampartListener.record('any', event);
  }
  @OnEvent(RAMPART_EVENTS.violation) onViolation(event: ViolationEvent) {
    RampartListener.record(RAMPART_EVENTS.violation, event);
  }
  @OnEvent(RAMPART_EVENTS.block) onBlock(event: BlockEvent) {
    RampartListener.record(RAMPART_EVENTS.block, event);
  }
  @OnEvent(RAMPART_EVENTS.ban) onBan(event: BanEvent) {
    RampartListener.record(RAMPART_EVENTS.ban, event);
  }
  @OnEvent(RAMPART_EVENTS.unban) onUnban(event: UnbanEvent) {
    RampartListener.record(RAMPART_EVENTS.unban, event);
  }

  private static record(name: string, event: unknown) {
    if (name !== 'any') RampartListener.received.push([name, event]);
    if (RampartListener.failOn.has(name)) throw new Error(`listener for ${name} failed`);
  }
}

function callbacks(received: Received, fail = false): RateLimitEventHandlers {
  const handler = (name: string) => (event: unknown) => {
    received.push([name, event]);
    if (fail) throw new Error(`callback for ${name} failed`);
  };
  return { onViolation: handler('violation'), onBlock: handler('block'), onBan: handler('ban'), onUnban: handler('unban') };
}

describe.each(ADAPTERS)('events on %s', (adapter) => {
  let clock: FakeClock;
  let t: TestApp;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    clock = new FakeClock(START);
    RampartListener.received = [];
    RampartListener.failOn = new Set();
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t.close();
    errors.mockRestore();
  });

  const from = (address = CLIENT) => t.http().get('/data').set('X-Forwarded-For', address);

  /** 2 admitted, 2 violations answered 429 by the rule, and the third violation's block. */
  async function untilBlocked() {
    await from().expect(200);
    await from().expect(200);
    await from().expect(429);
    await from().expect(429);
    await from().expect(429).expect('retry-after', '900');
  }

  it('delivers violation, block, ban and unban to the callbacks', async () => {
    const received: Received = [];
    t = await startApp(adapter, protectionModule({ clock, storage: memoryStorage(), events: callbacks(received) }));
    await untilBlocked();
    expect(received.map(([name]) => name)).toEqual(['violation', 'violation', 'violation', 'block']);
    expect(received[0]![1]).toEqual({
      key: CLIENT,
      address: CLIENT,
      rule: 'default',
      route: 'ProtectedController.data',
      method: 'GET',
      protocol: 'http',
      hits: 3,
      limit: 2,
      atMs: START,
      recorded: true,
    });
    expect(received[3]![1]).toMatchObject({
      target: { type: 'key', key: CLIENT },
      source: 'auto',
      untilMs: START + 900_000,
      durationMs: 900_000,
      blockCount: 1,
      atMs: START,
      ban: { kind: 'temporary', source: 'auto', violationCount: 3 },
    });

    const protection = t.app.get(RateLimitService);
    received.length = 0;
    await protection.ban({ type: 'cidr', cidr: '198.51.100.0/24' }, 'permanent', undefined, 'botnet', 'alice');
    await protection.unban({ type: 'key', key: CLIENT }, 'bob', true);
    expect(received).toEqual([
      ['ban', expect.objectContaining({ target: { type: 'cidr', cidr: '198.51.100.0/24' }, source: 'admin', reason: 'botnet', atMs: START })],
      [
        'unban',
        expect.objectContaining({ target: { type: 'key', key: CLIENT }, by: 'bob', clearHistory: true, ban: expect.objectContaining({ liftedBy: 'bob' }) }),
      ],
    ]);
  });

  it("emits the same events on the app's EventEmitter2", async () => {
    t = await startApp(adapter, {
      imports: [EventEmitterModule.forRoot({ wildcard: true }), ...protectionModule({ clock, storage: memoryStorage() }).imports],
      controllers: protectionModule().controllers,
      providers: [RampartListener],
    });
    await untilBlocked();
    const protection = t.app.get(RateLimitService);
    await protection.ban({ type: 'key', key: 'user-1' }, 'permanent', undefined, 'abuse', 'alice');
    await protection.unban({ type: 'key', key: 'user-1' }, 'alice');
    expect(RampartListener.received.map(([name]) => name)).toEqual([
      'rampart.violation',
      'rampart.violation',
      'rampart.violation',
      'rampart.block',
      'rampart.ban',
      'rampart.unban',
    ]);
    expect(RampartListener.received[3]![1]).toMatchObject({ blockCount: 1, durationMs: 900_000 });
    expect(errors).not.toHaveBeenCalled();
  });

  it('answers as usual when a callback throws, and logs the failure', async () => {
    const received: Received = [];
    t = await startApp(adapter, protectionModule({ clock, storage: memoryStorage(), events: callbacks(received, true) }));
    await untilBlocked();
    await from().expect(429).expect('retry-after', '900');
    expect(received).toHaveLength(4);
    const logged = errors.mock.calls.map(([message]) => String(message));
    expect(logged).toContain('events.onViolation failed on rampart.violation: callback for violation failed. The request was answered as usual.');
    expect(logged).toContain('events.onBlock failed on rampart.block: callback for block failed. The request was answered as usual.');
  });

  it('answers as usual when an async callback rejects', async () => {
    const onBlock = jest.fn(async () => {
      throw new Error('webhook down');
    });
    t = await startApp(adapter, protectionModule({ clock, storage: memoryStorage(), events: { onBlock } }));
    await untilBlocked();
    await new Promise((resolve) => setImmediate(resolve));
    expect(onBlock).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls.map(([message]) => String(message))).toContain(
      'events.onBlock failed on rampart.block: webhook down. The request was answered as usual.',
    );
  });

  it('logs an async EventEmitter2 listener that rejects instead of leaving the rejection unhandled', async () => {
    t = await startApp(adapter, {
      imports: [EventEmitterModule.forRoot({ wildcard: true }), ...protectionModule({ clock, storage: memoryStorage() }).imports],
      controllers: protectionModule().controllers,
    });
    t.app.get(EventEmitter2).on(RAMPART_EVENTS.block, async () => {
      throw new Error('webhook down');
    });
    await untilBlocked();
    await from().expect(429).expect('retry-after', '900');
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.mock.calls.map(([message]) => String(message))).toContain(
      'an EventEmitter2 listener failed on rampart.block: webhook down. The request was answered as usual.',
    );
  });

  it('answers as usual when an EventEmitter2 listener throws', async () => {
    RampartListener.failOn = new Set([RAMPART_EVENTS.violation, RAMPART_EVENTS.block]);
    t = await startApp(adapter, {
      imports: [EventEmitterModule.forRoot({ wildcard: true }), ...protectionModule({ clock, storage: memoryStorage() }).imports],
      controllers: protectionModule().controllers,
      providers: [RampartListener],
    });
    await untilBlocked();
    await from().expect(429).expect('retry-after', '900');
    expect(RampartListener.received.map(([name]) => name)).toContain('rampart.block');
  });
});
