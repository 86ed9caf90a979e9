/**
 * Splits what a process prints into lines, each bounded in size. A line longer than the bound is
 * never held whole: its first bytes are kept for the diagnosis, the rest is counted and dropped
 * until the line ends. (`readline` holds a line of any length and, for a line of some 500 MB,
 * fails inside Node with `RangeError: Invalid string length`: an adapter printing one could
 * crash the harness.)
 */

/** How many bytes of an over-long line are kept to say what it looked like. */
const HEAD_BYTES = 200;

export interface BoundedLineHandlers {
  /** A complete line within the bound, without its line break (LF or CRLF). */
  line(text: string): void;
  /**
   * Called once per over-long line, as soon as it passes the bound (not when it ends, which may be
   * never): its first bytes and how many bytes it had so far.
   */
  overlong(head: string, bytesSoFar: number): void;
}

export class BoundedLines {
  private parts: Buffer[] = [];
  private size = 0;
  /** Within an over-long line: dropping bytes until its end. */
  private dropping = false;

  constructor(
    readonly maxBytes: number,
    private readonly handlers: BoundedLineHandlers,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.dropping) this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.finishLine();
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a line break still counts. */
  end(): void {
    if (this.size > 0 && !this.dropping) this.finishLine();
    this.reset();
  }

  private take(piece: Buffer): void {
    if (this.size + piece.length <= this.maxBytes) {
      if (piece.length) this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    const head = Buffer.concat([...this.parts, piece.subarray(0, HEAD_BYTES)]).subarray(0, HEAD_BYTES).toString('utf8');
    const bytes = this.size + piece.length;
    this.parts = [];
    this.size = 0;
    this.dropping = true;
    this.handlers.overlong(head, bytes);
  }

  private finishLine(): void {
    if (!this.dropping) {
      let text = Buffer.concat(this.parts, this.size).toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      this.reset();
      this.handlers.line(text);
      return;
    }
    this.reset();
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
    this.dropping = false;
  }
}
