import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Rampart, RateLimitModule, type RateLimitModuleOptions } from '../../lib/index.js';
import { closeReason } from '../../lib/ws/ws-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { attempt, startWsAppOn, WS_ADAPTERS, type WsTestApp } from './ws.app.js';

/** Two gateways on the app's server (one path, one namespace), each with a handler and a connection hook. */
const connections: string[] = [];

@WebSocketGateway()
class FirstGateway {
  handleConnection() {
    connections.push('first');
  }
  @SubscribeMessage('free') free(@MessageBody() data: unknown) {
    return { event: 'free', data };
  }
}

@WebSocketGateway()
class SecondGateway {
  handleConnection() {
    connections.push('second');
  }
  @SubscribeMessage('other') other(@MessageBody() data: unknown) {
    return { event: 'other', data };
  }
}

describe.each(WS_ADAPTERS)('gateways sharing one server on %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    connections.length = 0;
  });

  const start = async (options: RateLimitModuleOptions): Promise<WsTestApp> => {
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ rules: [], logger: { log() {}, warn() {}, error() {} }, clock: new FakeClock(), ...options })],
      providers: [FirstGateway, SecondGateway],
    }).compile();
    const nest = (app = moduleRef.createNestApplication({ logger: false }));
    nest.useWebSocketAdapter(adapter === 'ws' ? new WsAdapter(nest) : new IoAdapter(nest));
    await nest.listen(0, '127.0.0.1');
    return startWsAppOn(adapter, nest);
  };

  it('decides a connection once: one lease and one count of the connection rule, however many gateways', async () => {
    const t = await start({ websockets: { maxConnections: 2, connectionRate: { limit: 2, windowMs: 60_000, algorithm: 'fixed-window' } } });
    expect(await attempt(t)).toHaveProperty('admitted');
    expect(await app!.get(Rampart).leases.count('ws-connections:127.0.0.1')).toBe(1);
    // Counted twice, the second would be refused by the rule (2 a minute): it is admitted, the third is not.
    expect(await attempt(t)).toHaveProperty('admitted');
    expect(await app!.get(Rampart).leases.count('ws-connections:127.0.0.1')).toBe(2);
    expect(await attempt(t)).toMatchObject({ refused: { code: 'RATE_LIMITED', rule: 'ws-connections' } });
    // Both gateways saw each admitted connection, and neither saw the refused one.
    expect(connections.sort()).toEqual(['first', 'first', 'second', 'second']);
  });

  it('closes a refused connection whatever the length of its message (close reasons hold 123 bytes)', async () => {
    const t = await start({ websockets: { maxConnections: 1 }, errorMessage: 'é'.repeat(200) });
    expect(await attempt(t)).toHaveProperty('admitted');
    expect(await attempt(t)).toMatchObject({ refused: { code: 'TOO_MANY_CONNECTIONS' } });
  });
});

describe('closeReason', () => {
  it('keeps a reason within 123 bytes, cut on a character boundary', () => {
    expect(closeReason('short')).toBe('short');
    const long = closeReason('é'.repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long.endsWith('…')).toBe(true);
  });
});
