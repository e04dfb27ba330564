// Host-side symbolization of guest backtrace addresses: function+offset from
// kernel.elf's symbol table, file:line from addr2line when binutils is there.

import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { functionSymbols, type ElfSymbol } from './elf.js';
import { execTool } from './spawn.js';

import type { Symbolizer } from './backtrace.js';

export { BacktraceRewriter, type Symbolizer } from './backtrace.js';

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
