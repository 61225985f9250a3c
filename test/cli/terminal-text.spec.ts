import { formatDuration, parseDuration } from '../../lib/cli/durations.js';
import { safeJson } from '../../lib/cli/output.js';
import { displayWidth, fit, table, terminalText, truncate } from '../../lib/cli/terminal-text.js';
import { HOSTILE_KEY, RAW_CONTROL } from './cli.js';

describe('text for the terminal', () => {
  it('escapes control characters, escape sequences and invisible format characters, and nothing else', () => {
    expect(terminalText(HOSTILE_KEY)).toBe('\\u001b]0;pwned\\u0007\\u001b[2J\\u001b[31mevil\\u009b1m\\u202ekey');
    expect(terminalText('a\nb\tc\u200bd\u2066e\ud800')).toBe('a\\nb\\tc\\u200bd\\u2066e\\ud800');
    expect(terminalText('user-42 café 日本 🚀')).toBe('user-42 café 日本 🚀');
    expect(terminalText(undefined)).toBe('');
  });

  it('measures columns as a terminal draws them: wide characters two, combining marks none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('🚀x')).toBe(3);
    expect(displayWidth('e\u0301')).toBe(1);
  });

  it('cuts to a number of columns with an ellipsis, never splitting a wide character over the edge', () => {
    expect(truncate('abcdef', 6)).toBe('abcdef');
    expect(truncate('abcdefg', 6)).toBe('abcde…');
    expect(truncate('日本語テキスト', 6)).toBe('日本…');
    expect(displayWidth(truncate('日本語テキスト', 6))).toBe(5);
    expect(fit('日本語テキスト', 6)).toBe('日本… ');
    expect(fit('ab', 4)).toBe('ab  ');
    expect(truncate('abc', 0)).toBe('');
  });

  it('lays out tables by display width, cells escaped', () => {
    expect(
      table(
        ['KEY', 'N'],
        [
          ['日本', 1],
          ['a\u001bb', 22],
        ],
      ),
    ).toEqual(['KEY       N', '日本      1', 'a\\u001bb  22']);
  });

  it('prints JSON that parses to the same value, with no control or format character raw', () => {
    const value = { key: HOSTILE_KEY, line: 'a\u2028b' };
    const text = safeJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toContain('\u2028');
  });
});

describe('durations', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '0', '0s', '-1s', '1.5h', '5x', 'h', '1 h', '99999999999999999d'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it('says a duration in its largest two units', () => {
    expect([0, 250, 1_000, 90_000, 3_600_000, 5_400_000, 87_000_000, 60_500].map(formatDuration)).toEqual([
      '0ms',
      '250ms',
      '1s',
      '1m30s',
      '1h',
      '1h30m',
      '1d10m',
      '1m500ms',
    ]);
  });
});
