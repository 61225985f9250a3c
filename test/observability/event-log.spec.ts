/**
 * The event log: one line with structured fields for each violation, block, ban and unban; a flood
 * of violations from one key gives one line per interval and one summary; levels per kind; off
 * with `logging: false`. Real engine, memory storage, a capturing logger and a FakeClock.
 */
import { createRampart, type RampartOptions, type Verdict } from '../../lib/engine/index.js';
import { consoleLogger, fieldsAsText, type LogFields } from '../../lib/core/logger.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = Date.UTC(2030, 0, 1);
const A = '203.0.113.7';
const B = '198.51.100.23';
const ONE_PER_MINUTE = { name: 'tight', limit: 1, windowMs: 60_000, algorithm: 'fixed-window' } as const;

type Line = { level: string; message: string; fields: LogFields | undefined };

/** A logger that keeps what it is given; with `debug` unless told not to. */
function capturing(withDebug = true) {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: unknown) => void lines.push({ level, message, fields: fields as LogFields | undefined });
  const logger = { log: at('log'), warn: at('warn'), error: at('error'), ...(withDebug ? { debug: at('debug') } : {}) };
  return { logger, lines, events: () => lines.filter((l) => l.fields !== undefined) };
}

async function started(options: RampartOptions = {}, withDebug = true) {
  const clock = new FakeClock(T0);
  const log = capturing(withDebug);
  const rampart = createRampart({ clock, logger: log.logger, rules: [ONE_PER_MINUTE], escalation: false, ...options });
  await rampart.start();
  const hit = async (address: string, protocol?: string, method?: string) =>
    (await rampart.decide({ target: 'GET /search', address, ...(protocol ? { protocol } : {}), ...(method ? { method } : {}) })) as Verdict;
  return { rampart, clock, hit, ...log };
}

