import { createRampart, type RampartOptions, type Verdict } from '../../lib/engine/index.js';
import type { DdosAttackEvent, DdosSuspectEvent } from '../../lib/events/rate-limit-events.js';
import type { BlockEvent } from '../../lib/events/rate-limit-events.js';
import { ClientTraffic } from '../../lib/ddos/suspicion.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const SECOND = 1_000;
const STEADY = '198.51.100.10';
const bot = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function started(options: RampartOptions = {}) {
  const clock = new FakeClock(T0);
  const lines: string[] = [];
  const logger = { log: () => undefined, warn: (line: string) => void lines.push(line), error: (line: string) => void lines.push(line) };
  const attacks: DdosAttackEvent[] = [];
  const suspects: DdosSuspectEvent[] = [];
  const blocks: BlockEvent[] = [];
  const rampart = createRampart({
    clock,
    logger,
    rules: [{ limit: 20, windowMs: 60_000, algorithm: 'fixed-window' }],
    escalation: false,
    ddos: { threshold: 1_000, windowMs: 60_000, clientThreshold: 50, blockDurationMs: 600_000 },
    events: { onDdosAttack: (e) => void attacks.push(e), onDdosSuspect: (e) => void suspects.push(e), onBlock: (e) => void blocks.push(e) },
    ...options,
  });
  await rampart.start();
  const decide = async (address: string, target = 'GET /search') => (await rampart.decide({ target, address })) as Verdict;
  return { rampart, clock, decide, attacks, suspects, blocks, lines };
}

