// The NVMe driver under QEMU q35 (TCG): the kernel's nvme.* self-tests run
// against QEMU's emulated controller on disk files this test prepares, and
// the bytes the guest wrote are checked here, on the host. The fake-controller
// self-tests (bad completions dropped, timeouts, PRP lists) run in the same boot.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareRun, runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { tempDir } from '../kernel/helpers.js';

let dir: string;
let image: string;

/** What the guest expects at byte i of the disk (modules/nvme/tests/nvme_hw_test.c: disk_byte). */
const diskByte = (i: number): number => (i * 7 + Math.floor(i / 512)) & 0xff;
/** What the guest writes: byte j of write k (nvme_hw_test.c: pattern). */
const pattern = (k: number, j: number): number => (j * 13 + k * 41 + Math.floor(j / 4096)) & 0xff;

function hostDisk(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = diskByte(i);
  return b;
}

/** Boot the image with these NVMe disks (osvb run's own path) and the named self-tests. */
async function boot(
  disks: string[],
  tests: string,
): Promise<{ out: string; status: number; argv: string[] }> {
  let out = '';
  const r = await runImage(image, {
    disks: disks.map((file) => ({ file, format: 'raw', interface: 'nvme', readonly: false })),
    append: `osvb.selftest=${tests} osvb.loglevel=6`,
    timeoutSeconds: 120,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      out += t;
    },
  });
  return { out: out.replaceAll('\r', ''), status: r.status, argv: r.argv };
}

beforeAll(async () => {
  dir = await tempDir('osvb-nvme-');
  const app = join(dir, 'app.yaml');
  await writeFile(
    app,
    'name: nvme-selftest\nkernel:\n  profile: q35\n  config:\n    SELFTEST: y\n    NVME: y\n',
  );
  image = join(dir, 'img');
  await buildApp(app, { outDir: image, cacheDir: join(dir, 'cache'), jobs: 2 });
}, 300_000);

