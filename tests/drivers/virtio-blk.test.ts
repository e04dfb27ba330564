// virtio-blk end to end. Host side: app.yaml disks:, --disk, the QEMU
// arguments and the errors. Guest side, booted under QEMU: a program in the
// guest (programs/blkcheck.c) fills /dev/vda with a pattern that the test
// then finds in the disk file, prints the sha256 of a disk the test filled
// with random bytes, and gets EPERM writing a read-only disk: on q35
// (modern virtio-pci, MSI-X), microvm (virtio-mmio found through ACPI; v1
// and v2) and pc (legacy virtio-pci with MSI-X, and with shared INTx); on
// q35 with 2 CPUs the disk has a queue per CPU and 4 threads write at once.
// The virtio and block self-tests (bad used-ring entries from a fake device,
// the block layer over a RAM disk) run in a kernel with a real disk attached.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/appspec.js';
import { checkDisks, parseDiskOption } from '../../src/config/disks.js';
import { collectRequests } from '../../src/config/requests.js';
import { virtioBlk } from '../../src/drivers/virtio-blk.js';
import { ConfigError, RunError } from '../../src/errors.js';
import { prepareRun, runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { tempDir } from '../kernel/helpers.js';

const PROGRAM = resolve(import.meta.dirname, 'programs/blkcheck.c');
const PATTERN_SIZE = 2 << 20;
const RANDOM_SIZE = (3 << 20) + 3 * 512;

/** The bytes blkcheck's "write DEV SEED" leaves on the disk. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (Math.floor(i / 512) * 31 + (i % 512) * 7 + seed) & 0xff;
  return b;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('disks in app.yaml and on the command line', () => {
  const yaml = (disks: string) => `name: d\ndisks:\n${disks}`;

  it('reads disks: with defaults, paths relative to app.yaml', () => {
    const spec = parseAppSpec(
      yaml('  - file: a.img\n  - { file: /b.qcow2, format: qcow2, interface: nvme, readonly: true }\n'),
      'app.yaml',
      '/srv',
    );
    expect(spec.disks?.map(({ loc: _, ...d }) => d)).toEqual([
      { file: '/srv/a.img', format: 'raw', interface: 'virtio', readonly: false },
      { file: '/b.qcow2', format: 'qcow2', interface: 'nvme', readonly: true },
    ]);
    expect(spec.disks?.[0]?.loc).toEqual({ file: 'app.yaml', line: 3, column: 5 });
  });

  it('rejects malformed disks: naming the line', () => {
    const bad: [string, RegExp][] = [
      [
        '  - { file: a, interface: scsi }\n',
        /app.yaml:3:.*disks\[0\]\.interface: "scsi" is not one of virtio, nvme/,
      ],
      ['  - { format: raw }\n', /disks\[0\]: missing required key `file`/],
      ['  - { file: a, readonly: yes please }\n', /disks\[0\]\.readonly: expected true or false/],
      ['  - { file: a, fromat: raw }\n', /unknown key `disks\[0\]\.fromat`.*did you mean format/],
      ['  - a.img\n', /disks\[0\]: expected a map/],
    ];
    for (const [text, re] of bad) {
      let err: unknown;
      try {
        parseAppSpec(yaml(text), 'app.yaml', '/srv');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(`${e.loc?.file}:${e.loc?.line}: ${e.message}; ${e.hint ?? ''}`).toMatch(re);
    }
  });

  it('parses --disk FILE[,if=][,ro][,format=]', () => {
    expect(parseDiskOption('x.img', '/w')).toMatchObject({
      file: '/w/x.img',
      interface: 'virtio',
      readonly: false,
      format: 'raw',
    });
    expect(parseDiskOption('/d/y,if=nvme,ro,format=qcow2', '/w')).toMatchObject({
      file: '/d/y',
      interface: 'nvme',
      readonly: true,
      format: 'qcow2',
    });
    expect(() => parseDiskOption('x,if=ide')).toThrow(/--disk x,if=ide: if: "ide" is not one of/);
    expect(() => parseDiskOption('x,rw')).toThrow(/unknown option "rw"/);
    expect(() => parseDiskOption(',ro')).toThrow(/no file named/);
  });

  it('puts virtio disks on virtio-mmio on microvm and virtio-pci elsewhere; skips other interfaces', () => {
    const disks = [
      parseDiskOption('/a,,b.img', '/'),
      parseDiskOption('/n.img,if=nvme', '/'),
      parseDiskOption('/c.img,ro', '/'),
    ];
    const ctx = { exitRecordPath: '/x', disks };
    expect(virtioBlk.qemuArgs({ ...ctx, machine: 'microvm' })).toEqual([
      '-drive',
      'file=/a,,b.img,if=none,id=disk0,format=raw',
      '-device',
      'virtio-blk-device,drive=disk0',
      '-drive',
      'file=/c.img,if=none,id=disk2,format=raw,readonly=on',
      '-device',
      'virtio-blk-device,drive=disk2',
    ]);
    expect(virtioBlk.qemuArgs({ ...ctx, machine: 'q35' })[3]).toBe('virtio-blk-pci,drive=disk0');
  });

  it('names a missing disk file in one error', async () => {
    const dir = await tempDir();
    const spec = parseAppSpec(yaml('  - file: nothere.img\n'), join(dir, 'app.yaml'), dir);
    expect(() => checkDisks(spec.disks ?? [])).toThrow(RunError);
    expect(() => checkDisks(spec.disks ?? [])).toThrow(`disk file ${join(dir, 'nothere.img')} not found`);
  });

  it('requests the driver and the machine transport for virtio disks', () => {
    const symbols = (profile: string) => {
      const spec = parseAppSpec(
        `name: d\nkernel:\n  profile: ${profile}\ndisks:\n  - file: a\n`,
        'app.yaml',
        '/',
      );
      const profileStub = { name: profile, lines: [] } as unknown as Parameters<typeof collectRequests>[2];
      return collectRequests(
        spec,
        { kind: 'none' } as Parameters<typeof collectRequests>[1],
        profileStub,
      ).map((r) => r.symbol);
    };
    expect(symbols('microvm')).toEqual(['VIRTIO_BLK', 'VIRTIO_MMIO']);
    expect(symbols('q35')).toEqual(['VIRTIO_BLK', 'VIRTIO_PCI']);
  });
});

describe('virtio-blk under QEMU', () => {
  let dir: string;
  let prog: string;
  let randomDisk: Buffer;

  beforeAll(async () => {
    dir = await tempDir('osvb-virtio-blk-');
    prog = join(dir, 'blkcheck');
    execFileSync('musl-gcc', ['-static', '-O2', '-o', prog, PROGRAM]);
    randomDisk = randomBytes(RANDOM_SIZE);
  });

  /** Fresh disks for one boot: a (zeros, written by the guest), b (random), c (read-only). */
  async function disks(tag: string): Promise<{ a: string; b: string; c: string }> {
    const d = { a: join(dir, `${tag}-a.raw`), b: join(dir, `${tag}-b.raw`), c: join(dir, `${tag}-c.raw`) };
    await writeFile(d.a, Buffer.alloc(PATTERN_SIZE));
    await writeFile(d.b, randomDisk);
    await writeFile(d.c, Buffer.alloc(1 << 20, 0x11));
    return d;
  }

  async function build(
    tag: string,
    profile: string,
    d: { a: string; b: string; c: string },
  ): Promise<string> {
    const app = join(dir, `${tag}.yaml`);
    await writeFile(
      app,
      [
        `name: ${tag}`,
        'app:',
        `  exec: ${prog}`,
        '  args: [info, /dev/vda, write, /dev/vda, "7", sha, /dev/vda, sha, /dev/vdb, ro, /dev/vdc]',
        'kernel:',
        `  profile: ${profile}`,
        '  cmdline: osvb.loglevel=6',
        'disks:',
        `  - file: ${d.a}`,
        `  - { file: ${d.b}, format: raw }`,
        `  - { file: ${d.c}, readonly: true }`,
        '',
      ].join('\n'),
    );
    const outDir = join(dir, 'img', tag);
    await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
    return outDir;
  }

  /** What every boot must show: the pattern in a's file, b's hash, c refused. */
  async function expectDisksChecked(out: string, d: { a: string }): Promise<void> {
    expect(out).toContain(
      `/dev/vda size=${PATTERN_SIZE} ssz=512 blk=1 st_size=${PATTERN_SIZE} end=${PATTERN_SIZE}`,
    );
    expect(out).toContain(`/dev/vda wrote ${PATTERN_SIZE}`);
    expect(out).toContain(`/dev/vdb sha256 ${sha256(randomDisk)}`);
    expect(out).toContain('/dev/vdc write -1 errno 1 (Operation not permitted)');
    expect(out).toContain('blkcheck: ok');
    const written = await readFile(d.a);
    expect(written.length).toBe(PATTERN_SIZE);
    expect(sha256(written)).toBe(sha256(pattern(PATTERN_SIZE, 7)));
    expect(out).toContain(`/dev/vda sha256 ${sha256(pattern(PATTERN_SIZE, 7))}`);
  }

  async function boot(imageDir: string): Promise<{ status: number; out: string }> {
    let out = '';
    const r = await runImage(imageDir, {
      timeoutSeconds: 150,
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        out += s;
      },
    });
    return { status: r.status, out: out.replaceAll('\r', '') };
  }

  /** Boot with QEMU's argv edited (device properties osvb does not expose). */
  async function bootEdited(imageDir: string, edit: (argv: string[]) => string[]) {
    const prep = await prepareRun(imageDir, { stdout: () => {}, stderr: () => {} });
    const argv = edit(prep.argv);
    const r = await execa(argv[0]!, argv.slice(1), {
      reject: false,
      timeout: 150_000,
      all: true,
      stdin: 'ignore',
    });
    const record = await readFile(prep.spec.exitRecordPath, 'utf8').catch(() => '');
    const m = /osvb-exit: (\d+)/.exec(record);
    return { status: m ? Number(m[1]) : -1, out: (r.all ?? '').replaceAll('\r', '') };
  }

  it('q35: modern virtio-pci with an MSI-X vector per queue', async () => {
    const d = await disks('q35');
    const b = await boot(await build('q35', 'q35', d));
    expect(b.out).toMatch(/virtio0: virtio-blk, features 0x1[0-9a-f]{8}\n/); // VERSION_1 (bit 32)
    await expectDisksChecked(b.out, d);
    expect(b.status).toBe(0);
  }, 400_000);

  it('q35 with 2 CPUs: one queue per CPU (MSI-X vector each), written from 4 threads at once', async () => {
    const disk = join(dir, 'mq.raw');
    await writeFile(disk, Buffer.alloc(PATTERN_SIZE));
    const app = join(dir, 'mq.yaml');
    await writeFile(
      app,
      [
        'name: mq',
        'app:',
        `  exec: ${prog}`,
        '  args: [mtwrite, /dev/vda, "5", "4", sha, /dev/vda]',
        'kernel:',
        '  profile: q35',
        '  cmdline: osvb.loglevel=6',
        'run:',
        '  cpus: 2',
        'disks:',
        `  - file: ${disk}`,
        '',
      ].join('\n'),
    );
    const outDir = join(dir, 'img', 'mq');
    await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
    const b = await boot(outDir);
    expect(b.out).toMatch(/block: vda: 2 MiB, 512-byte blocks, 2 queues/);
    expect(b.out).toContain('/dev/vda wrote from 4 threads');
    expect(b.out).toContain(`/dev/vda sha256 ${sha256(pattern(PATTERN_SIZE, 5))}`);
    expect(b.out).toContain('blkcheck: ok');
    expect(b.status).toBe(0);
    expect(sha256(await readFile(disk))).toBe(sha256(pattern(PATTERN_SIZE, 5)));
  }, 400_000);

  it('microvm: virtio-mmio devices from ACPI, version 1 and version 2', async () => {
    const d = await disks('mvm');
    const image = await build('mvm', 'microvm', d);
    const v1 = await boot(image);
    expect(v1.out).toMatch(/virtio-mmio: 0x[0-9a-f]+ irq \d+ \(ACPI\): device id 2, version 1/);
    await expectDisksChecked(v1.out, d);
    expect(v1.status).toBe(0);

    await writeFile(d.a, Buffer.alloc(PATTERN_SIZE));
    const v2 = await bootEdited(image, (argv) => [...argv, '-global', 'virtio-mmio.force-legacy=false']);
    expect(v2.out).toMatch(/virtio-mmio: 0x[0-9a-f]+ irq \d+ \(ACPI\): device id 2, version 2/);
    await expectDisksChecked(v2.out, d);
    expect(v2.status).toBe(0);
  }, 400_000);

  it('microvm without ACPI: devices from virtio_mmio.device= on the command line', async () => {
    const d = await disks('mvm-noacpi');
    const image = await build('mvm-noacpi', 'microvm', d);
    const b = await bootEdited(image, (argv) =>
      argv.map((a) => (a === 'microvm' || a.startsWith('microvm,') ? `${a},acpi=off` : a)),
    );
    expect(b.out).toMatch(/virtio-mmio: 0x[0-9a-f]+ irq \d+ \(command line\): device id 2/);
    await expectDisksChecked(b.out, d);
    expect(b.status).toBe(0);
  }, 400_000);

  it('qcow2: the guest writes through the qcow2 driver of QEMU; the image converted to raw holds the pattern', async () => {
    const qcow = join(dir, 'q.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, String(PATTERN_SIZE)]);
    const app = join(dir, 'qcow.yaml');
    await writeFile(
      app,
      [
        'name: qcow',
        'app:',
        `  exec: ${prog}`,
        '  args: [write, /dev/vda, "9", info, /dev/vda]',
        'disks:',
        `  - { file: ${qcow}, format: qcow2 }`,
        '',
      ].join('\n'),
    );
    const outDir = join(dir, 'img', 'qcow');
    await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
    const b = await boot(outDir);
    expect(b.out).toContain('blkcheck: ok');
    expect(b.status).toBe(0);
    const raw = join(dir, 'q.raw');
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow, raw]);
    expect(sha256(await readFile(raw))).toBe(sha256(pattern(PATTERN_SIZE, 9)));
  }, 400_000);

  it('pc: legacy virtio-pci (disable-modern=on), with MSI-X and with shared INTx', async () => {
    const d = await disks('pc');
    const image = await build('pc', 'pc', d);
    const b = await bootEdited(image, (argv) =>
      argv.map((a) =>
        a === 'virtio-blk-pci,drive=disk0'
          ? 'virtio-blk-pci,disable-modern=on,drive=disk0'
          : a.startsWith('virtio-blk-pci,')
            ? a.replace('virtio-blk-pci,', 'virtio-blk-pci,disable-modern=on,vectors=0,')
            : a,
      ),
    );
    expect(b.out.match(/virtio-blk, features 0x[0-9a-f]{1,8} \(legacy\)/g)?.length).toBe(3);
    await expectDisksChecked(b.out, d);
    expect(b.status).toBe(0);
  }, 400_000);

  it('self-tests: bad used-ring entries are logged and dropped; the block layer over a RAM disk', async () => {
    const d = await disks('st');
    const app = join(dir, 'st.yaml');
    await writeFile(
      app,
      [
        'name: st',
        'kernel:',
        '  profile: microvm',
        '  config:',
        '    SELFTEST: y',
        '  cmdline: osvb.selftest=virtio*,block*',
        'disks:',
        `  - file: ${d.a}`,
        '',
      ].join('\n'),
    );
    const outDir = join(dir, 'img', 'st');
    await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
    const b = await boot(outDir);
    for (const t of [
      'virtio.vring_bad_used',
      'virtio.vring_bad_used_indirect',
      'virtio.vring_full',
      'virtio.vring_desc_rewrite',
      'block.rw',
      'block.bcache',
      'block.names',
    ]) {
      expect(b.out).toContain(`selftest: ${t} ... ok`);
    }
    expect(b.out).toMatch(/used entry with id 1000 out of range; dropped/);
    expect(b.out).toMatch(/claims 4609 bytes written into 513; length dropped/);
    expect(b.out).toContain('selftest: 7 passed, 0 failed');
    expect(b.status).toBe(0);
  }, 400_000);
});
