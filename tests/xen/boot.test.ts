// The Xen PVH guest booted for real, under QEMU's Xen emulation
// (-accel kvm,xen-version=...: QEMU plays Xen's hypercalls, event channels,
// grant tables, xenstore and PV console). That needs a KVM that runs guests;
// the accelerator probe decides, and without one the test is skipped with the
// probe's reason (these machines: README's "not boot-tested here").

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { kvmVerdict } from '../../src/hypervisor/accel.js';
import { buildApp } from '../../src/kernel/app.js';
import { findQemu } from '../../src/kernel/toolchain.js';
import { tempDir } from '../kernel/helpers.js';

const dir = await tempDir('osvb-xen-boot-');
const qemu = await findQemu({ env: process.env, cacheDir: join(dir, 'tools') });
const kvm = await kvmVerdict({ qemu, cacheDir: join(dir, 'accel') });
const title = kvm.ok
  ? "boots under QEMU's Xen emulation (KVM works here)"
  : `boots under QEMU's Xen emulation: skipped, no working KVM (${kvm.reason})`;

describe.skipIf(!kvm.ok)(title, () => {
  it('detects Xen, keeps its code, reaches xenstore and exits through the PV console record', async () => {
    const app = join(dir, 'app.yaml');
    await writeFile(
      app,
      'name: xenguest\nkernel:\n  config:\n    SELFTEST: y\n    PLATFORM_XEN: y\n  cmdline: osvb.selftest=all osvb.loglevel=6\n',
    );
    const img = join(dir, 'img');
    await buildApp(app, { outDir: img, cacheDir: join(dir, 'cache'), jobs: 2 });
    const consoleFile = join(dir, 'console.txt');
    const r = await execa(
      qemu.path,
      [
        '-M',
        'pc',
        '-accel',
        'kvm,xen-version=0x40011,kernel-irqchip=split',
        '-cpu',
        'host',
        '-m',
        '256',
        '-nodefaults',
        '-display',
        'none',
        '-serial',
        'none', // no UART: the kernel must use the PV console
        '-chardev',
        `file,id=xc,path=${consoleFile}`,
        '-device',
        'xen-console,chardev=xc',
        '-device',
        'isa-debug-exit,iobase=0xf4,iosize=0x04',
        '-kernel',
        join(img, 'kernel.elf'),
        '-append',
        'osvb.selftest=all osvb.loglevel=6',
      ],
      { reject: false, timeout: 120_000 },
    );
    const out = await readFile(consoleFile, 'latin1');
    expect(out).toMatch(/xen: Xen 4\.17, upcall vector \d+/);
    // QEMU may offer KVM's leaves too (at 0x40000100): then kvm stays as well.
    const disposed = /hypervisor: disposed (.*): \d+ bytes freed/.exec(out);
    expect(disposed?.[1]).toMatch(/hyperv \d+, vmware \d+/);
    expect(disposed?.[1]).not.toMatch(/xen/);
    expect(out).toMatch(/time: clock xen/);
    expect(out).toMatch(/xenstore: connected, domain \d+/);
    expect(out).toMatch(/selftest: \d+ passed, 0 failed/);
    expect(out).toContain('osvb-exit: 0\n');
    expect(r.exitCode).toBe(1); // isa-debug-exit: status 0 * 2 + 1
  }, 240_000);
});
