// 9p volumes end to end: a guest program writes, renames (across directories),
// truncates, links and deletes files in a host directory shared read-write,
// hashes host files (also from two threads at once, 1 MiB reads), maps one
// privately, takes fcntl and flock locks, statfs's both volumes, binds a Unix
// socket there, and is refused (EROFS) on a read-only one; the test checks the host directories
// afterwards. Plus the kernel's 9P reply checks fed lying replies (selftest).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVolumeOption, volumeCmdline } from '../../src/config/volumes.js';
import { runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';

const osvb = resolve(import.meta.dirname, '../../bin/osvb.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'osvb-volumes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('-v HOST:/GUEST[:ro]', () => {
  it('parses the host path, guest path and :ro', () => {
    expect(parseVolumeOption('data:/data')).toMatchObject({
      host: resolve('data'),
      guest: '/data',
      readonly: false,
    });
    expect(parseVolumeOption('/srv/x:/mnt/x/:ro')).toMatchObject({
      host: '/srv/x',
      guest: '/mnt/x',
      readonly: true,
    });
    expect(() => parseVolumeOption('data')).toThrow(/expected HOST_DIR:\/GUEST_PATH/);
    expect(() => parseVolumeOption('data:relative')).toThrow(/expected HOST_DIR/);
    expect(() => parseVolumeOption('data:/')).toThrow(/cannot replace the root/);
    expect(() => parseVolumeOption('data:/proc/x')).toThrow(/inside \/proc/);
    expect(() => parseVolumeOption('data:/a/../b')).toThrow(/".."/);
  });

  it('becomes 9p.mount words on the kernel command line', () => {
    expect(
      volumeCmdline([
        { host: '/a', guest: '/data', readonly: false },
        { host: '/b', guest: '/ro', readonly: true },
      ]),
    ).toBe('9p.mount=vol0:/data 9p.mount=vol1:/ro:ro');
  });
});

describe('a 9p volume under QEMU', () => {
  let app: string;
  let data: string;
  let ro: string;
  let hostBin: Buffer;
  let big: Buffer;

  beforeAll(async () => {
    app = join(dir, 'app');
    data = join(dir, 'data');
    ro = join(dir, 'ro');
    for (const d of [app, data, ro]) mkdirSync(d);
    execFileSync('musl-gcc', [
      '-static',
      '-O1',
      '-o',
      join(app, 'volume'),
      resolve(import.meta.dirname, 'programs/volume.c'),
    ]);
    hostBin = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + (i >> 9)) & 0xff));
    big = Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => (i * 7 + (i >> 13)) & 0xff));
    writeFileSync(join(data, 'host.bin'), hostBin);
    writeFileSync(join(ro, 'big.bin'), big);
    for (let d = 0; d < 90; d++) {
      mkdirSync(join(ro, 'tree', `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(ro, 'tree', `d${d}`, `f${f}`), '');
    }
    writeFileSync(
      join(app, 'app.yaml'),
      'name: vol\napp:\n  exec: volume\nvolumes:\n  - { host: ../data, guest: /data }\n  - { host: ../ro, guest: /ro, readonly: true }\nrun:\n  memory: 128M\n',
    );
  }, 120_000);

  it('changes on the rw volume reach the host; the ro volume refuses with EROFS', async () => {
    const r = await buildApp(join(app, 'app.yaml'), { jobs: 2 });
    expect(r.manifest.modules.map((m) => m.name)).toEqual(expect.arrayContaining(['9p', 'virtio_9p']));
    let out = '';
    const run = await runImage(r.outDir, {
      timeoutSeconds: 240,
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
    });
    out = out.replaceAll('\r', '');
    expect(out).toContain(`sha256 /data/host.bin ${sha(hostBin)} 300000\n`);
    expect(out).toContain(`sha256 /ro/big.bin ${sha(big)} 2000000\n`);
    expect(out).toContain('link -> sub/renamed.txt\n');
    expect(out).toContain('b.txt size 3\n');
    expect(out).toContain('entries 6\n'); // . .. b.txt host.bin link sub
    expect(out).toContain('ro create: Read-only file system\n');
    expect(out).toContain('ro unlink: Read-only file system\n');
    expect(out).toContain('ro write-open: Read-only file system\n');
    expect(out).toContain('tree 9090\n');
    expect(out).toContain(`parallel ${sha(big)} 2000000 | ${sha(big)} 2000000\n`);
    expect(out).toContain('statfs type 1021997 blocks yes ro 0 1\n');
    expect(out).toContain('getlk type 2\n'); // F_UNLCK: QEMU's server keeps no locks, Tgetlock says so
    expect(out).toContain('flock bad op: Invalid argument\n');
    expect(out).toContain(`mmap ${sha(hostBin)} 1\n`);
    expect(out).toContain('sock socket\n');
    expect(out).toContain('ra onXtwo\n');
    expect(out).toContain(`sha256small /ro/big.bin ${sha(big)} 2000000\n`);
    expect(out).toContain('sock open: No such device or address\n');
    expect(out).toContain(`sha256 /data/d2/inner/f ${sha(Buffer.from('moved\n'))} 6\n`);
    expect(out).toContain('volume: done\n');
    expect(run.status).toBe(0);

    expect(readFileSync(join(data, 'sub/renamed.txt'), 'utf8')).toBe('alpha\nmore\n');
    expect(readFileSync(join(data, 'b.txt'), 'utf8')).toBe('bra');
    expect(existsSync(join(data, 'a.txt'))).toBe(false);
    expect(existsSync(join(data, 'gone'))).toBe(false);
    expect(readlinkSync(join(data, 'link'))).toBe('sub/renamed.txt');
    expect(statSync(join(data, 'sub')).isDirectory()).toBe(true);
    expect(sha(readFileSync(join(ro, 'big.bin')))).toBe(sha(big));
    expect(existsSync(join(ro, 'new'))).toBe(false);
    expect(sha(readFileSync(join(data, 'host.bin')))).toBe(sha(hostBin)); // the private mapping's writes stayed
    expect(lstatSync(join(data, 'sock')).isSocket()).toBe(true);
    expect(existsSync(join(data, 'd1/inner'))).toBe(false);
    expect(readFileSync(join(data, 'ra.txt'), 'utf8')).toBe('onXtwo');
    expect(readFileSync(join(data, 'd2/inner/f'), 'utf8')).toBe('moved\n');
  }, 600_000);

  it('osvb run -v adds a volume: QEMU gets a local fsdev, the kernel a 9p.mount', () => {
    const out = execFileSync(
      'node',
      [osvb, 'run', join(app, '.osvb/vol'), '-v', `${ro}:/extra:ro`, '--dry-run'],
      { encoding: 'utf8' },
    );
    expect(out).toContain(`local,id=fs2,path=${ro},security_model=none,readonly=on`);
    expect(out).toContain('mount_tag=vol2');
    expect(out).toMatch(/9p\.mount=vol0:\/data 9p\.mount=vol1:\/ro:ro 9p\.mount=vol2:\/extra:ro/);
  });
});

describe('9P replies the kernel must refuse', () => {
  it('selftests 9p.proto and 9p.dotu: lying replies; 9P2000.u encoders and decoders', async () => {
    const st = join(dir, 'st');
    mkdirSync(st);
    writeFileSync(
      join(st, 'app.yaml'),
      'name: st9p\nkernel:\n  config:\n    SELFTEST: y\n    VFS: y\n    TMPFS: y\n    NINEP: y\n  cmdline: osvb.selftest=9p.proto,9p.dotu\n',
    );
    const r = await buildApp(join(st, 'app.yaml'), { jobs: 2 });
    let out = '';
    await runImage(r.outDir, {
      timeoutSeconds: 180,
      stdout: (s) => {
        out += s;
      },
      // The self-test report is kernel log, which osvb run gives on stderr.
      stderr: (s) => {
        out += s;
      },
    });
    expect(out.replaceAll('\r', '')).toContain('selftest: 9p.proto ... ok\n');
    // 9P2000.u (no QEMU device speaks it): stat/Rerror/Twstat/directory byte
    // vectors and a server that refuses 9P2000.L.
    expect(out.replaceAll('\r', '')).toContain('selftest: 9p.dotu ... ok\n');
    expect(out).toContain('9p: Rread of 100 bytes for a request of 64: dropped');
  }, 600_000);
});
