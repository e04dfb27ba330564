// The examples, end to end on the host side: each app.yaml's app and files
// collected into a rootfs, written as a cpio archive, unpacked by the host's
// cpio, and — when running as root — the app run in a chroot of that tree
// with the app.yaml's args and env. That proves the archive holds everything
// the program needs (loader, libraries, stdlib, files) before any kernel runs it.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostProbe, loadAppSpec, nodeHostProbe } from '../../src/config/appspec.js';
import { TAIL_PAD, writeCpioArchive } from '../../src/fs/archive.js';
import { buildLdSoCache, parseLdSoCache } from '../../src/fs/ldcache.js';
import { EXCLUDED_EXTENSIONS } from '../../src/fs/python.js';
import { type CollectOptions, collectRootfs, type Rootfs, type RootfsInput } from '../../src/fs/rootfs.js';
import { compileC, isRoot, runChroot, tempDir, unpackWithCpio } from './helpers.js';

const itRoot = isRoot ? it : it.skip;
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('examples'));
  for (const ex of ['hello-c', 'hello-go']) {
    execFileSync('make', ['-s', '-C', resolve('examples', ex), `O=${join(dir, ex)}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
});
afterAll(() => cleanup());

interface Example {
  input: RootfsInput;
  args: string[];
  env: Record<string, string>;
}

/**
 * Loads an example's app.yaml with osvb's own parser, as `osvb build` does;
 * outputs the Makefile puts in build/ are read from this run's temp build dir.
 */
async function loadExample(name: string, yamlFile = 'app.yaml'): Promise<Example> {
  const exDir = resolve('examples', name);
  const built = (p: string): string =>
    p.startsWith(`${exDir}/build/`) ? join(dir, name, p.slice(exDir.length + '/build/'.length)) : p;
  const probe: HostProbe = {
    kind: (p) => nodeHostProbe.kind(built(p)),
    head: (p, n) => nodeHostProbe.head(built(p), n),
    which: (c) => nodeHostProbe.which(c),
  };
  const spec = await loadAppSpec(join(exDir, yamlFile), probe);
  const app = spec.app!;
  const input: RootfsInput = { exec: built(app.exec), files: spec.files, specFile: spec.file };
  if (app.runtime) input.runtime = app.runtime;
  if (app.script) input.script = app.script;
  return { input, args: app.args, env: app.env };
}

async function pack(
  name: string,
  input: RootfsInput,
  opts?: CollectOptions,
): Promise<{ r: Rootfs; size: number; root: string }> {
  const r = await collectRootfs(input, opts);
  const archive = join(dir, `${name}.cpio`);
  const a = await writeCpioArchive(r.entries, archive);
  const root = join(dir, `${name}.root`);
  mkdirSync(root);
  unpackWithCpio(archive, root);
  return { r, size: a.size, root };
}

const paths = (r: Rootfs, kind?: string): string[] =>
  r.entries.filter((e) => !kind || e.kind === kind).map((e) => e.path);

describe('examples/hello-c', () => {
  it('static (musl): one file, no loader; runs with the app.yaml args and env', async () => {
    const ex = await loadExample('hello-c', 'app.static.yaml');
    const { r, size, root } = await pack('hello-static', ex.input);
    expect(r.requirements.kind).toBe('static');
    expect(paths(r, 'file')).toEqual([
      '/app/hello-static',
      '/etc/group',
      '/etc/hosts',
      '/etc/nsswitch.conf',
      '/etc/passwd',
    ]);
    // The archive ends in TAIL_PAD zeros that firmware may overwrite (src/fs/archive.ts).
    expect(size - TAIL_PAD).toBeLessThan(64 * 1024);
    if (!isRoot) return;
    const run = runChroot(root, [...r.command, ...ex.args], ex.env);
    expect(run.stdout).toContain('argv[0]=/app/hello-static');
    expect(run.stdout).toContain('argv[2]=two words');
    expect(run.stdout).toContain('env: GREETING=hello from the host');
    expect(run.status).toBe(7);
  });

  it('dynamic (glibc): the loader and libc come along, through the /lib64 and /lib symlinks', async () => {
    const ex = await loadExample('hello-c', 'app.dynamic.yaml');
    const { r, root } = await pack('hello-dynamic', ex.input);
    expect(r.requirements).toMatchObject({ kind: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2' });
    const links = Object.fromEntries(
      r.entries.flatMap((e) => (e.kind === 'symlink' ? [[e.path, e.target]] : [])),
    );
    expect(links['/lib64']).toBe('usr/lib64');
    expect(links['/lib']).toBe('usr/lib');
    expect(paths(r, 'file')).toEqual(
      expect.arrayContaining([
        '/app/hello-dynamic',
        '/usr/lib/x86_64-linux-gnu/libc.so.6',
        '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      ]),
    );
    if (!isRoot) return;
    const run = runChroot(root, [...r.command, ...ex.args], ex.env);
    expect(run.stdout).toContain('argv[1]=3');
    expect(run.status).toBe(3);
  });
});

describe('loaders in a chroot of the archive', () => {
  itRoot('musl dynamic: ld-musl and its path file', async () => {
    const d = join(dir, 'musl');
    mkdirSync(d);
    const bin = compileC(
      d,
      'mhello',
      '#include <stdio.h>\nint main(void){puts("musl says hi");return 5;}\n',
      [],
      'musl-gcc',
    );
    const { r, root } = await pack('musl', { runtime: 'elf', exec: bin });
    expect(paths(r)).toContain('/etc/ld-musl-x86_64.path');
    const run = runChroot(root, r.command);
    expect(run.stdout).toBe('musl says hi\n');
    expect(run.status).toBe(5);
  });

  itRoot(
    'a library found only through the host ld.so cache loads through the generated guest cache',
    async () => {
      const d = join(dir, 'cached-lib');
      mkdirSync(d);
      compileC(d, 'libcq.so.1', 'int cq(void) { return 9; }\n', [
        '-shared',
        '-fPIC',
        '-Wl,-soname,libcq.so.1',
      ]);
      const bin = compileC(d, 'app', 'int cq(void);\nint main(void){return cq();}\n', [
        `-L${d}`,
        '-l:libcq.so.1',
      ]);
      const host = parseLdSoCache(readFileSync('/etc/ld.so.cache'), '/etc/ld.so.cache');
      const fake = join(d, 'host-ld.so.cache');
      writeFileSync(
        fake,
        buildLdSoCache([...host.entries, { name: 'libcq.so.1', path: join(d, 'libcq.so.1') }]),
      );
      const { r, root } = await pack('cached', { runtime: 'elf', exec: bin }, { ldSoCache: fake });
      expect(paths(r)).toContain('/etc/ld.so.cache');
      expect(runChroot(root, r.command).status).toBe(9);
    },
  );
});

describe('$ORIGIN in a chroot of the archive', () => {
  // glibc finds the main program's $ORIGIN through /proc/self/exe, so this needs /proc (the guest has it).
  itRoot('places RUNPATH $ORIGIN/../lib libraries relative to the guest path of the app', async (ctx) => {
    // tree/bin/app (RUNPATH $ORIGIN/../lib) -> tree/lib/libo.so.1 -> libo.so.1.0 (RUNPATH $ORIGIN) -> tree/lib/libp.so.1
    const tree = join(dir, 'origin-tree');
    const lib = join(tree, 'lib');
    mkdirSync(lib, { recursive: true });
    mkdirSync(join(tree, 'bin'));
    compileC(lib, 'libp.so.1', 'int p(void) { return 2; }\n', ['-shared', '-fPIC', '-Wl,-soname,libp.so.1']);
    compileC(lib, 'libo.so.1.0', 'int p(void);\nint o(void) { return 40 + p(); }\n', [
      '-shared',
      '-fPIC',
      '-Wl,-soname,libo.so.1',
      `-L${lib}`,
      '-l:libp.so.1',
      '-Wl,--enable-new-dtags,-rpath,$ORIGIN',
    ]);
    symlinkSync('libo.so.1.0', join(lib, 'libo.so.1'));
    const app = compileC(
      join(tree, 'bin'),
      'app',
      '#include <stdio.h>\nint o(void);\nint main(void){printf("%d\\n", o());return 0;}\n',
      [`-L${lib}`, '-l:libo.so.1', '-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib'],
    );
    const { r, root } = await pack('origin', {
      runtime: 'elf',
      exec: app,
      execGuestPath: '/opt/app/bin/app',
    });
    const byPath = new Map(r.entries.map((e) => [e.path, e]));
    expect(byPath.get('/opt/app/lib/libo.so.1')).toMatchObject({ kind: 'symlink', target: 'libo.so.1.0' });
    expect(byPath.get('/opt/app/lib/libo.so.1.0')?.kind).toBe('file');
    expect(byPath.get('/opt/app/lib/libp.so.1')?.kind).toBe('file');
    const proc = join(root, 'proc');
    if (spawnSync('mount', ['-t', 'proc', 'proc', proc]).status !== 0) ctx.skip('cannot mount /proc here');
    try {
      const run = runChroot(root, r.command);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('42\n');
      expect(run.status).toBe(0);
    } finally {
      spawnSync('umount', [proc]);
    }
  });
});

describe('examples/busybox', () => {
  it('packs busybox, the script and the data directory', async () => {
    const ex = await loadExample('busybox');
    const { r } = await pack('busybox-contents', ex.input);
    expect(paths(r, 'file').sort()).toEqual([
      '/app/busybox',
      '/app/script.sh',
      '/data/words.txt',
      '/etc/group',
      '/etc/hosts',
      '/etc/nsswitch.conf',
      '/etc/passwd',
    ]);
  });

  itRoot('runs one applet without a shell (app.single.yaml)', async () => {
    const ex = await loadExample('busybox', 'app.single.yaml');
    const { r, root } = await pack('busybox-single', ex.input);
    const run = runChroot(root, [...r.command, ...ex.args], ex.env);
    expect(run.stdout).toBe(
      'f0626f01acd9520f268534c43d43ae89e7dfb076c6c9288af99127d74a5b3594  /data/words.txt\n',
    );
    expect(run.status).toBe(0);
  });

  itRoot('runs the applets from the script under busybox sh (needs /proc/self/exe)', async (ctx) => {
    const ex = await loadExample('busybox');
    const { r, root } = await pack('busybox', ex.input);
    const proc = join(root, 'proc');
    if (spawnSync('mount', ['-t', 'proc', 'proc', proc]).status !== 0) ctx.skip('cannot mount /proc here');
    try {
      const run = runChroot(root, [...r.command, ...ex.args], ex.env);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain(
        'f0626f01acd9520f268534c43d43ae89e7dfb076c6c9288af99127d74a5b3594  /data/words.txt',
      );
      expect(run.stdout).toContain('--- seq 1 5\n1\n2\n3\n4\n5\n');
      expect(run.stdout).toContain('--- sort /data/words.txt\napple\nbanana\ncherry\nfig\npear\n');
      // /etc/passwd and /etc/group name uid and gid 0
      expect(run.stdout).toMatch(/drwxrwxrwt\s+2 root\s+root\s+\d+ \w+ +\d+ +[\d:]+ tmp/);
      expect(run.stdout).toContain('busybox: all applets ran');
      expect(run.status).toBe(0);
    } finally {
      spawnSync('umount', [proc]);
    }
  });
});

describe('examples/hello-go', () => {
  it('packs the static Go binary alone and runs it', async () => {
    const ex = await loadExample('hello-go');
    const { r, root } = await pack('hello-go', ex.input);
    expect(r.requirements.go).toBe(true);
    expect(paths(r, 'file')).toEqual([
      '/app/hello-go',
      '/etc/group',
      '/etc/hosts',
      '/etc/nsswitch.conf',
      '/etc/passwd',
    ]);
    if (!isRoot) return;
    const run = runChroot(root, [...r.command, ...ex.args], ex.env);
    expect(run.stdout).toContain(
      'recovered: runtime error: invalid memory address or nil pointer dereference',
    );
    expect(run.stdout).toContain('hello-go: all checks passed');
    expect(run.status).toBe(0);
  });
});

describe('examples/python', () => {
  let packed: { r: Rootfs; size: number; root: string };
  beforeAll(async () => {
    packed = await pack('python', (await loadExample('python')).input);
  });

  it('packs python3, its closure, the standard library without tests/GUI/caches, and the script', () => {
    const { r, size } = packed;
    expect(r.command).toEqual(['/usr/bin/python3', '/app/main.py']);
    expect(r.requirements.python).toBe(true);
    const all = paths(r);
    const stdlib = `/usr/lib/python${r.python!.version}`;
    expect(all).toEqual(
      expect.arrayContaining([
        '/app/main.py',
        '/usr/bin/python3',
        `${stdlib}/os.py`,
        `${stdlib}/json/__init__.py`,
      ]),
    );
    for (const p of all) {
      const rel = p.startsWith(`${stdlib}/`) ? p.slice(stdlib.length + 1) : undefined;
      if (rel === undefined) continue;
      expect(rel, p).not.toMatch(/(^|\/)(tests?|idle_test)(\/|$)/);
      expect(rel, p).not.toMatch(/^(idlelib|tkinter|turtledemo|ensurepip|lib2to3|pydoc_data|config-)/);
      if (rel.startsWith('lib-dynload/')) expect(rel.slice(12), p).not.toMatch(EXCLUDED_EXTENSIONS);
    }
    // Extension modules bring their libraries (here OpenSSL for _hashlib/_ssl).
    expect(all).toContain(
      `${stdlib}/lib-dynload/_json.cpython-3${r.python!.version.split('.')[1]}-x86_64-linux-gnu.so`,
    );
    expect(r.closure.libraries.map((l) => l.name)).toContain('libcrypto.so.3');
    // Debian's sitecustomize.py is a link to /etc; the target comes along.
    expect(all).toContain(`/etc/python${r.python!.version}/sitecustomize.py`);
    // Every .pyc is one of ours: hash-based and unchecked, one per shipped source.
    const pycs = r.entries.filter((e) => e.kind === 'file' && e.path.endsWith('.pyc'));
    expect(pycs.length).toBe(r.python!.pycFiles);
    expect(pycs.every((e) => e.kind === 'file' && e.patch !== undefined)).toBe(true);
    expect(r.python!.stalePycs).toBe(0);
    // Sizes, for the report.
    console.log(
      `python rootfs: ${r.stats.files} files, ${r.stats.dirs} dirs, ${r.stats.symlinks} symlinks, ` +
        `${(r.stats.bytes / 1e6).toFixed(1)} MB of files, archive ${(size / 1e6).toFixed(1)} MB, ` +
        `${r.python!.sourceFiles} .py + ${r.python!.pycFiles} .pyc, ${r.python!.extensionModules.length} extension modules`,
    );
    expect(size).toBeLessThan(64 * 1024 * 1024);
  });

  itRoot('runs the script from the chroot, using the shipped bytecode', () => {
    const run = runChroot(packed.root, packed.r.command, { PYTHONVERBOSE: '1' });
    expect(run.stdout).toContain('python: all checks passed');
    expect(run.status).toBe(0);
    // Each stdlib module came from its .pyc; none was compiled from source.
    expect(run.stderr).toMatch(
      /code object from '\/usr\/lib\/python3\.\d+\/json\/__pycache__\/__init__\.cpython-3\d+\.pyc'/,
    );
    expect(run.stderr).not.toMatch(/code object from '\/usr\/lib\/python3\.\d+\/[^']*\.py'/);
  });
});
