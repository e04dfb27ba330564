import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputError } from '../../src/errors.js';
import { type ClosureOptions, type ClosureRoot, resolveClosure } from '../../src/fs/closure.js';
import { readElf } from '../../src/fs/elf.js';
import { buildLdSoCache, parseLdSoCache } from '../../src/fs/ldcache.js';
import { compileC, ldd, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('closure'));
});
afterAll(() => cleanup());

async function root(hostPath: string, guestPath = hostPath): Promise<ClosureRoot> {
  return { hostPath, guestPath, info: await readElf(hostPath) };
}

async function closureError(roots: ClosureRoot[], opts?: ClosureOptions): Promise<InputError> {
  const err = await resolveClosure(roots, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

/** A shared library libNAME.so.1 (soname) calling `calls` from other libs. */
function sharedLib(at: string, name: string, body: string, args: string[] = [], cc = 'gcc'): string {
  mkdirSync(at, { recursive: true });
  return compileC(
    at,
    `lib${name}.so.1`,
    body,
    ['-shared', '-fPIC', `-Wl,-soname,lib${name}.so.1`, ...args],
    cc,
  );
}

function expectSameAsLdd(binary: string, libs: { name: string; hostPath: string }[]): void {
  const oracle = ldd(binary);
  const ours = new Map(libs.map((l) => [l.name, realpathSync(l.hostPath)]));
  const theirs = new Map([...oracle].map(([n, p]) => [n, realpathSync(p)]));
  expect(ours).toEqual(theirs);
}

describe('glibc closure on host binaries, checked against ldd', () => {
  it('/bin/ls', async () => {
    const c = await resolveClosure([await root('/bin/ls')]);
    expect(c.flavor).toBe('glibc');
    expect(c.interpreter?.hostPath).toBe('/lib64/ld-linux-x86-64.so.2');
    expectSameAsLdd('/bin/ls', c.libraries);
    // Breadth-first, like the loader: the executable's own needs first.
    expect(c.libraries.slice(0, 2).map((l) => l.name)).toEqual(['libselinux.so.1', 'libc.so.6']);
    expect(c.libraries.find((l) => l.name === 'libpcre2-8.so.0')?.neededBy).toBe(
      c.libraries.find((l) => l.name === 'libselinux.so.1')?.guestPath,
    );
  });

  it('python3', async () => {
    const c = await resolveClosure([await root('/usr/bin/python3')]);
    expectSameAsLdd('/usr/bin/python3', c.libraries);
    expect(c.libraries.every((l) => l.via === 'ld.so.cache')).toBe(true);
    expect(c.loaderFiles).toEqual([]);
  });

  it('a glibc dynamic hello compiled here', async () => {
    const hello = compileC(dir, 'hello', '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n');
    const c = await resolveClosure([await root(hello, '/app/hello')]);
    expect(c.libraries.map((l) => [l.name, l.guestPath, l.neededBy])).toEqual([
      ['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/app/hello'],
    ]);
    expectSameAsLdd(hello, c.libraries);
  });

  it('a static binary has no closure', async () => {
    const c = await resolveClosure([await root('/bin/busybox')]);
    expect(c).toEqual({ libraries: [], loaderFiles: [] });
  });
});

describe('RPATH, RUNPATH and $ORIGIN on fixture trees', () => {
  // tree/bin/app  RUNPATH $ORIGIN/../lib  -> tree/lib/libfoo.so.1 (a symlink to libfoo.so.1.0)
  // libfoo        RUNPATH $ORIGIN          -> tree/lib/libbar.so.1
  let tree: string;
  let app: string;
  beforeAll(() => {
    tree = join(dir, 'origin');
    const lib = join(tree, 'lib');
    sharedLib(lib, 'bar', 'int bar(void) { return 2; }\n');
    const foo = sharedLib(lib, 'foo', 'int bar(void);\nint foo(void) { return 40 + bar(); }\n', [
      `-L${lib}`,
      '-l:libbar.so.1',
      '-Wl,--enable-new-dtags,-rpath,$ORIGIN',
    ]);
    // libfoo.so.1 -> libfoo.so.1.0, as packages ship it.
    renameSync(foo, `${foo}.0`);
    symlinkSync('libfoo.so.1.0', foo);
    mkdirSync(join(tree, 'bin'));
    app = compileC(
      join(tree, 'bin'),
      'app',
      '#include <stdio.h>\nint foo(void);\nint main(void){printf("%d\\n", foo());return 0;}\n',
      [`-L${lib}`, '-l:libfoo.so.1', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib'],
    );
  });

  it('expands $ORIGIN on the host to find libraries, and on the guest side to place them', async () => {
    const c = await resolveClosure([await root(app, '/app/app')]);
    const byName = new Map(c.libraries.map((l) => [l.name, l]));
    expect(byName.get('libfoo.so.1')).toMatchObject({
      hostPath: join(tree, 'lib', 'libfoo.so.1'),
      guestPath: '/lib/libfoo.so.1',
      via: 'runpath',
      neededBy: '/app/app',
    });
    // libfoo's own RUNPATH $ORIGIN is its guest directory.
    expect(byName.get('libbar.so.1')).toMatchObject({ guestPath: '/lib/libbar.so.1', via: 'runpath' });
    expectSameAsLdd(app, c.libraries);
  });

  it('places everything at the host paths when the app keeps its own path', async () => {
    const c = await resolveClosure([await root(app)]);
    expect(c.libraries.find((l) => l.name === 'libbar.so.1')?.guestPath).toBe(
      join(tree, 'lib', 'libbar.so.1'),
    );
  });

  it('RPATH is inherited by dependencies, RUNPATH is not', async () => {
    // libqux needs libbaz; both in d/, and libqux has no search path of its own.
    const d = join(dir, 'inherit');
    sharedLib(d, 'baz', 'int baz(void) { return 1; }\n');
    sharedLib(d, 'qux', 'int baz(void);\nint qux(void) { return baz(); }\n', [`-L${d}`, '-l:libbaz.so.1']);
    const src = 'int qux(void);\nint main(void){return qux();}\n';
    const withRpath = compileC(d, 'rp', src, [
      `-L${d}`,
      '-l:libqux.so.1',
      `-Wl,--disable-new-dtags,-rpath,${d}`,
    ]);
    const withRunpath = compileC(d, 'rup', src, [
      `-L${d}`,
      '-l:libqux.so.1',
      `-Wl,--enable-new-dtags,-rpath,${d}`,
    ]);

    const ok = await resolveClosure([await root(withRpath)]);
    expect(ok.libraries.find((l) => l.name === 'libbaz.so.1')).toMatchObject({
      via: 'rpath',
      hostPath: join(d, 'libbaz.so.1'),
    });
    expectSameAsLdd(withRpath, ok.libraries);

    const err = await closureError([await root(withRunpath)]);
    expect(err.message).toBe(`library libbaz.so.1 not found (needed by ${join(d, 'libqux.so.1')})`);
    expect(formatError(err)).toContain(join(d, 'libqux.so.1'));
    expect(ldd(withRunpath).get('libbaz.so.1')).toBeUndefined(); // ld.so agrees: "not found"
  });

  it('skips a library of the wrong class in an earlier directory, as ld.so does', async () => {
    const d = join(dir, 'wrongclass');
    const good = join(d, 'good');
    const bad = join(d, 'bad');
    const lib = sharedLib(good, 'w', 'int w(void) { return 0; }\n');
    mkdirSync(bad);
    const b = readFileSync(lib);
    b[4] = 1; // ELFCLASS32
    writeFileSync(join(bad, 'libw.so.1'), b);
    const app2 = compileC(d, 'app', 'int w(void);\nint main(void){return w();}\n', [
      `-L${good}`,
      '-l:libw.so.1',
      `-Wl,--enable-new-dtags,-rpath,${bad}:${good}`,
    ]);
    const c = await resolveClosure([await root(app2)]);
    expect(c.libraries.find((l) => l.name === 'libw.so.1')?.hostPath).toBe(join(good, 'libw.so.1'));
  });

  it('takes glibc-hwcaps variants along with the baseline library', async () => {
    const d = join(dir, 'hwcaps');
    const lib = sharedLib(d, 'h', 'int h(void) { return 0; }\n');
    mkdirSync(join(d, 'glibc-hwcaps', 'x86-64-v3'), { recursive: true });
    copyFileSync(lib, join(d, 'glibc-hwcaps', 'x86-64-v3', 'libh.so.1'));
    const app3 = compileC(d, 'app', 'int h(void);\nint main(void){return h();}\n', [
      `-L${d}`,
      '-l:libh.so.1',
      `-Wl,--enable-new-dtags,-rpath,${d}`,
    ]);
    const c = await resolveClosure([await root(app3)]);
    expect(c.libraries.map((l) => [l.guestPath, l.via])).toContainEqual([join(d, 'libh.so.1'), 'runpath']);
    expect(c.libraries.map((l) => [l.guestPath, l.via])).toContainEqual([
      join(d, 'glibc-hwcaps', 'x86-64-v3', 'libh.so.1'),
      'hwcaps-variant',
    ]);
  });

  it('names the missing library and who needs it', async () => {
    const d = join(dir, 'missing');
    const lib = sharedLib(d, 'gone', 'int gone(void) { return 0; }\n');
    const app4 = compileC(d, 'app', 'int gone(void);\nint main(void){return gone();}\n', [
      `-L${d}`,
      '-l:libgone.so.1',
    ]);
    rmSync(lib);
    const err = await closureError([await root(app4)], { ldSoCache: null, ldSoConf: '/nonexistent' });
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(`library libgone.so.1 not found (needed by ${app4})`);
    expect(err.hint).toContain('/usr/lib/x86_64-linux-gnu');
  });
});

describe('ld.so.cache outside the default directories', () => {
  it('resolves through the cache and gives the guest a cache listing that library', async () => {
    const d = join(dir, 'cached');
    sharedLib(d, 'cq', 'int cq(void) { return 0; }\n');
    const app = compileC(d, 'app', 'int cq(void);\nint main(void){return cq();}\n', [
      `-L${d}`,
      '-l:libcq.so.1',
    ]);
    const hostCache = parseLdSoCache(readFileSync('/etc/ld.so.cache'), '/etc/ld.so.cache');
    const fake = join(d, 'ld.so.cache');
    writeFileSync(
      fake,
      buildLdSoCache([...hostCache.entries, { name: 'libcq.so.1', path: join(d, 'libcq.so.1') }]),
    );
    const c = await resolveClosure([await root(app)], { ldSoCache: fake });
    expect(c.libraries.find((l) => l.name === 'libcq.so.1')).toMatchObject({
      via: 'ld.so.cache',
      guestPath: join(d, 'libcq.so.1'),
    });
    expect(c.loaderFiles).toHaveLength(1);
    const guestCache = parseLdSoCache(c.loaderFiles[0]!.data!, 'guest');
    expect(guestCache.entries.map((e) => [e.name, e.path])).toEqual([['libcq.so.1', join(d, 'libcq.so.1')]]);
  });

  it('falls back to ld.so.conf when there is no cache', async () => {
    const d = join(dir, 'conf');
    sharedLib(join(d, 'libs'), 'cf', 'int cf(void) { return 0; }\n');
    const app = compileC(d, 'app', 'int cf(void);\nint main(void){return cf();}\n', [
      `-L${join(d, 'libs')}`,
      '-l:libcf.so.1',
    ]);
    writeFileSync(join(d, 'ld.so.conf'), `${join(d, 'libs')}\n`);
    const c = await resolveClosure([await root(app)], { ldSoCache: null, ldSoConf: join(d, 'ld.so.conf') });
    expect(c.libraries.find((l) => l.name === 'libcf.so.1')?.via).toBe('ld.so.conf');
    expect(c.libraries.find((l) => l.name === 'libc.so.6')?.via).toBe('default');
    expect(c.loaderFiles.map((f) => f.guestPath)).toEqual(['/etc/ld.so.cache']);
  });
});

describe('musl loader', () => {
  it('treats libc.so as the loader itself and ships the path file', async () => {
    const hello = compileC(
      dir,
      'musl-hello',
      '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n',
      [],
      'musl-gcc',
    );
    const c = await resolveClosure([await root(hello, '/app/hello')]);
    expect(c.flavor).toBe('musl');
    expect(c.interpreter?.guestPath).toBe('/lib/ld-musl-x86_64.so.1');
    expect(c.libraries).toEqual([]);
    expect(c.loaderFiles.map((f) => [f.guestPath, f.hostPath])).toEqual([
      ['/etc/ld-musl-x86_64.path', '/etc/ld-musl-x86_64.path'],
    ]);
  });

  it('searches the path file, then fails without it', async () => {
    const d = join(dir, 'musl');
    sharedLib(join(d, 'libs'), 'mm', 'int mm(void) { return 0; }\n', [], 'musl-gcc');
    const app = compileC(
      d,
      'app',
      'int mm(void);\nint main(void){return mm();}\n',
      [`-L${join(d, 'libs')}`, '-l:libmm.so.1'],
      'musl-gcc',
    );
    const pathFile = join(d, 'ld-musl-x86_64.path');
    writeFileSync(pathFile, `/nonexistent\n${join(d, 'libs')}\n`);
    const c = await resolveClosure([await root(app)], { muslPathFile: pathFile });
    expect(c.libraries.map((l) => [l.name, l.via])).toEqual([['libmm.so.1', 'musl-path']]);
    expect(c.loaderFiles[0]).toMatchObject({ guestPath: '/etc/ld-musl-x86_64.path', hostPath: pathFile });
    const err = await closureError([await root(app)], { muslPathFile: null });
    expect(err.message).toBe(`library libmm.so.1 not found (needed by ${app})`);
    expect(err.hint).toContain('/usr/local/lib');
  });
});
