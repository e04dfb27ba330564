// Host-side symbolization of guest backtrace addresses: function+offset from
// kernel.elf's symbol table, file:line from addr2line when binutils is there.

import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { functionSymbols, type ElfSymbol } from './elf.js';
import { execTool } from './spawn.js';

export type Symbolizer = (addr: bigint) => Promise<string | undefined>;

function lookup(syms: readonly ElfSymbol[], addr: bigint): { sym: ElfSymbol; off: bigint } | undefined {
  let lo = 0;
  let hi = syms.length - 1;
  let best: ElfSymbol | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = syms[mid]!;
    if (s.value <= addr) {
      best = s;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (!best) return undefined;
  const off = addr - best.value;
  // Past the end of a sized function: not inside any known function.
  if (best.size > 0n && off >= best.size) return undefined;
  return { sym: best, off };
}

/**
 * Returns a function mapping an address to "func+0xoff (file:line)". Addresses
 * are treated as return addresses: the line is looked up for addr-1, the call.
 */
export async function createSymbolizer(
  elfPath: string,
  opts: { addr2line?: string; srctree?: string; env?: NodeJS.ProcessEnv },
): Promise<Symbolizer> {
  const syms = functionSymbols(await readFile(elfPath), elfPath);
  const memo = new Map<bigint, Promise<string | undefined>>();
  const lineOf = async (addr: bigint): Promise<string | undefined> => {
    if (!opts.addr2line) return undefined;
    const r = await execTool(
      opts.addr2line,
      ['-e', elfPath, `0x${(addr - 1n).toString(16)}`],
      opts.env ?? process.env,
    );
    const line = r.stdout.trim().split('\n')[0] ?? '';
    if (r.exitCode !== 0 || line === '' || line.startsWith('??')) return undefined;
    const m = /^(.*):(\d+|\?)(?: \(discriminator \d+\))?$/.exec(line);
    if (!m || m[2] === '?') return undefined;
    // Paths are relative to the source tree (compiled with -ffile-prefix-map), "./modules/..." as addr2line joins them.
    const file = (opts.srctree && m[1]!.startsWith('/') ? relative(opts.srctree, m[1]!) : m[1]!).replace(
      /^\.\//,
      '',
    );
    return `${file}:${m[2]}`;
  };
  return (addr) => {
    let p = memo.get(addr);
    if (!p) {
      p = (async () => {
        // A call to a noreturn function can be a function's last instruction, so its
        // return address is one past the end: find the function of addr-1.
        const hit = lookup(syms, addr - 1n);
        if (!hit) return undefined;
        const where = await lineOf(addr);
        return `${hit.sym.name}+0x${(addr - hit.sym.value).toString(16)}${where ? ` (${where})` : ''}`;
      })();
      memo.set(addr, p);
    }
    return p;
  };
}

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
