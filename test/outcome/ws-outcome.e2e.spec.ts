/**
 * WebSocket gateway messages have no outcome Rampart can see: a module rule that counts outcomes
 * (countIf) does not count them, says so once at startup, and the other rules count them as usual.
 */
import { FakeClock } from '../support/fake-clock.js';
import { startWsApp, WS_ADAPTERS, type TestClient, type WsTestApp } from '../ws/ws.app.js';

describe.each(WS_ADAPTERS)('a countIf rule beside gateway messages (%s)', (adapter) => {
  let t: WsTestApp;
  const warnings: string[] = [];

  beforeAll(async () => {
    t = await startWsApp(adapter, {
      clock: new FakeClock(),
      rules: [
        { name: 'failures', limit: 1, windowMs: 60_000, algorithm: 'fixed-window', countIf: 'succeeded' },
        { name: 'default', limit: 3, windowMs: 60_000, algorithm: 'fixed-window' },
      ],
      logger: { log: () => undefined, warn: (message: string) => void warnings.push(message), error: () => undefined },
    });
  });
  afterAll(() => t.close());

  const exchange = async (client: TestClient, data: number) => {
    client.send('ping', data);
    return client.next();
  };

  it('counts messages under the other rules only, and warns once', async () => {
    const client = await t.connect();
    // Successes all: a countIf rule counting them with a limit of 1 would refuse the second.
    for (let i = 1; i <= 3; i++) expect(await exchange(client, i)).toEqual({ event: 'pong', data: i });
    expect(await exchange(client, 4)).toMatchObject({ event: 'exception', data: { code: 'RATE_LIMITED', rule: 'default' } });
    expect(warnings.filter((w) => w.includes("Rule 'failures' counts outcomes (countIf), but WebSocket messages have no outcome"))).toHaveLength(1);
  });
});
