// Host unit tests of the kernel's parsers for untrusted input, compiled with
// the host gcc (AddressSanitizer + UBSan) from the same sources the kernel
// uses: the newc cpio reader (modules/initrd/cpio.c) and the ELF header
// validation (modules/elf/check.c). Valid input parses like the host's tools
// see it; truncated, corrupted and crafted input is rejected, never overread.

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCpioArchive } from '../../src/fs/archive.js';
import type { RootfsEntry } from '../../src/fs/tree.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let cpioDump: string;
let elfCheck: string;

function cc(out: string, srcs: string[], inc: string): string {
  const path = join(dir, out);
  execFileSync(
    'gcc',
    [
      '-g',
      '-O1',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      `-I${join(ROOT, inc)}`,
      '-o',
      path,
      ...srcs.map((s) => join(ROOT, s)),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return path;
}

function run(tool: string, file: string): string {
  return execFileSync(tool, [file], {
    encoding: 'utf8',
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' },
  });
}

/** A deterministic PRNG (mulberry32) so the fuzz cases are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  dir = await tempDir('osvb-userland-units-');
  cpioDump = cc('cpio_dump', ['tests/userland/host/cpio_dump.c', 'modules/initrd/cpio.c'], 'modules/initrd');
  elfCheck = cc(
    'elf_check',
    ['tests/userland/host/elf_check.c', 'modules/elf/check.c'],
    'modules/elf/include',
  );
}, 120_000);

describe('newc cpio reader (modules/initrd/cpio.c)', () => {
  let archive: string;
  let bytes: Buffer;
  beforeAll(async () => {
    const data = Buffer.from('hello, initrd\n');
    const entries: RootfsEntry[] = [
      { kind: 'dir', path: '/bin', mode: 0o755 },
      { kind: 'file', path: '/bin/data', mode: 0o644, size: data.length, data, origin: 'test' },
      { kind: 'symlink', path: '/bin/link', mode: 0o777, target: 'data', origin: 'test' },
    ];
    archive = join(dir, 'ok.cpio');
    await writeCpioArchive(entries, archive);
    bytes = await readFile(archive);
  });

  it('reads what the osvb archive writer wrote', () => {
    const out = run(cpioDump, archive).trim().split('\n');
    expect(out.at(-1)).toBe('end');
    const names = out.slice(0, -1).map((l) => l.split(' ').at(-1));
    expect(names).toEqual(expect.arrayContaining(['bin', 'bin/data', 'bin/link']));
    const data = out.find((l) => l.endsWith(' bin/data'));
    expect(data?.split(' ').slice(0, 2)).toEqual(['100644', '14']);
    const link = out.find((l) => l.endsWith(' bin/link'));
    expect(link?.split(' ')[0]).toBe('120777');
  });

  it('reports every truncation as an error, never reads past the end', async () => {
    const trailer = bytes.indexOf('TRAILER!!!');
    for (let n = 1; n < trailer - 110; n += 7) {
      const p = join(dir, 'trunc.cpio');
      await writeFile(p, bytes.subarray(0, n));
      const out = run(cpioDump, p);
      expect(out, `truncated at ${n}`).toMatch(/^error at \d+: |\nerror at \d+: /);
    }
  });

  it('refuses an archive cut at an entry boundary (no TRAILER!!!), padded or not', async () => {
    const trailer = bytes.indexOf('TRAILER!!!') - 110;
    for (const cut of [
      bytes.subarray(0, trailer),
      Buffer.concat([bytes.subarray(0, trailer), Buffer.alloc(512)]),
    ]) {
      const p = join(dir, 'no-trailer.cpio');
      await writeFile(p, cut);
      expect(run(cpioDump, p)).toMatch(/error at \d+: the archive ends without its TRAILER!!! entry/);
    }
    expect(run(cpioDump, archive)).toMatch(/\nend\n$/);
  });

  it('rejects bad magic, non-hex fields, unterminated names and oversized data with a reason', async () => {
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ['magic', (b) => b.write('070707', 0, 'latin1'), /bad magic/],
      ['hex', (b) => b.write('zz', 6 + 8 * 6, 'latin1'), /not hexadecimal/],
      ['namesize', (b) => b.write('00001001', 6 + 8 * 11, 'latin1'), /bad name size|name runs past/],
      ['filesize', (b) => b.write('7FFFFFFF', 6 + 8 * 6, 'latin1'), /runs past the end/],
    ];
    for (const [name, mutate, want] of cases) {
      const b = Buffer.from(bytes);
      mutate(b);
      const p = join(dir, `${name}.cpio`);
      await writeFile(p, b);
      expect(run(cpioDump, p), name).toMatch(want);
    }
  });

  it('survives 150 randomly corrupted archives (sanitizers on)', async () => {
    const rnd = prng(42);
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(bytes);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const p = join(dir, 'fuzz.cpio');
      await writeFile(p, b);
      expect(run(cpioDump, p)).toMatch(/(^|\n)(end|error at \d+: .+)\n$/);
    }
  });
});

describe('ELF validation (modules/elf/check.c)', () => {
  let hello: Buffer;
  beforeAll(async () => {
    const src = join(dir, 'h.c');
    await writeFile(src, 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-O1', '-static', '-o', join(dir, 'h-static'), src]);
    execFileSync('gcc', ['-O1', '-o', join(dir, 'h-pie'), src]);
    hello = await readFile(join(dir, 'h-static'));
  });

  it('accepts static, static-pie-like and dynamic executables with the right kind', () => {
    expect(run(elfCheck, join(dir, 'h-static'))).toMatch(/^ok 2 0x4[0-9a-f]+ 0x400000 0x[0-9a-f]+ static$/m);
    expect(run(elfCheck, join(dir, 'h-pie'))).toMatch(/^ok 3 0x[0-9a-f]+ 0 0x[0-9a-f]+ interp$/m);
  });

  it('rejects crafted headers with the reason', async () => {
    const put = (b: Buffer, f: (b: Buffer) => void) => {
      const c = Buffer.from(b);
      f(c);
      return c;
    };
    const phoff = Number(hello.readBigUInt64LE(32));
    const cases: [string, Buffer, RegExp][] = [
      ['short', hello.subarray(0, 40), /file too short/],
      ['magic', put(hello, (b) => b.write('\x7fELG', 0, 'latin1')), /not an ELF file/],
      ['class', put(hello, (b) => (b[4] = 1)), /not a 64-bit/],
      ['machine', put(hello, (b) => b.writeUInt16LE(3, 18)), /not an x86-64/],
      ['type', put(hello, (b) => b.writeUInt16LE(1, 16)), /not an executable/],
      ['phentsize', put(hello, (b) => b.writeUInt16LE(32, 54)), /entry size/],
      ['phnum', put(hello, (b) => b.writeUInt16LE(0, 56)), /number of program headers/],
      ['phoff', put(hello, (b) => b.writeBigUInt64LE(0xfffffffffffffff0n, 32)), /outside the file/],
      // First program header of a static binary is PT_LOAD: make its file range overflow.
      ['p_offset', put(hello, (b) => b.writeBigUInt64LE(0xfffffffffffff000n, phoff + 8)), /outside the file/],
      [
        'p_filesz',
        put(hello, (b) => b.writeBigUInt64LE(0x7fffffffffffn, phoff + 32)),
        /file size exceeds|outside/,
      ],
      [
        'p_vaddr',
        put(hello, (b) => b.writeBigUInt64LE(0xffffffff80000000n, phoff + 16)),
        /outside the user address space|disagree/,
      ],
      ['entry', put(hello, (b) => b.writeBigUInt64LE(0x10n, 24)), /entry point outside/],
    ];
    for (const [name, data, want] of cases) {
      const p = join(dir, `bad-${name}`);
      await writeFile(p, data);
      expect(run(elfCheck, p), name).toMatch(new RegExp(`^bad: .*(?:${want.source})`));
    }
  });

  it('survives 100 randomly corrupted headers (sanitizers on)', async () => {
    const rnd = prng(7);
    const head = hello.subarray(0, 4096);
    for (let i = 0; i < 100; i++) {
      const b = Buffer.from(head);
      const flips = 1 + Math.floor(rnd() * 6);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * 512)] = Math.floor(rnd() * 256);
      const p = join(dir, 'fuzz.elf');
      await writeFile(p, b);
      expect(run(elfCheck, p)).toMatch(/^(ok|bad: )/);
    }
  });
});
