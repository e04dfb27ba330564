import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputError } from '../../src/errors.js';
import { addUserFiles, collectRootfs } from '../../src/fs/rootfs.js';
import { normalizeGuestPath, RootfsTree, symlinkTargetPath } from '../../src/fs/tree.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('tree'));
});
afterAll(() => cleanup());

async function rejection(p: Promise<unknown>): Promise<InputError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('guest paths', () => {
  it('normalizes, and refuses ".." above / and relative paths', () => {
    expect(normalizeGuestPath('/a/./b//c/..', 'app.yaml')).toBe('/a/b');
    expect(normalizeGuestPath('/', 'app.yaml')).toBe('/');
    const up = thrown(() => normalizeGuestPath('/data/../../etc/passwd', 'app.yaml:7'));
    expect(up.message).toContain('escapes the root filesystem');
    expect(formatError(up)).toContain('app.yaml:7');
    expect(thrown(() => normalizeGuestPath('data/x', 'app.yaml')).message).toContain('not absolute');
  });

  it('resolves symlink targets inside the guest; a relative target may not climb above /', () => {
    expect(symlinkTargetPath('/data/sub/link', '../x', 'h')).toBe('/data/x');
    expect(symlinkTargetPath('/data/link', '/../../etc/passwd', 'h')).toBe('/etc/passwd');
    expect(symlinkTargetPath('/lib', 'usr/lib', 'h')).toBe('/usr/lib');
    const err = thrown(() => symlinkTargetPath('/data/link', '../../etc/passwd', '/host/data/link'));
    expect(err.message).toBe('symlink /data/link -> ../../etc/passwd escapes the root filesystem');
    expect(formatError(err)).toContain('/host/data/link');
  });
});

describe('the rootfs tree', () => {
  it('places paths through symlinked directories already in the tree', () => {
    const t = new RootfsTree();
    t.add({ kind: 'symlink', path: '/lib', mode: 0o777, target: 'usr/lib', origin: 'test' }, 't');
    t.add(
      { kind: 'file', path: '/lib/libx.so', mode: 0o644, size: 1, data: Buffer.from('x'), origin: 'test' },
      't',
    );
    expect(t.get('/usr/lib/libx.so')?.kind).toBe('file');
    expect(t.get('/lib/libx.so')).toBeUndefined();
    expect(t.list().map((e) => e.path)).toEqual(['/lib', '/usr', '/usr/lib', '/usr/lib/libx.so']);
  });

  it('merges a directory into a symlinked directory instead of clashing', () => {
    const t = new RootfsTree();
    t.add({ kind: 'symlink', path: '/lib', mode: 0o777, target: 'usr/lib', origin: 'test' }, 't');
    t.add({ kind: 'dir', path: '/usr/lib', mode: 0o755 }, 't');
    t.add({ kind: 'dir', path: '/lib', mode: 0o700 }, 'files');
    t.add(
      { kind: 'file', path: '/lib/extra', mode: 0o644, size: 0, data: new Uint8Array(), origin: 'files' },
      'files',
    );
    expect(t.get('/lib')?.kind).toBe('symlink');
    expect(t.get('/usr/lib/extra')?.kind).toBe('file');
  });

  it('stops at symlink loops', () => {
    const t = new RootfsTree();
    t.add({ kind: 'symlink', path: '/a', mode: 0o777, target: 'b', origin: 'test' }, 't');
    t.add({ kind: 'symlink', path: '/b', mode: 0o777, target: 'a', origin: 'test' }, 't');
    const err = thrown(() => t.add({ kind: 'dir', path: '/a/x', mode: 0o755 }, 'loop'));
    expect(err.message).toContain('too many levels of symlinks');
  });

  it('refuses two different things at one path, naming both', () => {
    const t = new RootfsTree();
    t.add({ kind: 'file', path: '/app/x', mode: 0o755, size: 1, source: '/h/one', origin: 'app.exec' }, 't');
    t.add({ kind: 'file', path: '/app/x', mode: 0o755, size: 1, source: '/h/one', origin: 'again' }, 't'); // same: fine
    const err = thrown(() =>
      t.add(
        { kind: 'file', path: '/app/x', mode: 0o644, size: 2, source: '/h/two', origin: 'files: /app/x' },
        'app.yaml',
      ),
    );
    expect(err.message).toBe(
      'guest path /app/x is provided twice: /h/one (app.exec) and /h/two (files: /app/x)',
    );
  });

  it('copies a host path keeping the symlinks on the way (merged /usr)', async () => {
    const t = new RootfsTree();
    await t.addHostPath('/lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2', 'interpreter');
    const kinds = Object.fromEntries(
      t.list().map((e) => [e.path, e.kind === 'symlink' ? `-> ${e.target}` : e.kind]),
    );
    expect(kinds['/lib64']).toBe('-> usr/lib64');
    expect(kinds['/usr/lib64/ld-linux-x86-64.so.2']).toMatch(/^-> /);
    expect(Object.values(kinds).filter((k) => k === 'file')).toHaveLength(1);
  });
});

