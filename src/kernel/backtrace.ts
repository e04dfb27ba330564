// Rewriting kernel backtrace lines as they stream by. Kept apart from the
// symbolizer (symbolize.ts, which loads the ELF reader) so a run that never
// prints a backtrace never loads it.

export type Symbolizer = (addr: bigint) => Promise<string | undefined>;

const FRAME_RE = /^(\s*)\[<([0-9a-fA-F]{1,16})>\]\s*$/;
// A frame line may arrive in pieces, split anywhere, even between its "\r" and "\n".
const FRAME_PREFIX_RE = /^\s*(\[(<[0-9a-fA-F]{0,16}(>(\]\r?)?)?)?)?$/;

/**
 * Rewrites guest output: a line that is only "[<address>]" gets the symbol
 * appended; everything else passes through unchanged and in order. A partial
 * line is held back only while it could still become a frame line.
 */
export class BacktraceRewriter {
  private pending = '';
  private midLine = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly symbolize: Symbolizer,
    private readonly write: (s: string) => void,
  ) {}

  push(chunk: string): void {
    let text = chunk;
    while (text.length > 0) {
      const nl = text.indexOf('\n');
      const piece = nl >= 0 ? text.slice(0, nl + 1) : text;
      text = nl >= 0 ? text.slice(nl + 1) : '';
      if (this.midLine) {
        this.emit(piece);
        this.midLine = !piece.endsWith('\n');
        continue;
      }
      const line = this.pending + piece;
      this.pending = '';
      if (line.endsWith('\n')) {
        this.line(line);
      } else if (FRAME_PREFIX_RE.test(line)) {
        this.pending = line;
      } else {
        this.emit(line);
        this.midLine = true;
      }
    }
  }

  /** Flushes what is held back; resolves once everything is written. */
  async end(): Promise<void> {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
    await this.chain;
  }

  private line(line: string): void {
    const body = line.replace(/\r?\n$/, '');
    const m = FRAME_RE.exec(body);
    if (!m) {
      this.emit(line);
      return;
    }
    const addr = BigInt(`0x${m[2]}`);
    const lookup = this.symbolize(addr).catch(() => undefined);
    this.chain = this.chain.then(async () => {
      const sym = await lookup;
      this.write(sym ? `${m[1]}[<${m[2]}>] ${sym}\n` : line);
    });
  }

  private emit(s: string): void {
    this.chain = this.chain.then(() => this.write(s));
  }
}
