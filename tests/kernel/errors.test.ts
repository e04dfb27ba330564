// Failure paths of the build: compile and link errors, atomicity of the image
// directory and of cached objects, missing or unsuitable tools, ELF checks.

import { chmod, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BuildError, formatError, OsvbError, ToolMissingError } from '../../src/errors.js';
import { checkKernelElf, parseNotes } from '../../src/kernel/elf.js';
import { findCompiler, findQemu } from '../../src/kernel/toolchain.js';
import { buildFixture, compiledUnits, copyFixture, tempDir } from './helpers.js';

let work: string;
beforeAll(async () => {
  work = await tempDir();
});

async function fakeBin(name: string, files: Record<string, string>, links: string[] = []): Promise<string> {
  const bin = join(work, name);
  await mkdir(bin, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    await writeFile(join(bin, f), text);
    await chmod(join(bin, f), 0o755);
  }
  for (const l of links) await symlink(`/usr/bin/${l}`, join(bin, l));
  return bin;
}

async function caught(p: Promise<unknown>): Promise<OsvbError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OsvbError) return err;
    throw err;
  }
  throw new Error('expected an OsvbError');
}

describe('compile and link errors', () => {
  it('a compile error names file:line and leaves no image directory and no temp files', async () => {
    const srctree = await copyFixture();
    await writeFile(
      join(srctree, 'modules/fixture/status.c'),
      '#include <fixture/fixture.h>\n\nconst int fixture_status = ;\n',
    );
    const dir = join(work, 'fail1');
    await mkdir(dir);
    const err = await caught(
      buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img'), srctree }),
    );
    expect(err).toBeInstanceOf(BuildError);
    expect(err.loc).toMatchObject({ file: join(srctree, 'modules/fixture/status.c'), line: 3 });
    expect(formatError(err)).toMatch(/status\.c:3:\d+: expected expression before ';' token$/);
    expect((await readdir(dir)).sort()).toEqual(['cache']);
    expect(await readdir(join(dir, 'cache/objects/tmp'))).toEqual([]);
  });

  it('a failed rebuild keeps the previous image intact', async () => {
    const srctree = await copyFixture();
    const dir = join(work, 'fail2');
    const good = await buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img'), srctree });
    await writeFile(join(srctree, 'modules/arch/io.c'), 'this is not C\n');
    await caught(buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img'), srctree }));
    const manifest = JSON.parse(await readFile(join(dir, 'img/manifest.json'), 'utf8'));
    expect(manifest.buildKey).toBe(good.manifest.buildKey);
    expect((await readdir(dir)).sort()).toEqual(['cache', 'img']);
  });

  it('an object a killed compiler half-wrote is never reused', async () => {
    const srctree = await copyFixture();
    const dir = join(work, 'killed');
    const cacheDir = join(dir, 'cache');
    // A gcc that writes garbage to -o for status.c and dies by SIGKILL.
    const bin = await fakeBin(
      'killing-gcc',
      {
        gcc: `#!/bin/sh
case "$*" in *status.c*)
  while [ $# -gt 0 ]; do [ "$1" = -o ] && { echo garbage > "$2"; kill -9 $$; }; shift; done;;
esac
exec /usr/bin/gcc "$@"
`,
      },
      ['ld'],
    );
    const env = { ...process.env, PATH: bin };
    const err = await caught(buildFixture({ cacheDir, outDir: join(dir, 'img'), srctree, env }));
    expect(err).toBeInstanceOf(BuildError);
    expect((await readdir(dir)).sort()).toEqual(['cache']);
    const r = await buildFixture({ cacheDir, outDir: join(dir, 'img'), srctree });
    expect(compiledUnits(r)).toContain('modules/fixture/status.c');
  });

  it('a link error names the symbol and the source, not the cache path', async () => {
    const srctree = await copyFixture();
    const main = join(srctree, 'modules/fixture/main.c');
    await writeFile(
      main,
      (await readFile(main, 'utf8')).replace(
        'void fixture_main(void)\n{',
        'void missing_function(void);\nvoid fixture_main(void)\n{\n\tmissing_function();',
      ),
    );
    const dir = join(work, 'linkfail');
    const err = await caught(
      buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img'), srctree }),
    );
    expect(err.message).toMatch(
      /^link failed: .*modules\/fixture\/main\.c.*undefined reference to `missing_function'/,
    );
    expect(err.message).not.toContain('/objects/');
  });

  it('a kernel without the PVH note is rejected after linking', async () => {
    const srctree = await copyFixture();
    const ld = join(srctree, 'modules/arch/kernel.ld');
    await writeFile(
      ld,
      (await readFile(ld, 'utf8')).replace(
        '.note.Xen : { *(.note.Xen) } :text :note',
        '/DISCARD/ : { *(.note.Xen) }',
      ),
    );
    const dir = join(work, 'nonote');
    const err = await caught(
      buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img'), srctree }),
    );
    expect(err.message).toMatch(/no Xen PVH entry note/);
    expect((await readdir(dir)).sort()).toEqual(['cache']);
  });
});

describe('ELF checks', () => {
  it('rejects an object file and garbage', async () => {
    const dir = join(work, 'elf');
    const r = await buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img') });
    const obj = await readFile(r.objects[0]!.path);
    expect(() => checkKernelElf(obj, 'x.o')).toThrow(/expected an executable/);
    expect(() => checkKernelElf(Buffer.from('not an elf at all'), 'junk')).toThrow(/not a valid ELF file/);
    const info = checkKernelElf(await readFile(join(dir, 'img/kernel.elf')), 'kernel.elf');
    expect(info.entry).toBe('0x100000');
    expect(info.pvhEntry).toBe('0x100000');
  });

  it('parses notes with padding', () => {
    const b = Buffer.alloc(12 + 4 + 4 + 12 + 8 + 8);
    b.writeUInt32LE(4, 0);
    b.writeUInt32LE(4, 4);
    b.writeUInt32LE(18, 8);
    b.write('Xen\0', 12, 'latin1');
    b.writeUInt32LE(0x100000, 16);
    b.writeUInt32LE(5, 20);
    b.writeUInt32LE(8, 24);
    b.writeUInt32LE(1, 28);
    b.write('GNU\0\0', 32, 'latin1');
    expect(parseNotes(b).map((n) => [n.name, n.type, n.desc.length])).toEqual([
      ['Xen', 18, 4],
      ['GNU', 1, 8],
    ]);
  });
});

describe('tools', () => {
  it('a PATH without gcc is a ToolMissingError naming the package', async () => {
    const bin = await fakeBin('no-gcc', {}, ['ld', 'nm']);
    const err = await caught(
      buildFixture({ cacheDir: join(work, 'c-nogcc'), outDir: join(work, 'nogcc'), env: { PATH: bin } }),
    );
    expect(err).toBeInstanceOf(ToolMissingError);
    expect(formatError(err)).toBe('osvb: gcc not found (not on PATH); install it: apt-get install gcc');
  });

  it('a PATH without ld names binutils', async () => {
    const bin = await fakeBin('no-ld', {}, ['gcc']);
    const err = await caught(
      buildFixture({ cacheDir: join(work, 'c-nold'), outDir: join(work, 'nold'), env: { PATH: bin } }),
    );
    expect(formatError(err)).toBe('osvb: ld not found (not on PATH); install it: apt-get install binutils');
  });

  it('a gcc for another architecture is unsuitable', async () => {
    const bin = await fakeBin('arm-gcc', {
      gcc: '#!/bin/sh\n[ "$1" = -dumpmachine ] && echo aarch64-linux-gnu || echo 12.2.0\n',
    });
    const err = await caught(findCompiler({ env: { PATH: bin }, cacheDir: join(work, 'c-arm') }));
    expect(err).toBeInstanceOf(ToolMissingError);
    expect(err.message).toMatch(/targets aarch64-linux-gnu, not x86_64/);
  });

  it('qemu older than 7 is unsuitable, missing qemu names qemu-system-x86', async () => {
    const old = await fakeBin('old-qemu', {
      'qemu-system-x86_64': '#!/bin/sh\necho "QEMU emulator version 6.2.0 (Debian)"\n',
    });
    const err = await caught(findQemu({ env: { PATH: old }, cacheDir: join(work, 'c-oldq') }));
    expect(formatError(err)).toMatch(/need 7 or later .*; install it: apt-get install qemu-system-x86$/);
    const none = await caught(
      findQemu({ env: { PATH: join(work, 'nowhere') }, cacheDir: join(work, 'c-noq') }),
    );
    expect(formatError(none)).toBe(
      'osvb: qemu-system-x86_64 not found (not on PATH); install it: apt-get install qemu-system-x86',
    );
  });
});

describe('temporaries of killed builds', () => {
  it('are removed by the next build when their process is gone', async () => {
    const { mkdir: mk } = await import('node:fs/promises');
    const dir = join(work, 'stale');
    await mk(join(dir, '.img.tmp-999999-0a0b0c0d'), { recursive: true });
    await writeFile(join(dir, '.img.tmp-999999-0a0b0c0d/manifest.json'), '{}');
    await mk(join(dir, `.img.tmp-${process.ppid}-0a0b0c0e`), { recursive: true }); // a live process's: kept
    await buildFixture({ cacheDir: join(dir, 'cache'), outDir: join(dir, 'img') });
    expect((await readdir(dir)).sort()).toEqual([`.img.tmp-${process.ppid}-0a0b0c0e`, 'cache', 'img']);
  });
});