describe('DDoS detection (through createRampart)', () => {
  it('trips on a flood from many addresses, blocks the flooders through the ban store, and never the steady client', async () => {
    const { rampart, clock, decide, attacks, suspects, blocks, lines } = await started();
    // The steady client: one request every 4 s, before and during the flood (within its rule's 20 a minute).
    const steady: Verdict['outcome'][] = [];
    for (let t = 0; t < 15; t++) {
      steady.push((await decide(STEADY)).outcome);
      clock.advance(4 * SECOND);
    }
    expect(attacks).toEqual([]);
    // 30 bots, 40 requests each at once (20 of 40 refused by the rule).
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 30; i++) await decide(bot(i));
      if (round % 10 === 0) steady.push((await decide(STEADY)).outcome);
    }
    await rampart.ddos!.settled();
    expect(attacks).toHaveLength(1);
    expect(attacks[0]).toMatchObject({ phase: 'start', threshold: 1_000, windowMs: 60_000, requests: 1_000 });
    expect(attacks[0]!.endpoints[0]).toMatchObject({ requests: expect.any(Number) });
    // Every bot found suspect once, and blocked through the ban store with source 'ddos'.
    expect(new Set(suspects.map((s) => s.key))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => bot(i))));
    expect(suspects.every((s) => s.blocking && s.score >= 0.6)).toBe(true);
    expect(blocks).toHaveLength(30);
    const ban = (await rampart.service.getBan({ type: 'key', key: bot(7) }))!;
    expect(ban).toMatchObject({ source: 'ddos', kind: 'temporary', createdBy: 'rampart', expiresAtMs: expect.any(Number) });
    expect(ban.reason).toMatch(/^ddos: suspicion score 0\.\d\d during an attack/);
    expect((await decide(bot(7))).outcome).toBe('blocked');
    // The steady client: never a suspect, never refused.
    for (let t = 0; t < 10; t++) steady.push((await decide(STEADY)).outcome);
    expect(steady.every((o) => o === 'admitted')).toBe(true);
    expect(suspects.map((s) => s.key)).not.toContain(STEADY);
    expect(await rampart.service.getBan({ type: 'key', key: STEADY })).toBeNull();
    expect(lines.some((l) => l.startsWith('DDoS attack suspected: 1000 requests within 60000 ms'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('DDoS suspect '))).toHaveLength(30);

    // Traffic stops: the attack ends once the window holds under half the threshold.
    clock.advance(60 * SECOND);
    expect(rampart.ddos!.snapshot()).toMatchObject({ attack: false, requests: 0, attacks: 1, suspects: 30 });
    expect(attacks[1]).toMatchObject({ phase: 'end', suspects: 30 });
    // The block lasts its own duration (10 minutes), not the window's.
    expect((await decide(bot(7))).outcome).toBe('blocked');
    clock.advance(10 * 60 * SECOND);
    expect((await decide(bot(7))).outcome).toBe('admitted');
    await rampart.stop();
  });

  it('with every default (ddos: true), never blocks a heavy client whose requests succeed, nor a steady one', async () => {
    const { rampart, clock, decide, attacks, suspects } = await started({ ddos: true, rules: [{ limit: 350, windowMs: 60_000, algorithm: 'fixed-window' }] });
    const targets = Array.from({ length: 8 }, (_, i) => `GET /page${i}`);
    const steady: Verdict['outcome'][] = [];
    for (let t = 0; t < 15; t++) {
      steady.push((await decide(STEADY)).outcome);
      clock.advance(4 * SECOND);
    }
    // The heavy client: 340 requests at once (past clientThreshold 300) over 8 endpoints, every one admitted:
    // rate, burst and spread all full, the most a client without errors can score (0.6).
    const heavy = '198.51.100.20';
    for (let i = 0; i < 340; i++) expect((await decide(heavy, targets[i % 8])).outcome).toBe('admitted');
    // 30 bots, 500 requests each at once, past the rule's 350: 150 refused each.
    for (let round = 0; round < 500; round++) {
      for (let i = 0; i < 30; i++) await decide(bot(i));
      if (round % 100 === 0) steady.push((await decide(STEADY)).outcome);
    }
    for (const target of targets) expect((await decide(heavy, target)).outcome).toBe('admitted');
    await rampart.ddos!.settled();
    expect(attacks).toEqual([expect.objectContaining({ phase: 'start', threshold: 10_000 })]);
    expect(new Set(suspects.map((s) => s.key))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => bot(i))));
    expect(suspects.every((s) => s.blocking && s.score >= 0.65)).toBe(true);
    expect(steady.every((o) => o === 'admitted')).toBe(true);
    expect(await rampart.service.getBan({ type: 'key', key: heavy })).toBeNull();
    expect(await rampart.service.getBan({ type: 'key', key: STEADY })).toBeNull();
    await rampart.stop();
  });

  it('without autoBlock, announces and logs suspects but blocks nobody', async () => {
    const { rampart, decide, suspects, blocks, lines } = await started({ ddos: { threshold: 200, clientThreshold: 20, autoBlock: false } });
    for (let round = 0; round < 30; round++) for (let i = 0; i < 10; i++) await decide(bot(i));
    await rampart.ddos!.settled();
    expect(suspects).toHaveLength(10);
    expect(suspects.every((s) => !s.blocking)).toBe(true);
    expect(blocks).toEqual([]);
    expect((await rampart.service.listBans({ source: 'ddos' }, { limit: 10 })).items).toEqual([]);
    expect(lines.filter((l) => l.includes('(autoBlock is off: not blocked)'))).toHaveLength(10);
    await rampart.stop();
  });

  it('in shadow mode blocks shadow:<key> only: reported, never enforced', async () => {
    const { rampart, decide, blocks } = await started({ shadow: true, ddos: { threshold: 100, clientThreshold: 10 } });
    const outcomes = new Set<string>();
    for (let i = 0; i < 150; i++) outcomes.add((await decide(bot(i % 2))).outcome);
    await rampart.ddos!.settled();
    expect(outcomes).toEqual(new Set(['admitted']));
    expect(blocks.map((b) => [b.target, b.shadow])).toEqual([
      [{ type: 'key', key: `shadow:${bot(0)}` }, true],
      [{ type: 'key', key: `shadow:${bot(1)}` }, true],
    ]);
    expect(await rampart.service.getBan({ type: 'key', key: bot(0) })).toBeNull();
    await rampart.stop();
  });

  it('does not block under the threshold, however suspicious a client looks', async () => {
    const { rampart, decide, attacks, suspects } = await started({ ddos: { threshold: 10_000, clientThreshold: 10 } });
    for (let i = 0; i < 500; i++) await decide(bot(1), `GET /r${i % 9}`);
    expect(rampart.ddos!.snapshot()).toMatchObject({ attack: false, requests: 500 });
    expect(attacks).toEqual([]);
    expect(suspects).toEqual([]);
    await rampart.stop();
  });

  it('never lets a DDoS block shorten a longer ban, and keeps counting the client', async () => {
    const { rampart, decide, blocks } = await started({ ddos: { threshold: 100, clientThreshold: 10 } });
    await rampart.service.ban({ type: 'key', key: bot(1) }, 'permanent', undefined, 'abuse', 'alice');
    blocks.length = 0;
    for (let i = 0; i < 200; i++) await decide(bot(i % 2));
    await rampart.ddos!.settled();
    expect(await rampart.service.getBan({ type: 'key', key: bot(1) })).toMatchObject({ kind: 'permanent', source: 'admin' });
    expect(blocks.map((b) => b.target)).toEqual([{ type: 'key', key: bot(0) }]);
    await rampart.stop();
  });

  it('bounds its memory: at most maxClients clients of fixed-size state, at most maxEndpoints endpoints', async () => {
    const { rampart, clock, decide } = await started({ ddos: { threshold: 1e9, maxClients: 100, maxEndpoints: 20 } });
    const sizeOf = (traffic: ClientTraffic) =>
      Object.values(traffic)
        .flatMap((v) => (v instanceof Object && 'buffer' in v ? [v] : v instanceof Object ? Object.values(v) : []))
        .reduce((bytes: number, a) => bytes + ((a as ArrayBufferView).byteLength ?? 0), 0);
    const fresh = new ClientTraffic();
    fresh.add(1, 1, false);
    for (let i = 0; i < 5_000; i++) {
      await decide(bot(i), `GET /e${i % 300}`);
      if (i % 1000 === 0) clock.advance(SECOND);
    }
    // One client with a million requests to 1 000 endpoints takes what one with a single request takes.
    const heavy = new ClientTraffic();
    for (let i = 0; i < 1_000_000; i++) heavy.add(i >> 10, i % 1_000, i % 2 === 0);
    expect(sizeOf(heavy)).toBe(sizeOf(fresh));
    expect(sizeOf(heavy)).toBe(ClientTraffic.arrayBytes);
    const snapshot = rampart.ddos!.snapshot();
    expect(snapshot.clients).toBe(100);
    expect(snapshot.requests).toBe(5_000);
    // 20 endpoints apart, the other 280 counted together.
    expect(snapshot.endpoints[0]).toMatchObject({ endpoint: '(other)', requests: 5_000 - 20 * 17 });
    // The most recent clients are the ones kept.
    await decide(bot(4_999));
    expect(rampart.ddos!.snapshot().clients).toBe(100);
    await rampart.stop();
  });

  it('is off by default and with enabled: false; the statistics observer is then the only one', async () => {
    for (const ddos of [undefined, false, { enabled: false }] as const) {
      const rampart = createRampart({ clock: new FakeClock(T0), ...(ddos !== undefined ? { ddos } : {}) });
      expect(rampart.ddos).toBeUndefined();
      expect((rampart.engine as unknown as { observer: unknown }).observer).toBe(rampart.stats);
    }
  });
});

describe('the response status watcher', () => {
  it('reads a Nest HTTP context only, once per response, and never throws on other contexts', async () => {
    const { nestHttpResponse, watchResponse } = await import('../../lib/ddos/response-status.js');
    const { EventEmitter } = await import('node:events');
    const response = Object.assign(new EventEmitter(), { statusCode: 404 });
    const http = { getType: () => 'http', getArgByIndex: <T>() => response as T };
    expect(nestHttpResponse(http)).toBe(response);
    expect(nestHttpResponse({ getType: () => 'http', getArgByIndex: <T>() => ({ raw: response }) as T })).toBe(response);
    expect(nestHttpResponse({ getType: () => 'graphql', getArgByIndex: <T>() => response as T })).toBeUndefined();
    expect(nestHttpResponse({ operation: 'query' } as never)).toBeUndefined();
    expect(nestHttpResponse(undefined as never)).toBeUndefined();
    const statuses: number[] = [];
    watchResponse(nestHttpResponse, http, (status) => statuses.push(status));
    watchResponse(nestHttpResponse, http, (status) => statuses.push(status)); // the same response: not watched twice
    response.emit('finish');
    expect(statuses).toEqual([404]);
    expect(response.listenerCount('finish')).toBe(0);
  });
});
