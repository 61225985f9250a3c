import type { Server } from 'node:net';
import { Rampart } from '../../lib/engine/rampart.js';
import { FakeClock } from '../support/fake-clock.js';
import { ADAPTERS } from '../support/http-app.js';
import { until, untilValue } from '../support/until.js';
import { startConcurrencyApp, type ConcurrencyApp, type Sent } from './concurrency.app.js';

const SLOW = 'concurrency:JobsController.slow:127.0.0.1';

/**
 * A client that closes its connections: Nest lets a handler's promise run on after its client has
 * gone, so the slot stays taken until the handler ends, and aborting cannot run more handlers at once
 * than the limit. A handler's Observable, which Nest tears down when its client leaves, frees it then.
 */
describe.each(ADAPTERS)('@ConcurrencyLimit on HTTP routes, clients that abort (%s)', (adapter) => {
  let t: ConcurrencyApp;
  let rampart: Rampart;

  beforeEach(async () => {
    t = await startConcurrencyApp(adapter, { clock: new FakeClock() });
    rampart = t.app.get(Rampart);
  });
  afterEach(async () => {
    while (t.jobs.gate.waiting > 0) t.jobs.gate.release();
    await t.close();
  });

  const connections = () => new Promise<number>((resolve) => (t.app.getHttpServer() as Server).getConnections((_error, count) => resolve(count)));
  /** Sends a request to `path` and waits until its handler runs. */
  const running = async (path = '/slow'): Promise<Sent> => {
    const before = t.jobs.gate.started;
    const sent = t.send(path);
    await until(() => t.jobs.gate.started === before + 1);
    return sent;
  };
  /** Aborts `sent` and waits until the server has seen its connection close (its response's `close` has fired). */
  const abort = async (sent: Sent) => {
    const before = await connections();
    sent.abort();
    await untilValue(connections, before - 1);
  };

  it('holds the slot of an aborted request until its handler ends, then frees it', async () => {
    const aborted = await running();
    await running();
    await abort(aborted);
    // The aborted request's handler still runs: its slot is still taken.
    expect(await rampart.leases.count(SLOW)).toBe(2);
    const refused = await t.get('/slow');
    expect(refused).toMatchObject({ status: 429, body: { rule: 'concurrency', limit: 2 } });
    expect(t.jobs.gate.started).toBe(2);
    // Its handler ends (the oldest held): the slot comes free, and the client is admitted again.
    t.jobs.gate.release();
    await until(() => t.jobs.gate.finished === 1);
    await until(() => rampart.leases.size === 1);
    await running();
    expect(await rampart.leases.count(SLOW)).toBe(2);
  });

  it('never runs more handlers at once than the limit for a client that aborts every request', async () => {
    for (let i = 0; i < 2; i++) await abort(await running());
    expect(await connections()).toBe(0);
    for (let i = 0; i < 3; i++) expect((await t.get('/slow')).status).toBe(429);
    expect([t.jobs.gate.started, t.jobs.gate.waiting]).toEqual([2, 2]);
    // The first aborted handler fails: its slot comes free, for one request only.
    t.jobs.gate.fail();
    await until(() => rampart.leases.size === 1);
    const admitted = await running();
    expect((await t.get('/slow')).status).toBe(429);
    // The second aborted handler returns: a slot comes free again.
    t.jobs.gate.release();
    await until(() => rampart.leases.size === 1);
    await running();
    expect([t.jobs.gate.started, t.jobs.gate.waiting]).toEqual([4, 2]);
    t.jobs.gate.release();
    expect(await admitted.answer).toMatchObject({ status: 200, body: { done: true } });
    await until(() => rampart.leases.size === 1);
  });

  it("frees the slot when the client leaves a handler's Observable, which Nest tears down", async () => {
    const watching = t.send('/watch');
    await until(() => t.jobs.watchers === 1);
    expect((await t.get('/watch')).status).toBe(429);
    await abort(watching);
    await until(() => t.jobs.watchers === 0);
    await until(() => rampart.leases.size === 0);
    const again = t.send('/watch');
    await until(() => t.jobs.watchers === 1);
    expect(rampart.leases.size).toBe(1);
    await abort(again);
    await until(() => rampart.leases.size === 0);
  });
});
