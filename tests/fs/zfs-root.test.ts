// The kernel's ZFS reader booted for real (QEMU, TCG here): the Python and Go
// examples boot from a ZFS root (rootfs: zfs) on virtio-blk and on NVMe; a
// pool osvb writes for `disks: [{ format: zfs, mount: /data }]`, with ZPL 4
// znodes and again with system attributes (ZPL 5), reads back
// byte for byte (lz4 and raw records, a fat-ZAP directory, symlinks short and
// long, a sparse file under three levels of block pointers); after one byte
// of a file's data block is flipped on the disk, that file gives EIO with one
// kernel log line naming its object and the rest still reads. zdb checks the
// pools first. The parsers' corrupt-input self-tests (zfs.*) run in a boot too.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RootfsEntry } from '../../src/fs/tree.js';
import { writeZfsPool } from '../../src/fs/zfs/pool.js';
import { prepareRun, type RunOptions, runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { prng, tempDir } from './helpers.js';
import { zdbVerify } from './zdb.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const hasZdb = existsSync('/usr/sbin/zdb');

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('zfs-root'));
});
afterAll(() => cleanup());

interface Boot {
  out: string;
  log: string;
  status: number;
}

async function boot(outDir: string, opts: Partial<RunOptions> = {}): Promise<Boot> {
  let out = '';
  let log = '';
  const r = await runImage(outDir, {
    timeoutSeconds: 240,
    accel: 'tcg',
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      log += s;
    },
    ...opts,
  });
  return { out: out.replaceAll('\r', ''), log: log.replaceAll('\r', ''), status: r.status };
}

/** Copy an example, make it (Go), add rootfs: zfs and the q35 profile (NVMe is a PCI device). */
async function buildExample(name: string, extra = ''): Promise<string> {
  const copy = join(dir, name);
  cpSync(join(EXAMPLES, name), copy, { recursive: true, filter: (s) => !/\/(build|\.osvb)$/.test(s) });
  if (existsSync(join(copy, 'Makefile'))) execFileSync('make', ['-s', '-C', copy], { stdio: 'ignore' });
  const yaml = readFileSync(join(copy, 'app.yaml'), 'utf8');
  writeFileSync(join(copy, 'app.yaml'), `${yaml}\nrootfs: zfs\nkernel:\n  profile: q35\n${extra}`);
  return (await buildApp(join(copy, 'app.yaml'), { jobs: 2 })).outDir;
}

describe.skipIf(!existsSync('/usr/bin/python3'))('python example on a ZFS root', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await buildExample('python');
  }, 600_000);

  it('attaches the pool read-only as the first disk and passes zfs.root, no initrd', async () => {
    const p = await prepareRun(outDir, { stdout: () => {}, stderr: () => {} });
    expect(p.argv).not.toContain('-initrd');
    expect(p.argv.join(' ')).toContain(
      `file=${join(outDir, 'rootfs.zfs')},if=none,id=disk0,format=raw,readonly=on`,
    );
    expect(p.spec.cmdline).toContain('zfs.root=vda');
    const n = await prepareRun(outDir, { stdout: () => {}, stderr: () => {}, rootDisk: 'nvme' });
    expect(n.argv.join(' ')).toContain('nvme-ns,drive=disk0');
    expect(n.spec.cmdline).toContain('zfs.root=nvme0n1');
  });

  it.skipIf(!hasZdb)('zdb finds the pool sound', () => {
    zdbVerify(outDir, 'osvb');
  });

  for (const rootDisk of ['virtio', 'nvme'] as const) {
    it(`boots and passes every check from ${rootDisk}`, async () => {
      const b = await boot(outDir, { rootDisk, logLevel: 6 });
      expect(b.out, b.log).toContain('python: all checks passed');
      expect(b.log).toMatch(/zfs: pool osvb on (vda|nvme0n1) \(txg \d+, ZPL version 4\)/);
      expect(b.status).toBe(0);
    }, 300_000);
  }
});

describe.skipIf(!existsSync('/usr/bin/go'))('Go example on a ZFS root', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await buildExample('hello-go');
  }, 600_000);

  for (const rootDisk of ['virtio', 'nvme'] as const) {
    it(`boots and passes every check from ${rootDisk}`, async () => {
      const b = await boot(outDir, { rootDisk });
      expect(b.out, b.log).toContain('hello-go: all checks passed');
      expect(b.status).toBe(0);
    }, 300_000);
  }
});