describe('files: entries', () => {
  let src: string;
  beforeAll(() => {
    src = join(dir, 'src');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(src, 'secret'), 's');
    chmodSync(join(src, 'secret'), 0o600);
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(src, 'run.sh'), 0o755);
    chmodSync(join(src, 'sub'), 0o2750);
    writeFileSync(join(src, 'sub', 'deeper', 'f'), 'f');
    symlinkSync('../secret', join(src, 'sub', 'rel'));
    symlinkSync('/etc/hostname', join(src, 'abs'));
    symlinkSync('deeper/f', join(src, 'sub', 'down'));
  });

  it('walks a directory keeping modes and symlinks', async () => {
    const t = new RootfsTree();
    await addUserFiles(t, '/data', src, { file: 'app.yaml', line: 9 });
    const got = Object.fromEntries(
      t
        .list()
        .map((e) => [e.path, e.kind === 'symlink' ? `-> ${e.target}` : `${e.kind} ${e.mode.toString(8)}`]),
    );
    expect(got).toMatchObject({
      '/data/secret': 'file 600',
      '/data/run.sh': 'file 755',
      '/data/sub': 'dir 2750',
      '/data/sub/deeper/f': 'file 644',
      '/data/sub/rel': '-> ../secret',
      '/data/sub/down': '-> deeper/f',
      '/data/abs': '-> /etc/hostname',
    });
  });

  it('refuses a relative symlink that climbs out, naming it', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'a'), { recursive: true });
    symlinkSync('../../../etc/shadow', join(bad, 'a', 'link'));
    const err = await rejection(addUserFiles(new RootfsTree(), '/data', bad, { file: 'app.yaml', line: 3 }));
    expect(err.message).toBe('symlink /data/a/link -> ../../../etc/shadow escapes the root filesystem');
    expect(formatError(err)).toContain(join(bad, 'a', 'link'));
  });

  it('accepts the same link one level deeper, where it stays inside', async () => {
    const ok = join(dir, 'ok');
    mkdirSync(join(ok, 'a'), { recursive: true });
    symlinkSync('../../../etc/motd', join(ok, 'a', 'link'));
    const t = new RootfsTree();
    await addUserFiles(t, '/srv/www/data', ok, { file: 'app.yaml' });
    expect(t.get('/srv/www/data/a/link')).toMatchObject({ kind: 'symlink', target: '../../../etc/motd' });
  });

  it('refuses a guest path with ".." above / and FIFOs, naming the app.yaml line', async () => {
    const err = await rejection(
      collectRootfs({
        runtime: 'elf',
        exec: '/bin/busybox',
        files: [{ guest: '/data/../../x', host: src, loc: { file: 'app.yaml', line: 12, column: 3 } }],
      }),
    );
    expect(formatError(err)).toBe(
      'osvb: app.yaml:12:3: guest path "/data/../../x" escapes the root filesystem ("..")',
    );
    const fifoDir = join(dir, 'fifo');
    mkdirSync(fifoDir);
    execFileSync('mkfifo', [join(fifoDir, 'pipe')]);
    const err2 = await rejection(addUserFiles(new RootfsTree(), '/x', fifoDir, { file: 'app.yaml' }));
    expect(formatError(err2)).toContain(join(fifoDir, 'pipe'));
  });

  it('names a missing host path with the app.yaml location', async () => {
    const err = await rejection(
      collectRootfs({
        runtime: 'elf',
        exec: '/bin/busybox',
        files: new Map([['/x', join(dir, 'nope')]]),
        specFile: 'app.yaml',
      }),
    );
    expect(formatError(err)).toBe(`osvb: app.yaml: files: /x: host path ${join(dir, 'nope')} not found`);
  });

  it('refuses a files entry that replaces the application', async () => {
    const err = await rejection(
      collectRootfs({
        runtime: 'elf',
        exec: '/bin/busybox',
        files: new Map([['/app/busybox', join(src, 'run.sh')]]),
      }),
    );
    expect(err.message).toContain('guest path /app/busybox is provided twice');
  });
});