describe('event log', () => {
  afterEach(() => jest.useRealTimers());

  it('logs 100 violations of one key in an interval as one line, then one summary of the 99 left out at its next violation', async () => {
    const { rampart, clock, hit, events } = await started();
    await hit(A); // admitted
    for (let i = 0; i < 100; i++) expect((await hit(A)).outcome).toBe('limited');
    expect(events()).toEqual([
      {
        level: 'warn',
        message: "Rate limit exceeded by 203.0.113.7: rule 'tight' on GET /search, 2 of 1",
        fields: { event: 'violation', key: A, rule: 'tight', route: 'GET /search', method: 'GET', limitType: 'http', count: 2, limit: 1 },
      },
    ]);
    clock.advance(60_000);
    await hit(A); // a new window: admitted
    await hit(A); // a violation in the next log interval
    expect(events().slice(1)).toEqual([
      {
        level: 'warn',
        message: "99 more violations by 203.0.113.7 within 60 s not logged one by one (last: rule 'tight' on GET /search)",
        fields: {
          event: 'violations_suppressed',
          key: A,
          suppressed: 99,
          intervalMs: 60_000,
          rule: 'tight',
          route: 'GET /search',
          method: 'GET',
          limitType: 'http',
          count: 2,
          limit: 1,
        },
      },
      expect.objectContaining({ fields: expect.objectContaining({ event: 'violation', key: A }) }),
    ]);
    await rampart.stop();
  });

  it('logs the summary when the interval ends, by a timer, if the key stops violating', async () => {
    jest.useFakeTimers({ doNotFake: ['performance', 'queueMicrotask', 'nextTick', 'setImmediate'] });
    const { rampart, clock, hit, events } = await started({ logging: { intervalMs: 10_000 } });
    for (let i = 0; i < 4; i++) await hit(A);
    expect(events()).toHaveLength(1);
    clock.advance(10_000);
    jest.advanceTimersByTime(10_000);
    expect(events().map((l) => l.fields)).toEqual([
      expect.objectContaining({ event: 'violation', key: A }),
      expect.objectContaining({ event: 'violations_suppressed', key: A, suppressed: 2, intervalMs: 10_000 }),
    ]);
    // Nothing more is due: no further line.
    clock.advance(60_000);
    jest.advanceTimersByTime(60_000);
    expect(events()).toHaveLength(2);
    await rampart.stop();
  });

  it('logs each key on its own line; a single violation gets no summary', async () => {
    const { rampart, clock, hit, events } = await started();
    await hit(A);
    await hit(B);
    await hit(A);
    await hit(B);
    await hit(B);
    expect(events().map((l) => [l.fields!['event'], l.fields!['key']])).toEqual([
      ['violation', A],
      ['violation', B],
    ]);
    clock.advance(60_000);
    await rampart.stop(); // stopping logs the summaries still due
    expect(events().map((l) => [l.fields!['event'], l.fields!['key'], l.fields!['suppressed'] ?? null])).toEqual([
      ['violation', A, null],
      ['violation', B, null],
      ['violations_suppressed', B, 1],
    ]);
  });

  it('follows at most maxKeys keys: the violations of the others are counted in one line', async () => {
    const { rampart, clock, hit, events } = await started({ logging: { maxKeys: 2 } });
    const keys = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'];
    for (const key of keys) {
      await hit(key);
      await hit(key);
    }
    expect(events().map((l) => l.fields!['key'])).toEqual(['192.0.2.1', '192.0.2.2']);
    clock.advance(60_000);
    await hit('192.0.2.9');
    await hit('192.0.2.9');
    expect(events().slice(2)).toEqual([
      {
        level: 'warn',
        message: '3 violations by clients beyond the 2 followed not logged one by one',
        fields: { event: 'violations_suppressed', suppressed: 3, maxKeys: 2 },
      },
      expect.objectContaining({ fields: expect.objectContaining({ event: 'violation', key: '192.0.2.9' }) }),
    ]);
    await rampart.stop();
  });

  it('carries the limit type of the protocol: WebSocket messages and connections, GraphQL, RPC', async () => {
    const { rampart, hit, events } = await started();
    const cases: Array<[string, string, string, string]> = [
      ['192.0.2.1', 'ws', 'WS', 'ws_message'],
      ['192.0.2.2', 'ws', 'CONNECT', 'ws_connection'],
      ['192.0.2.3', 'graphql', 'query', 'graphql'],
      ['192.0.2.4', 'rpc', 'MESSAGE', 'rpc'],
    ];
    for (const [address, protocol, method] of cases) {
      await hit(address, protocol, method);
      await hit(address, protocol, method);
    }
    expect(events().map((l) => [l.fields!['key'], l.fields!['limitType'], l.fields!['method']])).toEqual(cases.map(([a, , m, type]) => [a, type, m]));
    await rampart.stop();
  });

  it('logs blocks, bans and unbans with their duration, source, reason and who made or lifted them, and the last violation', async () => {
    const { rampart, hit, events } = await started({
      escalation: { blockAfterViolations: 2, blockDurationMs: 120_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 },
    });
    await hit(A);
    await hit(A);
    await hit(A); // the second violation: a block
    const violation = { rule: 'tight', route: 'GET /search', method: 'GET', limitType: 'http', count: 2, limit: 1 };
    expect(events().slice(1)).toEqual([
      {
        level: 'warn',
        message: `203.0.113.7 blocked for 120 s (auto): 2 violations of rate limits (last: 'tight')`,
        fields: {
          event: 'block',
          key: A,
          ...violation,
          durationMs: 120_000,
          until: new Date(T0 + 120_000).toISOString(),
          source: 'auto',
          reason: "2 violations of rate limits (last: 'tight')",
          blockCount: 1,
          by: 'rampart',
        },
      },
    ]);
    await rampart.service.ban({ type: 'key', key: B }, 'permanent', undefined, 'scraping', 'alice');
    await rampart.service.unban({ type: 'key', key: B }, 'bob', true);
    await rampart.service.ban({ type: 'cidr', cidr: '192.0.2.0/24' }, 'temporary', 600_000, 'botnet', 'alice');
    expect(events().slice(2)).toEqual([
      {
        level: 'warn',
        message: '198.51.100.23 banned (admin): scraping',
        fields: { event: 'ban', key: B, durationMs: null, source: 'admin', reason: 'scraping', by: 'alice' },
      },
      {
        level: 'log',
        message: 'Ban of 198.51.100.23 lifted by bob, history cleared',
        fields: { event: 'unban', key: B, by: 'bob', lifted: 'ban', clearHistory: true },
      },
      {
        level: 'warn',
        message: '192.0.2.0/24 blocked for 600 s (admin): botnet',
        fields: {
          event: 'block',
          cidr: '192.0.2.0/24',
          durationMs: 600_000,
          until: new Date(T0 + 600_000).toISOString(),
          source: 'admin',
          reason: 'botnet',
          blockCount: 1,
          by: 'alice',
        },
      },
    ]);
    await rampart.stop();
  });

  it('logs what shadow rules would have done as "would have" lines, under the client key', async () => {
    const { rampart, hit, events } = await started({
      rules: [{ ...ONE_PER_MINUTE, shadow: true }],
      escalation: { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 },
    });
    for (let i = 0; i < 3; i++) expect((await hit(A)).outcome).toBe('admitted');
    expect(events()).toEqual([
      {
        level: 'warn',
        message: "Rate limit would have been exceeded by 203.0.113.7 (shadow mode): rule 'tight' on GET /search, 2 of 1",
        fields: { event: 'violation', key: A, shadow: true, rule: 'tight', route: 'GET /search', method: 'GET', limitType: 'http', count: 2, limit: 1 },
      },
      expect.objectContaining({
        message: `203.0.113.7 would have been blocked (shadow mode) for 60 s (auto): 2 violations of rate limits (last: 'tight')`,
        fields: expect.objectContaining({ event: 'block', key: A, shadow: true, durationMs: 60_000 }),
      }),
    ]);
    await rampart.stop();
  });

  it('logs each kind at its level; debug falls back to log for a logger without it; false leaves a kind out', async () => {
    const escalation = { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 };
    for (const withDebug of [true, false]) {
      const { rampart, hit, events } = await started({ escalation, logging: { violation: 'debug', block: 'error', ban: false, unban: 'warn' } }, withDebug);
      await hit(A);
      await hit(A);
      await hit(A);
      await rampart.service.ban({ type: 'key', key: B }, 'permanent', undefined, 'scraping', 'alice');
      await rampart.service.unban({ type: 'key', key: B }, 'bob');
      expect(events().map((l) => [l.fields!['event'], l.level])).toEqual([
        ['violation', withDebug ? 'debug' : 'log'],
        ['block', 'error'],
        ['unban', 'warn'],
      ]);
      await rampart.stop();
    }
  });

  it('logs no event with logging: false', async () => {
    const { rampart, clock, hit, lines } = await started({
      logging: false,
      escalation: { blockAfterViolations: 2, blockDurationMs: 60_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 },
    });
    for (let i = 0; i < 5; i++) await hit(A);
    await rampart.service.ban({ type: 'key', key: B }, 'permanent', undefined, 'scraping', 'alice');
    await rampart.service.unban({ type: 'key', key: B }, 'bob');
    clock.advance(120_000);
    await rampart.stop();
    expect(lines).toEqual([]);
  });

  it('refuses bad logging options, naming each problem', () => {
    expect(() => createRampart({ logging: { violation: 'loud', intervalMs: 0, maxKey: 3 } as never })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('logging.maxKey is not an option; the options are violation, block, ban, unban, intervalMs, maxKeys.'),
      }),
    );
    const message = (() => {
      try {
        createRampart({ logging: { violation: 'loud', intervalMs: 0 } as never });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain(
      "logging.violation must be one of 'log', 'warn', 'error', 'debug', 'verbose', or false to leave such events out of the log, got \"loud\".",
    );
    expect(message).toContain('logging.intervalMs must be a positive integer, got 0.');
    expect(() => createRampart({ logging: 'on' as never })).toThrow(/logging must be an object of event-log options/);
  });

  it('the console logger prints the fields as key=value text after the sentence', () => {
    expect(fieldsAsText({ event: 'ban', key: '198.51.100.23', reason: 'many requests', durationMs: null, shadow: true, empty: '' })).toBe(
      'event=ban key=198.51.100.23 reason="many requests" durationMs=null shadow=true empty=""',
    );
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      consoleLogger.warn('A banned', { event: 'ban', key: 'A' });
      consoleLogger.warn('plain');
      expect(warn.mock.calls).toEqual([['[RateLimit] A banned event=ban key=A'], ['[RateLimit] plain']]);
    } finally {
      warn.mockRestore();
    }
  });
  it('escapes control characters of what a request gives (client key, route) and of reasons and operators in every sentence: no forged line', async () => {
    const forged = 'user-1\n[RateLimit] forged';
    const { rampart, events } = await started({
      keyResolver: () => forged,
      escalation: { blockAfterViolations: 2, blockDurationMs: 120_000, permanentBanAfter: 3, permanentBanWindowMs: 3_600_000 },
    });
    const route = 'GET /search\u001b[2J\r';
    const send = () => rampart.decide({ target: route, address: A });
    await send();
    await send(); // a violation
    await send(); // the second violation, which blocks the key (its line left out within the interval)
    await rampart.service.ban({ type: 'key', key: 'id:mallory\u2028x' }, 'permanent', undefined, 'abuse\nof the API', 'alice\r\n');
    await rampart.service.unban({ type: 'key', key: 'id:mallory\u2028x' }, 'bob\u0000', false);
    const messages = events().map((l) => l.message);
    expect(messages).toEqual([
      "Rate limit exceeded by user-1\\n[RateLimit] forged: rule 'tight' on GET /search\\u001b[2J\\r, 2 of 1",
      "user-1\\n[RateLimit] forged blocked for 120 s (auto): 2 violations of rate limits (last: 'tight')",
      'mallory\\u2028x banned (admin): abuse\\nof the API',
      'Ban of mallory\\u2028x lifted by bob\\u0000',
    ]);
    // eslint-disable-next-line no-control-regex -- no control character may reach a sentence
    for (const message of messages) expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    // The fields carry the values as they are; printed as text, they are quoted and escaped.
    expect(events()[0]!.fields).toMatchObject({ key: forged, route });
    expect(fieldsAsText({ key: forged, route, esc: '\u001b', del: '\u007f' })).toBe(
      'key="user-1\\n[RateLimit] forged" route="GET /search\\u001b[2J\\r" esc="\\u001b" del="\\u007f"',
    );
    await rampart.stop();
  });
});