describe('NVMe on q35', () => {
  it('reads the host disk, writes patterns the host finds (PRP lists, unaligned, split), survives a reset', async () => {
    const disk = join(dir, 'disk.img');
    const disk2 = join(dir, 'disk2.img');
    const before = hostDisk(8 << 20);
    await writeFile(disk, before);
    await writeFile(disk2, Buffer.alloc(1 << 20, 0x55));

    const b = await boot([disk, disk2], 'nvme.*,nvme.hw,nvme.hw_timeout');
    expect(b.out).toContain('nvme0n1: 16384 blocks of 512 bytes');
    expect(b.out).toContain('nvme0n2: 2048 blocks of 512 bytes');
    expect(b.out).toMatch(/nvme0: QEMU NVMe Ctrl \(serial osvb-nvme0\), 1 I\/O queue of \d+, 2 namespaces/);
    for (const t of [
      'nvme.hw',
      'nvme.hw_timeout',
      'nvme.prp',
      'nvme.queue_io',
      'nvme.queue_wrap',
      'nvme.bad_completion',
      'nvme.timeout',
    ]) {
      expect(b.out).toContain(`selftest: ${t} ... ok`);
    }
    expect(b.out).toContain('selftest: 7 passed, 0 failed');
    // The fake controller's bad completions were logged and dropped, not followed.
    expect(b.out).toContain('nvme: queue 1: dropped a completion for a command id not in flight (cid 0xfff');
    expect(b.out).toContain('dropped a completion with an SQ head outside the submitted entries');
    // The forced timeout: the watchdog reset the controller, the late answer was dropped.
    expect(b.out).toContain('nvme0: command timed out; resetting the controller');
    expect(b.out).toMatch(/nvme: queue 1: dropped a completion for a command that had timed out/);
    expect(b.status).toBe(0);
    // One controller, a namespace per disk, in order.
    expect(b.argv.join(' ')).toMatch(
      /-device nvme,id=osvb-nvme0,serial=osvb-nvme0 -drive file=\S+disk\.img,if=none,id=disk0,format=raw -device nvme-ns,drive=disk0,bus=osvb-nvme0,nsid=1 -drive \S+ -device nvme-ns,drive=disk1,bus=osvb-nvme0,nsid=2/,
    );

    const after = await readFile(disk);
    // 5 pages + 512 bytes at LBA 2048 (PRP1 at an offset, then a PRP list).
    const w1 = after.subarray(2048 * 512, 2048 * 512 + 5 * 4096 + 512);
    expect(w1.equals(Buffer.from(Array.from({ length: w1.length }, (_, j) => pattern(1, j))))).toBe(true);
    // 1 KiB at byte 1536: not page aligned in the file; its neighbours untouched.
    expect(after.subarray(1536, 2560).equals(Buffer.alloc(1024, 0xa5))).toBe(true);
    expect(after.subarray(0, 1536).equals(before.subarray(0, 1536))).toBe(true);
    expect(after.subarray(2560, 2048 * 512).equals(before.subarray(2560, 2048 * 512))).toBe(true);
    // 1 MiB at 2 MiB: split at the controller's 512 KiB transfer limit.
    const w3 = after.subarray(2 << 20, 3 << 20);
    expect(w3.equals(Buffer.from(Array.from({ length: w3.length }, (_, j) => pattern(3, j))))).toBe(true);
    expect(after.subarray(3 << 20).equals(before.subarray(3 << 20))).toBe(true);
    // The second namespace got its marker at LBA 0.
    const n2 = await readFile(disk2);
    expect(n2.subarray(0, 12).toString('latin1')).toBe('osvb nvme0n2');
    expect(n2.subarray(512).equals(Buffer.alloc((1 << 20) - 512, 0x55))).toBe(true);
  }, 180_000);

  it('gives each of 2 CPUs its own I/O queue pair and MSI-X vector (writes from both checked on the host)', async () => {
    const app = join(dir, 'smp.yaml');
    await writeFile(
      app,
      'name: nvme-smp\nkernel:\n  profile: q35\n  config:\n    SELFTEST: y\n    NVME: y\nrun:\n  cpus: 2\n',
    );
    const smp = join(dir, 'img-smp');
    await buildApp(app, { outDir: smp, cacheDir: join(dir, 'cache'), jobs: 2 });
    const disk = join(dir, 'smp.img');
    const before = hostDisk(8 << 20);
    await writeFile(disk, before);
    let out = '';
    const r = await runImage(smp, {
      disks: [{ file: disk, format: 'raw', interface: 'nvme', readonly: false }],
      append: 'osvb.selftest=nvme.hw_percpu osvb.loglevel=6',
      timeoutSeconds: 150,
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        out += t;
      },
    });
    expect(out).toContain('2 I/O queues of');
    expect(out).toContain('selftest: nvme.hw_percpu ... ok');
    expect(r.status).toBe(0);
    const after = await readFile(disk);
    for (const cpu of [0, 1]) {
      const off = (8192 + cpu * 512) * 512;
      const w = after.subarray(off, off + (256 << 10));
      expect(w.equals(Buffer.from(Array.from({ length: w.length }, (_, j) => pattern(20 + cpu, j))))).toBe(
        true,
      );
    }
    expect(after.subarray(0, 4 << 20).equals(before.subarray(0, 4 << 20))).toBe(true);
  }, 400_000);

  it('falls back to the shared INTx line when the device has too few MSI-X vectors', async () => {
    const disk = join(dir, 'intx.img');
    await writeFile(disk, hostDisk(8 << 20));
    const prep = await prepareRun(image, {
      disks: [{ file: disk, format: 'raw', interface: 'nvme', readonly: false }],
      append: 'osvb.selftest=nvme.hw,nvme.hw_timeout osvb.loglevel=6',
      stdout: () => {},
      stderr: () => {},
    });
    // One MSI-X entry: the driver needs two (admin + a queue), so it uses INTx.
    const argv = prep.argv
      .slice(1)
      .map((a) => (a.startsWith('nvme,id=osvb-nvme0') ? `${a},msix_qsize=1` : a));
    expect(argv.some((a) => a.endsWith('msix_qsize=1'))).toBe(true);
    const r = await execa(prep.spec.qemuPath, argv, { reject: false, timeout: 150_000, all: true });
    const out = (r.all ?? '').replaceAll('\r', '');
    const record = await readFile(prep.spec.exitRecordPath, 'latin1').catch(() => '');
    await rm(prep.spec.exitRecordPath, { force: true });
    expect(out).toContain('selftest: nvme.hw ... ok');
    expect(out).toContain('selftest: nvme.hw_timeout ... ok');
    expect(record.trim()).toBe('osvb-exit: 0');
    const after = await readFile(disk);
    expect(after.subarray(1536, 2560).equals(Buffer.alloc(1024, 0xa5))).toBe(true);
  }, 180_000);

  it('refuses NVMe disks on microvm with one clear error, before starting QEMU', async () => {
    const disk = join(dir, 'm.img');
    await writeFile(disk, Buffer.alloc(1 << 20));
    const run = prepareRun(image, {
      machine: 'microvm',
      disks: [{ file: disk, format: 'raw', interface: 'nvme', readonly: false, loc: { file: '--disk' } }],
      stdout: () => {},
      stderr: () => {},
    });
    await expect(run).rejects.toThrow(
      `disk ${disk}: interface nvme needs a PCI machine (q35 or pc), and this image runs on microvm`,
    );
  });
});
