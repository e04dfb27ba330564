import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputError } from '../../src/errors.js';
import { ElfIncompatibleError, executableKind, parseElf, readElf, requirementsOf } from '../../src/fs/elf.js';
import { compileC, prng, tempDir } from './helpers.js';

const HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n';

let dir: string;
let cleanup: () => void;
let dynamicHello: string;
let staticHello: string;
let staticPie: string;
let muslStatic: string;
let muslDynamic: string;
let sharedLib: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('elf'));
  dynamicHello = compileC(dir, 'hello-dyn', HELLO, [
    '-Wl,-rpath,/opt/x/lib:$ORIGIN/../lib',
    '-Wl,--disable-new-dtags',
  ]);
  staticHello = compileC(dir, 'hello-static', HELLO, ['-static']);
  staticPie = compileC(dir, 'hello-spie', HELLO, ['-static-pie']);
  muslStatic = compileC(dir, 'hello-musl', HELLO, ['-static'], 'musl-gcc');
  muslDynamic = compileC(dir, 'hello-musl-dyn', HELLO, [], 'musl-gcc');
  sharedLib = compileC(dir, 'libx.so', 'int x(void) { return 1; }\n', [
    '-shared',
    '-fPIC',
    '-Wl,-soname,libx.so.1',
  ]);
});
afterAll(() => cleanup());

/** Runs fn and returns the error it throws (fails the test if it does not throw). */
function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('ELF inspection of real binaries', () => {
  it('classifies a glibc dynamic PIE with its interpreter, DT_NEEDED and RPATH', async () => {
    const info = await readElf(dynamicHello);
    expect(info.elfType).toBe('dyn');
    expect(info.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(info.pie).toBe(true);
    expect(info.dynamic?.needed).toEqual(['libc.so.6']);
    expect(info.dynamic?.rpath).toEqual(['/opt/x/lib', '$ORIGIN/../lib']);
    expect(info.dynamic?.runpath).toEqual([]);
    expect(requirementsOf(info)).toEqual({
      kind: 'dynamic',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libc.so.6'],
      go: false,
      python: false,
    });
  });

  it('tells static, static-pie and musl binaries apart', async () => {
    expect(requirementsOf(await readElf(staticHello)).kind).toBe('static');
    const spie = await readElf(staticPie);
    expect(spie.elfType).toBe('dyn');
    expect(spie.interpreter).toBeUndefined();
    expect(requirementsOf(spie).kind).toBe('static-pie');
    expect(requirementsOf(await readElf(muslStatic))).toEqual({
      kind: 'static',
      needed: [],
      go: false,
      python: false,
    });
    const md = requirementsOf(await readElf(muslDynamic));
    expect(md.interpreter).toBe('/lib/ld-musl-x86_64.so.1');
    expect(md.needed).toEqual(['libc.so']);
  });

  it('reads DT_SONAME and refuses a plain shared library as a program', async () => {
    const info = await readElf(sharedLib);
    expect(info.dynamic?.soname).toBe('libx.so.1');
    const err = errorOf(() => executableKind(info));
    expect(formatError(err)).toContain(sharedLib);
    expect(err.message).toContain('shared library');
  });

  it('reads host binaries: /bin/ls, python3, busybox', async () => {
    const ls = await readElf('/bin/ls');
    expect(ls.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(ls.dynamic?.needed).toContain('libc.so.6');
    const py = requirementsOf(await readElf('/usr/bin/python3'), { python: true });
    expect(py.kind).toBe('dynamic');
    expect(py.python).toBe(true);
    expect(py.needed).toContain('libexpat.so.1');
    expect(requirementsOf(await readElf('/bin/busybox')).kind).toBe('static');
  });

  it('names the file for non-ELF, missing and directory inputs', async () => {
    for (const [path, what] of [
      ['/etc/passwd', 'not an ELF file'],
      [`${dir}/nope`, 'no such file'],
      [dir, 'is a directory'],
    ] as const) {
      const err = await readElf(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect(formatError(err as InputError)).toContain(path);
      expect((err as InputError).message).toContain(what);
    }
  });
});

describe('malformed and foreign ELF input', () => {
  const base = (): Buffer => Buffer.from(readFileSync(dynamicHello));

  it('rejects a 32-bit ELF, another machine and big-endian as incompatible', () => {
    const b32 = base();
    b32[4] = 1;
    expect(errorOf(() => parseElf(b32, 'f32')).message).toContain('32-bit');
    expect(() => parseElf(b32, 'f32')).toThrow(ElfIncompatibleError);
    const arm = base();
    arm.writeUInt16LE(183, 18);
    expect(errorOf(() => parseElf(arm, 'farm')).message).toContain('AArch64');
    const be = base();
    be[5] = 2;
    expect(() => parseElf(be, 'fbe')).toThrow(ElfIncompatibleError);
  });

  it('rejects a truncated header, a bad phoff and a huge phnum with one error naming the file', () => {
    const cases: [string, Buffer][] = [];
    cases.push(['header cut at 40 bytes', base().subarray(0, 40)]);
    const phoff = base();
    phoff.writeBigUInt64LE(0xfffffffff0n, 32);
    cases.push(['phoff past the end', phoff]);
    const phnum = base();
    phnum.writeUInt16LE(0xfff0, 56);
    cases.push(['phnum 65520', phnum]);
    const phent = base();
    phent.writeUInt16LE(32, 54);
    cases.push(['phentsize 32', phent]);
    const cls = base();
    cls[4] = 7;
    cases.push(['class 7', cls]);
    cases.push(['cut in the middle of the file', base().subarray(0, 6000)]);
    for (const [what, buf] of cases) {
      const err = errorOf(() => parseElf(buf, `/x/${what}`));
      expect(formatError(err), what).toMatch(/^osvb: \/x\//);
    }
  });

  it('rejects a PT_INTERP and a DT_STRTAB that point outside the file', () => {
    const b = base();
    const phoff = Number(b.readBigUInt64LE(32));
    const phnum = b.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * 56;
      if (b.readUInt32LE(o) === 3) b.writeBigUInt64LE(BigInt(b.length - 2), o + 8); // PT_INTERP offset near the end
    }
    expect(errorOf(() => parseElf(b, 'interp')).message).toMatch(/PT_INTERP/);
  });

  it('survives 2,000 random corruptions and truncations: a result or an InputError, nothing else', () => {
    const rnd = prng(0x05b1);
    const orig = base();
    let parsed = 0;
    let rejected = 0;
    for (let n = 0; n < 2000; n++) {
      let b = Buffer.from(orig);
      const mode = n % 4;
      if (mode === 0) b = b.subarray(0, Math.floor(rnd() * b.length));
      else {
        // Flip bytes where the structures are: the ELF header, the program headers, and anywhere.
        const limit = mode === 1 ? 64 : mode === 2 ? 64 + 56 * 16 : b.length;
        for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++)
          b[Math.floor(rnd() * limit)] = Math.floor(rnd() * 256);
      }
      try {
        parseElf(b, 'fuzz');
        parsed++;
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`case ${n}: ${String(err)}`);
        rejected++;
      }
    }
    expect(parsed + rejected).toBe(2000);
    expect(rejected).toBeGreaterThan(300);
  });
});
