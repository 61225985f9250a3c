import { escapeControls } from '../core/logger.js';

/**
 * Invisible characters that reorder or hide text (bidirectional overrides, zero-width joiners: the
 * format characters) and lone surrogates: shown as escapes like the control characters.
 */
const HIDDEN = /[\p{Cf}\p{Cs}]/gu;
/** Combining marks: drawn over the character before them, no column of their own. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}]$/u;
/** Characters a terminal draws two columns wide: East Asian wide and full-width forms, emoji. */
const WIDE =
  /^[\u1100-\u115f\u231a\u231b\u2329\u232a\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{16fe0}-\u{18cff}\u{1b000}-\u{1b2ff}\u{1f004}\u{1f0cf}\u{1f18e}\u{1f191}-\u{1f19a}\u{1f200}-\u{1f251}\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f7e0}-\u{1f7eb}\u{1f90c}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]$/u;

/**
 * Text from the admin API (client keys, reasons, routes, problem details) made safe to print: every
 * control character, escape sequence introducer and invisible format character written as an escape
 * (`\u001b`), so that a hostile client key can neither move the cursor, recolour, retitle or clear
 * the terminal, nor hide or reorder what is shown.
 */
export function terminalText(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value ?? '');
  return escapeControls(text).replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Columns a character takes in a terminal. */
function columnsOf(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** Columns `text` (already made safe by terminalText) takes in a terminal. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += columnsOf(char);
  return width;
}

/** `text` cut to at most `width` columns, ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const char of text) {
    const columns = columnsOf(char);
    if (used + columns > width - 1) break;
    out += char;
    used += columns;
  }
  return `${out}…`;
}

/** `text` cut or padded with spaces to exactly `width` columns. */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - displayWidth(cut)));
}

/**
 * Rows as a table with a header row: columns as wide as their widest cell, two spaces apart, the
 * last column left unpadded. Cells are made safe here (terminalText).
 */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string[] {
  const cells = [header, ...rows].map((row) => row.map(terminalText));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => displayWidth(row[column] ?? ''))));
  return cells.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : fit(cell, widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
