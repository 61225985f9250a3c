import { ipIdentity } from '../../../lib/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { ADAPTERS, startApp, type TestApp } from '../../support/http-app.js';
import { groupsModule, statuses as statusesOf } from './groups.app.js';

const RANGES = ipIdentity({ groups: { internal: ['10.0.0.0/8', 'fd00::/8'], partner: ['203.0.113.0/24'], default: ['10.9.0.0/16'] } });

describe.each(ADAPTERS)('ipIdentity on %s', (adapter) => {
  let t: TestApp;
  afterEach(() => t.close());

  const statuses = (n: number, forwardedFor: string) => statusesOf(t, n, { 'X-Forwarded-For': forwardedFor });

  it('groups clients by the range of the address a trusted proxy forwarded; the most specific range wins', async () => {
    t = await startApp(
      adapter,
      groupsModule({ clock: new FakeClock(), ...RANGES, groups: { internal: { unlimited: true } }, trustProxy: { proxies: ['loopback'] } }),
    );
    expect(await statuses(5, '10.1.2.3')).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(5, 'fd00::7')).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(5, '203.0.113.9')).toEqual([200, 200, 200, 200, 429]);
    // Carved out of 10.0.0.0/8 into the default group; each address counted on its own.
    expect(await statuses(3, '10.9.0.1')).toEqual([200, 200, 429]);
    expect(await statuses(3, '198.51.100.1')).toEqual([200, 200, 429]);
    expect(await statuses(2, '198.51.100.2')).toEqual([200, 200]);
  });

  it('never takes a forwarded address from an untrusted peer: a spoofed internal address is the peer, in the default group', async () => {
    t = await startApp(adapter, groupsModule({ clock: new FakeClock(), ...RANGES, groups: { internal: { unlimited: true } } }));
    expect(await statuses(3, '10.1.2.3')).toEqual([200, 200, 429]);
  });
});
