import type { AdminStatsView } from '../../lib/admin/dto/stats-views.dto.js';
import type { AdminBanView } from '../../lib/admin/dto/views.dto.js';
import { renderMonitor, type MonitorState } from '../../lib/cli/monitor/monitor-view.js';
import { displayWidth } from '../../lib/cli/terminal-text.js';
import { HOSTILE_KEY, RAW_CONTROL } from './cli.js';

const TO = '2030-01-01T12:00:00.000Z';
const LONG = 'x'.repeat(300);
const WIDE = '日本語のクライアント'.repeat(5);

/** Figures whose every text is as long, wide or hostile as a client key can be. */
const stats = {
  fleet: true,
  instances: [{}, {}],
  to: TO,
  requests: 123_456_789,
  admitted: 123_000_000,
  limited: 400_000,
  blocked: 56_789,
  banned: 1_000,
  blockRate: 0.0037,
  violationsPerMinute: 1234.56,
  blocksMade: 12,
  bansMade: 3,
  topRules: [
    { rule: LONG, requests: 10, refused: 5 },
    { rule: WIDE, requests: 9, refused: 4 },
  ],
  topKeys: [
    { key: HOSTILE_KEY, refusals: 99 },
    { key: WIDE, refusals: 9 },
    { key: `🚀${LONG}`, refusals: 1 },
  ],
  recentViolations: Array.from({ length: 20 }, (_, i) => ({
    at: TO,
    key: i % 2 ? HOSTILE_KEY : WIDE,
    rule: LONG,
    method: 'GET',
    route: LONG,
    hits: 3,
    limit: 2,
  })),
} as unknown as AdminStatsView;
const bans = [
  { key: HOSTILE_KEY, kind: 'temporary', expiresAt: '2030-01-01T12:15:00.000Z', reason: `${HOSTILE_KEY}${WIDE}` },
  { cidr: '2001:db8:1234:5678::/64', kind: 'permanent', reason: LONG },
  { key: WIDE, kind: 'permanent', reason: 'x' },
  { key: 'a', kind: 'permanent', reason: 'x' },
  { key: 'b', kind: 'permanent', reason: 'x' },
] as unknown as AdminBanView[];

const live: MonitorState = { url: `http://127.0.0.1:3000/${LONG}`, intervalMs: 1_000, windowMs: 60_000, stats, bans, moreBans: true, updatedAt: new Date() };
const down: MonitorState = { ...live, error: `cannot reach http://127.0.0.1:3000/${LONG}: connection refused`, triedAt: new Date() };
const never: MonitorState = {
  url: 'http://127.0.0.1:1/rate-limit',
  intervalMs: 1_000,
  windowMs: 60_000,
  error: 'cannot reach: connection refused',
  triedAt: new Date(),
};

describe('the monitor view', () => {
  it.each([
    ['live', live],
    ['unreachable, with the last figures', down],
    ['unreachable from the start', never],
  ])('%s: exactly the rows of the screen, none reaching its last column, nothing raw, the keys on the last row', (_name, state) => {
    for (const [columns, rows] of [
      [80, 24],
      [120, 40],
      [40, 12],
      [12, 3],
    ] as const) {
      const lines = renderMonitor(state, { columns, rows });
      expect(lines).toHaveLength(rows);
      for (const line of lines) {
        expect(displayWidth(line)).toBeLessThan(columns);
        expect(line).not.toMatch(RAW_CONTROL);
      }
      expect(lines[rows - 1]).toMatch(/^q/);
    }
  });

  it('at 80x24: the figures, top rules and keys side by side, the first bans, then as many violations as fit', () => {
    const lines = renderMonitor(live, { columns: 80, rows: 24 });
    expect(lines[1]).toBe('LIVE  fleet of 2 instances, last 1m, every 1s');
    expect(lines[2]).toBe('Requests 123,456,789  admitted 123,000,000  limited 400,000  blocked 56,789  b…');
    expect(lines[3]).toBe('Block rate 0.4%  violations/min 1234.6  blocks made 12  bans made 3');
    expect(lines.filter((line) => line.includes(' │ '))).toHaveLength(4);
    expect(lines).toContain('Bans in force (5+)');
    expect(lines.filter((line) => line.startsWith('  12:00:00  '))).toHaveLength(24 - 1 - lines.indexOf('Recent violations (UTC)') - 1);
  });

  it('unreachable: says so, why, and from when the figures are', () => {
    const lines = renderMonitor(down, { columns: 80, rows: 24 });
    expect(lines[1]).toMatch(/^UNREACHABLE {2}tried \d\d:\d\d:\d\d, retrying every 1s; figures from \d\d:\d\d:\d\d$/);
    expect(lines[2]).toMatch(/^ {2}cannot reach http:\/\/127\.0\.0\.1:3000\/x+…$/);
    expect(lines[3]).toMatch(/^Requests 123,456,789/);
  });
});
