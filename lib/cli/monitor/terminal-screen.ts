import type { ScreenSize } from './monitor-view.js';

const CSI = '\x1b[';
/** Alternate screen on, cursor hidden, screen cleared. */
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`;
/** Cursor shown, alternate screen off: the terminal as it was. */
const LEAVE = `${CSI}?25h${CSI}?1049l`;
/** `q`, `Q`, and Ctrl-C (a byte, not a signal, in raw mode). */
const QUIT_KEYS = new Set(['q', 'Q', '\x03']);
const QUIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ScreenHandlers {
  /** The user asked to quit (a key or a signal). */
  readonly quit: () => void;
  /** The terminal changed size. */
  readonly resize: () => void;
}

/**
 * A full-screen view on the alternate screen: keys read raw from stdin, frames drawn in place with
 * absolute cursor moves (nothing scrolls), and the terminal restored on `leave`, and on exit
 * whatever ends the process.
 */
export class TerminalScreen {
  private handlers: ScreenHandlers | undefined;
  private readonly onData = (chunk: string) => {
    for (const key of chunk) if (QUIT_KEYS.has(key)) this.handlers?.quit();
  };
  private readonly onResize = () => this.handlers?.resize();
  private readonly onSignal = () => this.handlers?.quit();
  private readonly restore = () => this.output.write(LEAVE);

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
  ) {}

  get size(): ScreenSize {
    return { columns: this.output.columns || 80, rows: this.output.rows || 24 };
  }

  enter(handlers: ScreenHandlers): void {
    this.handlers = handlers;
    this.output.write(ENTER);
    process.once('exit', this.restore);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.input.setEncoding('utf8');
    this.input.on('data', this.onData);
    this.input.resume();
    this.output.on('resize', this.onResize);
    for (const signal of QUIT_SIGNALS) process.on(signal, this.onSignal);
  }

  /** Draws `lines` from the top left, each clearing the rest of its row, and clears the rows below. */
  draw(lines: readonly string[]): void {
    let frame = '';
    lines.forEach((line, row) => (frame += `${CSI}${row + 1};1H${line}${CSI}K`));
    if (lines.length < this.size.rows) frame += `${CSI}${lines.length + 1};1H${CSI}J`;
    this.output.write(frame);
  }

  leave(): void {
    if (this.handlers === undefined) return;
    this.handlers = undefined;
    for (const signal of QUIT_SIGNALS) process.off(signal, this.onSignal);
    this.output.off('resize', this.onResize);
    this.input.off('data', this.onData);
    if (this.input.isTTY) this.input.setRawMode(false);
    this.input.pause();
    process.off('exit', this.restore);
    this.restore();
  }
}
