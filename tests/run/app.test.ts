// An application image end to end: app.yaml with a static musl program →
// rootfs.cpio in the image directory (manifest file list) → osvb run passes it
// as the initrd and the program's exit status comes back.

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { AppSpec } from '../../src/config/appspec.js';
import { runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { imageCmdline } from '../../src/kernel/rootfs.js';
import { tempDir } from '../kernel/helpers.js';

const spec = (over: Partial<NonNullable<AppSpec['app']>>, cmdline = ''): AppSpec =>
  ({
    file: 'app.yaml',
    baseDir: '/',
    name: 'x',
    app: {
      exec: '/bin/x',
      execDefaulted: false,
      args: [],
      env: {},
      runtime: 'elf',
      script: undefined,
      ...over,
    },
    files: [],
    rootfs: 'cpio',
    kernel: { profile: 'microvm', config: [], cmdline },
    run: { hypervisor: 'qemu', memory: 1 << 27, cpus: 1, accel: 'auto' },
    locs: { 'app.args': { file: 'app.yaml', line: 4, column: 3 } },
  }) as AppSpec;

describe('kernel command line for an app', () => {
  it('puts kernel options first, then osvb.exec, env, --, args; quotes words with spaces', () => {
    expect(
      imageCmdline(spec({ args: ['7', 'two words', ''], env: { A: 'b c', D: 'e' } }, 'osvb.loglevel=7'), [
        '/app/x',
      ]),
    ).toBe('osvb.loglevel=7 osvb.exec=/app/x "A=b c" D=e -- 7 "two words" ""');
    expect(imageCmdline(spec({ args: ['-c', 'print(1)'] }), ['/usr/bin/python3', '/app/main.py'])).toBe(
      'osvb.exec=/usr/bin/python3 -- /app/main.py -c print(1)',
    );
    expect(imageCmdline(spec({}, 'osvb.selftest=all'), undefined)).toBe('osvb.selftest=all');
  });

  it('rejects what the kernel command line cannot carry, naming app.yaml', () => {
    expect(() => imageCmdline(spec({ args: ['say "hi"'] }), ['/app/x'])).toThrow(/contains '"'/);
    expect(() => imageCmdline(spec({ args: ['osvb.trick=1'] }), ['/app/x'])).toThrow(/starts with "osvb\."/);
    expect(() => imageCmdline(spec({ args: ['x'.repeat(5000)] }), ['/app/x'])).toThrow(/kernel takes 4095/);
    try {
      imageCmdline(spec({ args: ['a\nb'] }), ['/app/x']);
    } catch (err) {
      expect((err as { loc: unknown }).loc).toEqual({ file: 'app.yaml', line: 4, column: 3 });
    }
  });
});

describe('an application image under QEMU', () => {
  let dir: string;
  let appFile: string;
  beforeAll(async () => {
    dir = await tempDir();
    const prog = join(dir, 'echoexit');
    execFileSync('musl-gcc', [
      '-static',
      '-O1',
      '-o',
      prog,
      resolve(import.meta.dirname, 'programs/echoexit.c'),
    ]);
    appFile = join(dir, 'app.yaml');
    await writeFile(
      appFile,
      [
        'name: echoexit',
        'app:',
        '  exec: echoexit',
        '  args: ["33", "two words"]',
        '  env:',
        '    ECHO_VAR: from app.yaml',
        'files:',
        '  /etc/note.txt: note.txt',
        'run:',
        '  memory: 64M',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'note.txt'), 'a file in the rootfs\n');
  });
  afterEach(() => vi.restoreAllMocks());

  it('builds rootfs.cpio into the image and boots it with the program status', async () => {
    const r = await buildApp(appFile, { cacheDir: join(dir, 'cache'), jobs: 2 });
    expect(r.outDir).toBe(join(dir, '.osvb/echoexit'));
    const m = r.manifest;
    expect(m.kernel.cmdline).toBe('osvb.exec=/app/echoexit "ECHO_VAR=from app.yaml" -- 33 "two words"');
    expect(m.rootfs?.file).toBe('rootfs.cpio');
    expect(m.rootfs?.command).toEqual(['/app/echoexit']);
    expect(m.rootfs?.files).toContainEqual({ path: '/etc/note.txt', kind: 'file', size: 21, mode: '0644' });
    expect(m.rootfs?.files.find((f) => f.path === '/app/echoexit')?.kind).toBe('file');
    const cpio = await readFile(join(r.outDir, 'rootfs.cpio'));
    expect(cpio.subarray(0, 6).toString()).toBe('070701');
    expect(cpio.length).toBe(m.rootfs?.size);

    let out = '';
    const run = await runImage(r.outDir, {
      timeoutSeconds: 120,
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
    });
    expect(out.replaceAll('\r', '')).toContain('arg 1: [33]\narg 2: [two words]\nECHO_VAR=[from app.yaml]\n');
    expect(run.status).toBe(33);
  });

  it('an unchanged rebuild keeps the archive; a changed file rewrites it', async () => {
    const again = await buildApp(appFile, { cacheDir: join(dir, 'cache'), jobs: 2 });
    expect(again.upToDate).toBe(true);
    await writeFile(join(dir, 'note.txt'), 'changed content, longer than before\n');
    const changed = await buildApp(appFile, { cacheDir: join(dir, 'cache'), jobs: 2 });
    expect(changed.upToDate).toBe(false);
    expect(changed.compiled).toBe(0);
    expect(changed.manifest.rootfs?.files).toContainEqual({
      path: '/etc/note.txt',
      kind: 'file',
      size: 36,
      mode: '0644',
    });
  });

  it('osvb run --dry-run passes the archive as -initrd and inspect lists the rootfs', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    const img = join(dir, '.osvb/echoexit');
    expect(await main(['node', 'osvb', 'run', img, '--dry-run'])).toBe(0);
    expect(out.join('')).toContain(` -kernel ${img}/kernel.elf -initrd ${img}/rootfs.cpio -append `);
    out.length = 0;
    expect(await main(['node', 'osvb', 'inspect', img])).toBe(0);
    // The program, its directory and the minimal /etc (passwd, group, hosts, nsswitch.conf).
    expect(out.join('')).toMatch(/^rootfs {4}rootfs\.cpio: \d+ bytes, 6 files; runs \/app\/echoexit$/m);
  });
});
