// novm-style boot (issue 13): no PCI, no ACPI, the devices named on the kernel
// command line, the root filesystem a host directory over 9p. QEMU microvm
// with acpi=off loads the bzImage through the Linux boot protocol (qboot) and
// appends a `virtio_mmio.device=SIZE@ADDR:IRQ` word per virtio-mmio device to
// the command line, as Linux and novm expect (with no ACPI tables, the only
// description of the devices); the kernel finds the 9p device there and boots
// busybox from the share.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';

const example = resolve(import.meta.dirname, '../../examples/busybox');

describe('novm-style boot: microvm, acpi=off, Linux boot protocol, 9p root', () => {
  let dir: string;
  let outDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'osvb-novm-'));
    cpSync(example, dir, { recursive: true });
    const yaml = readFileSync(join(dir, 'app.yaml'), 'utf8').replace(
      /^name: busybox$/m,
      'name: busybox\nrootfs: 9p\nkernel:\n  cmdline: osvb.loglevel=6',
    );
    writeFileSync(join(dir, 'app.yaml'), yaml);
    outDir = (await buildApp(join(dir, 'app.yaml'), { jobs: 2 })).outDir;
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('boots busybox from the host directory with the 9p device found on the command line', async () => {
    const prep = await prepareRun(outDir, { boot: 'linux', stdout: () => {}, stderr: () => {} });
    const argv = prep.argv.map((a, i) =>
      prep.argv[i - 1] === '-M' && a.startsWith('microvm') ? `${a},acpi=off` : a,
    );
    expect(argv.join(' ')).toMatch(/-M microvm[^ ]*,acpi=off/);
    expect(argv).not.toContain('-initrd');
    expect(argv[argv.indexOf('-kernel') + 1]).toMatch(/bzImage$/);
    const r = await execa(argv[0]!, argv.slice(1), {
      reject: false,
      timeout: 240_000,
      all: true,
      stdin: 'ignore',
    });
    const out = (r.all ?? '').replaceAll('\r', '');
    const record = await readFile(prep.spec.exitRecordPath, 'utf8').catch(() => '');
    expect(out).toMatch(/osvb: booting \(linux, \d+ MiB RAM\)/);
    expect(out).toContain('acpi: no RSDP; the platform has no ACPI tables');
    expect(out).toMatch(/virtio-mmio: 0x[0-9a-f]+ irq \d+ \(command line\): device id 9/);
    expect(out).toContain('9p: root is the root filesystem');
    expect(out).toContain('busybox: all applets ran');
    expect(record).toMatch(/osvb-exit: 0\b/);
  }, 600_000);
});
