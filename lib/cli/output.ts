import { terminalText } from './terminal-text.js';

/**
 * Characters JSON.stringify leaves raw in strings but a terminal may act on (C1 controls, line
 * separators, invisible format characters): written as `\u` escapes, which parse to the same value.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\p{Cf}]/gu;

/** `value` as indented JSON, safe to print to a terminal and equal to `value` once parsed. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(value)}\n`);
}

/** Prints lines, each made safe (`terminalText` leaves a line `table` made as it is). */
export function printLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.map((line) => terminalText(line)).join('\n')}\n`);
}

/** One line of text that may hold data from the admin API, made safe. */
export function printLine(text: string): void {
  process.stdout.write(`${terminalText(text)}\n`);
}

/** An ISO time of the admin API as `2030-01-01 00:00:00Z`, or `-` when absent. */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '-';
  return /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso)?.slice(1).join(' ').concat('Z') ?? terminalText(iso);
}

/** A count with thousands separators. */
export const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** A ratio of 0 to 1 as a percentage with one decimal. */
export const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

/** A rate with one decimal. */
export const perMinute = (rate: number) => rate.toFixed(1);