const SCRIPT = `
import hashlib, os, sys
def walk(d):
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if os.path.islink(p):
            print("link", p, os.readlink(p))
        elif os.path.isdir(p):
            if name == "many":
                names = os.listdir(p)
                with open(os.path.join(p, "entry-1234")) as f:
                    print("dir", p, len(names), f.read())
            else:
                walk(p)
        elif name == "sparse":
            st = os.stat(p)
            with open(p, "rb") as f:
                f.seek(100 * 1024 * 1024)
                mid = f.read(1)[0]
                f.seek(st.st_size - 1)
                print("sparse", st.st_size, mid, f.read(1)[0])
        else:
            try:
                with open(p, "rb") as f:
                    data = f.read()
                print("file", p, oct(os.stat(p).st_mode), hashlib.sha256(data).hexdigest())
            except OSError as e:
                print("file", p, "error", e.errno)
walk("/data")
walk("/sa")
try:
    os.stat("/data/small.txt/x")
except OSError as e:
    print("notdir", e.errno)
try:
    open("/data/new", "w")
except OSError as e:
    print("create", e.errno)
print("zfs-data: done")
`;

describe.skipIf(!existsSync('/usr/bin/python3'))('a ZFS data disk (format: zfs, mount: /data)', () => {
  let outDir: string;
  let pool: string;
  const files = new Map<string, Buffer>();
  const rnd = prng(7);
  const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

  beforeAll(async () => {
    const app = join(dir, 'data-app');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'main.py'), SCRIPT);
    const entries: RootfsEntry[] = [];
    const file = (path: string, data: Buffer, mode = 0o644): void => {
      files.set(path, data);
      entries.push({ kind: 'file', path, mode, size: data.length, data, origin: 'test' });
    };
    entries.push({ kind: 'dir', path: '/many', mode: 0o755 });
    entries.push({ kind: 'dir', path: '/sub', mode: 0o755 });
    entries.push({ kind: 'dir', path: '/sub/deeper', mode: 0o700 });
    file('/good.bin', random(300_000));
    file('/bad.bin', random(200_000));
    file('/text.txt', Buffer.from('ZFS reads this back through lz4.\n'.repeat(20_000)));
    file('/small.txt', Buffer.from('hello\n'), 0o600);
    file('/sub/deeper/nested.txt', Buffer.from('nested\n'));
    for (let i = 0; i < 2500; i++)
      entries.push({
        kind: 'file',
        path: `/many/entry-${i}`,
        mode: 0o644,
        size: String(i).length,
        data: Buffer.from(String(i)),
        origin: 'test',
      });
    const sparse = Buffer.alloc(129 * 1024 * 1024 + 5);
    sparse[100 * 1024 * 1024] = 2;
    sparse[sparse.length - 1] = 3;
    entries.push({
      kind: 'file',
      path: '/sparse',
      mode: 0o644,
      size: sparse.length,
      data: sparse,
      origin: 'test',
    });
    entries.push({ kind: 'symlink', path: '/short', mode: 0o777, target: 'small.txt', origin: 'test' });
    entries.push({
      kind: 'symlink',
      path: '/long',
      mode: 0o777,
      target: `/${'deep/'.repeat(20)}x`,
      origin: 'test',
    });
    const poolDir = join(dir, 'pool');
    mkdirSync(poolDir, { recursive: true });
    pool = join(poolDir, 'data.zfs');
    await writeZfsPool(entries, pool, { poolName: 'data', vdevPath: '/dev/vdb' });
    // The same files with system attributes (ZPL 5), as zpool create makes them.
    const pool5 = join(poolDir, 'sa.zfs');
    await writeZfsPool(entries, pool5, { poolName: 'sa', vdevPath: '/dev/vdc', zplVersion: 5 });
    if (hasZdb) {
      zdbVerify(poolDir, 'data');
      zdbVerify(poolDir, 'sa');
    }
    writeFileSync(
      join(app, 'app.yaml'),
      `name: zfsdata\napp:\n  runtime: python\n  script: main.py\nrun:\n  memory: 256M\nrootfs: zfs\nkernel:\n  profile: q35\ndisks:\n  - { file: ${pool}, format: zfs, mount: /data }\n  - { file: ${pool5}, format: zfs, mount: /sa }\n`,
    );
    outDir = (await buildApp(join(app, 'app.yaml'), { jobs: 2 })).outDir;
  }, 600_000);

  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const fileLine = (path: string, mode: number, at = '/data'): string =>
    `file ${at}${path} 0o100${mode.toString(8).padStart(3, '0')} ${sha(files.get(path)!)}`;

  it('reads every file, directory and symlink back as written; refuses to create', async () => {
    const p = await prepareRun(outDir, { stdout: () => {}, stderr: () => {} });
    expect(p.spec.cmdline).toContain('zfs.mount=vdb:/data zfs.mount=vdc:/sa');
    const b = await boot(outDir, { logLevel: 6 });
    const lines = b.out.split('\n');
    expect(lines, b.log).toContain('zfs-data: done');
    for (const at of ['/data', '/sa']) {
      expect(lines, b.out).toContain(fileLine('/good.bin', 0o644, at));
      expect(lines).toContain(fileLine('/bad.bin', 0o644, at));
      expect(lines).toContain(fileLine('/text.txt', 0o644, at));
      expect(lines).toContain(fileLine('/small.txt', 0o600, at));
      expect(lines).toContain(fileLine('/sub/deeper/nested.txt', 0o644, at));
      expect(lines).toContain(`dir ${at}/many 2500 1234`);
      expect(lines).toContain(`link ${at}/short small.txt`);
      expect(lines).toContain(`link ${at}/long /${'deep/'.repeat(20)}x`);
    }
    expect(lines.filter((l) => l === `sparse ${129 * 1024 * 1024 + 5} 2 3`)).toHaveLength(2);
    expect(b.log).toMatch(/zfs: pool sa on vdc \(txg \d+, ZPL version 5, system attributes\)/);
    expect(lines).toContain('create 30'); // EROFS
    expect(lines).toContain('notdir 20'); // ENOTDIR, and no log line
    expect(b.log).not.toMatch(/not a ZAP/);
    expect(b.status).toBe(0);
  }, 300_000);

  it('a flipped byte in a data block: EIO for that file and one log line naming it, the rest still reads', async () => {
    // bad.bin is random, so its records are stored as written: find its second record on the disk.
    const img = readFileSync(pool);
    const needle = files.get('/bad.bin')!.subarray(131072 + 1000, 131072 + 1064);
    const at = img.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    expect(img.indexOf(needle, at + 1)).toBe(-1);
    img[at + 10] = img[at + 10]! ^ 0x40;
    writeFileSync(pool, img);
    const b = await boot(outDir);
    const lines = b.out.split('\n');
    expect(lines, b.log).toContain('zfs-data: done');
    expect(lines).toContain('file /data/bad.bin error 5');
    expect(lines, b.out).toContain(fileLine('/good.bin', 0o644));
    expect(lines).toContain(fileLine('/text.txt', 0o644));
    expect(lines).toContain('dir /data/many 2500 1234');
    expect(lines).toContain(fileLine('/bad.bin', 0o644, '/sa'));
    const errs = b.log.split('\n').filter((l) => /zfs: data: .*checksum error/.test(l));
    expect(errs.length, b.log).toBeGreaterThanOrEqual(1);
    expect(errs[0]).toMatch(/dataset object \d+: checksum error \(file data, 1 of 1 copies bad\): EIO/);
    expect(b.status).toBe(0);
  }, 300_000);
});

describe('the ZFS parsers fed corrupt input (kernel self-tests)', () => {
  it('every zfs.* self-test passes', async () => {
    const app = join(dir, 'selftest');
    mkdirSync(app, { recursive: true });
    writeFileSync(
      join(app, 'app.yaml'),
      'name: zfsselftest\nkernel:\n  profile: q35\n  config:\n    SELFTEST: y\n    VIRTIO_PCI: y\n    VIRTIO_BLK: y\n    ZFS: y\n  cmdline: osvb.selftest=zfs.*\n',
    );
    const outDir = (await buildApp(join(app, 'app.yaml'), { jobs: 2 })).outDir;
    const b = await boot(outDir);
    for (const t of ['nvlist', 'decompress', 'checksum', 'uberblock', 'dnode', 'zap', 'sa', 'ditto'])
      expect(b.log).toContain(`selftest: zfs.${t} ... ok`);
    expect(b.log).toContain('selftest: 8 passed, 0 failed');
    expect(b.status).toBe(0);
  }, 600_000);
});
