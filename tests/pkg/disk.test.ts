// osvb pkg disk images: the MBR/GRUB pieces byte by byte, then real disks built
// from app.yaml booted under SeaBIOS and OVMF without -kernel (the app's output
// and exit status through the COM2 record), qemu-img check on every format,
// and no half-written output when packaging fails.

import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { bootDisk } from '../../src/pkg/boot.js';
import { hasMultibootHeader, packDisk } from '../../src/pkg/disk.js';
import { earlyConfig, grubArgs, grubConfig, kernelWords } from '../../src/pkg/grubcfg.js';
import { biosBoot } from '../../src/pkg/mbr.js';
import { findOvmf } from '../../src/pkg/tools.js';
import { tempDir } from '../kernel/helpers.js';

const HELLO = resolve(import.meta.dirname, '../../examples/hello-c');

describe('MBR and GRUB pieces', () => {
  it('patches boot.img and core.img as grub-bios-setup does', () => {
    const boot = new Uint8Array(512).fill(0x90);
    const core = new Uint8Array(1000).fill(0x11);
    // diskboot.img's default blocklist: start 2, len 0, segment 0x820
    const dv = new DataView(core.buffer);
    dv.setBigUint64(500, 2n, true);
    dv.setUint16(508, 0, true);
    dv.setUint16(510, 0x820, true);
    const r = biosBoot(boot, core, { startLba: 2048, sectors: 32768, type: 0xef }, 0x12345678);
    expect(r.mbr.readBigUInt64LE(0x5c)).toBe(1n);
    expect(r.mbr[0x64]).toBe(0xff);
    expect(r.mbr.readUInt32LE(0x1b8)).toBe(0x12345678);
    expect([...r.mbr.subarray(0x1be, 0x1ce)]).toEqual([
      0x80, 0xfe, 0xff, 0xff, 0xef, 0xfe, 0xff, 0xff, 0x00, 0x08, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00,
    ]);
    expect(r.mbr.subarray(0x1ce, 0x1fe).every((b) => b === 0)).toBe(true);
    expect(r.mbr.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(r.core.length).toBe(1024);
    expect(r.core.readBigUInt64LE(500)).toBe(2n);
    expect(r.core.readUInt16LE(508)).toBe(1);
    expect(r.core.readUInt16LE(510)).toBe(0x820);
  });

  it('refuses a core.img that does not fit before the partition', () => {
    expect(() =>
      biosBoot(
        new Uint8Array(512),
        new Uint8Array(2048 * 512),
        { startLba: 2048, sectors: 1, type: 0xef },
        1,
      ),
    ).toThrow(/does not fit/);
  });

  it('passes the command line through GRUB word for word', () => {
    const cmd = 'osvb.exec=/app/x "GREETING=hello there" -- 7 "two words" $HOME';
    expect(kernelWords(cmd)).toEqual([
      'osvb.exec=/app/x',
      'GREETING=hello there',
      '--',
      '7',
      'two words',
      '$HOME',
    ]);
    expect(grubArgs(cmd)).toBe("'osvb.exec=/app/x' 'GREETING=hello there' '--' '7' 'two words' '$HOME'");
    expect(() => grubArgs("osvb.exec=/x -- it's")).toThrow(/cannot be passed through GRUB/);
    expect(() => grubArgs('a\\b')).toThrow(/a\\\\b. cannot be passed/);
    const cfg = grubConfig({ cmdline: 'osvb.exec=/a', rootfs: true, name: 'n' });
    expect(cfg).toContain("multiboot /osvb/kernel.elf 'osvb.exec=/a'\n");
    expect(cfg).toContain('module /osvb/rootfs.cpio rootfs\nboot\n');
    expect(earlyConfig('abcd-1234')).toContain('search --no-floppy --fs-uuid --set=root abcd-1234\n');
  });

  it('finds a Multiboot header only with a valid checksum', () => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    v.setUint32(16, 0x1badb002, true);
    v.setUint32(20, 0x10003, true);
    v.setUint32(24, -(0x1badb002 + 0x10003) >>> 0, true);
    expect(hasMultibootHeader(b)).toBe(true);
    v.setUint32(24, 0, true);
    expect(hasMultibootHeader(b)).toBe(false);
  });
});

describe('disk images of a real app', () => {
  let dir: string;
  let imageDir: string;
  const out = (name: string) => join(dir, name);
  const qemu = '/usr/bin/qemu-system-x86_64';

  beforeAll(async () => {
    execFileSync('make', ['-C', HELLO, 'build/hello-static'], { stdio: 'ignore' });
    dir = await tempDir('osvb-pkg-');
    const app = join(dir, 'app.yaml');
    await writeFile(
      app,
      `name: hello-disk\napp:\n  exec: ${join(HELLO, 'build/hello-static')}\n  args: ["7", "two words", "third"]\n  env: { GREETING: hello from the host }\nrun:\n  memory: 64M\n`,
    );
    vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      // From app.yaml (microvm by default): osvb pkg builds the q35 + Multiboot variant.
      const status = await main([
        'node',
        'osvb',
        'pkg',
        '--config',
        app,
        '--format',
        'raw',
        '-o',
        out('hello.raw'),
      ]);
      expect(status).toBe(0);
    } finally {
      stdout.mockRestore();
      vi.unstubAllEnvs();
    }
    imageDir = join(dir, '.osvb', 'hello-disk-disk');
    const m = await readManifest(imageDir);
    expect(m.run.machine).toBe('q35');
    await packDisk(imageDir, { format: 'qcow2', out: out('hello.qcow2') });
  });

  const expectHello = (console: string) => {
    expect(console).toMatch(/argv\[2\]=two words\r?\n/);
    expect(console).toMatch(/env: GREETING=hello from the host\r?\n/);
    expect(console).toMatch(/exit status 7\r?\n/);
  };

  for (const format of ['raw', 'qcow2'] as const) {
    it(`boots the ${format} disk under SeaBIOS without -kernel`, async () => {
      const r = await bootDisk(
        { qemuPath: qemu, disk: out(`hello.${format}`), format, firmware: 'bios' },
        90,
      );
      expectHello(r.console);
      expect(r.outcome).toEqual({ kind: 'exit', status: 7, source: 'record' });
    });

    it(`boots the ${format} disk under OVMF (UEFI) without -kernel`, async () => {
      const ovmf = findOvmf();
      expect(ovmf, 'OVMF.fd (Debian ovmf)').toBeDefined();
      const r = await bootDisk(
        { qemuPath: qemu, disk: out(`hello.${format}`), format, firmware: 'uefi', ovmf },
        120,
      );
      expectHello(r.console);
      expect(r.outcome).toEqual({ kind: 'exit', status: 7, source: 'record' });
    });
  }

  it('writes vhdx and vmdk too, and qemu-img check passes on each format', async () => {
    for (const format of ['vhdx', 'vmdk'] as const) {
      await packDisk(imageDir, { format, out: out(`hello.${format}`) });
    }
    for (const format of ['qcow2', 'vhdx', 'vmdk'] as const) {
      const r = await execa('qemu-img', ['check', '-f', format, out(`hello.${format}`)], { reject: false });
      expect(r.exitCode, `${format}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    // raw has no metadata to check: qemu-img says so; its size must be the disk's.
    const raw = await execa('qemu-img', ['info', '--output=json', '-f', 'raw', out('hello.raw')]);
    const info = JSON.parse(raw.stdout) as { 'virtual-size': number };
    const q = await execa('qemu-img', ['info', '--output=json', '-f', 'qcow2', out('hello.qcow2')]);
    expect((JSON.parse(q.stdout) as { 'virtual-size': number })['virtual-size']).toBe(info['virtual-size']);
    const vm = await execa('qemu-img', ['info', '--output=json', '-f', 'vmdk', out('hello.vmdk')]);
    expect((JSON.parse(vm.stdout) as { 'virtual-size': number })['virtual-size']).toBe(info['virtual-size']);
  });

  it('leaves no file behind when packaging fails half way', async () => {
    // An mcopy that fails after mformat has written the partition.
    const bin = join(dir, 'badbin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'mcopy'), '#!/bin/sh\necho "mcopy: disk full" >&2\nexit 1\n');
    await chmod(join(bin, 'mcopy'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    await writeFile(out('keep.qcow2'), 'previous');
    await expect(packDisk(imageDir, { format: 'qcow2', out: out('keep.qcow2'), env })).rejects.toThrow(
      /mcopy .*disk full/,
    );
    await expect(packDisk(imageDir, { format: 'raw', out: out('new.raw'), env })).rejects.toThrow(/mcopy/);
    expect(await readFile(out('keep.qcow2'), 'utf8')).toBe('previous');
    expect(existsSync(out('new.raw'))).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('the same Multiboot kernel under osvb run (QEMU -kernel) gets the same arguments', async () => {
    // QEMU puts the kernel's file name before the command line; the kernel skips it for loader "qemu".
    const { runImage } = await import('../../src/hypervisor/run.js');
    let console = '';
    const r = await runImage(imageDir, {
      timeoutSeconds: 90,
      stdout: (t) => {
        console += t;
      },
      // The boot line is kernel log: osvb run gives it on stderr.
      stderr: (t) => {
        console += t;
      },
    });
    expect(console).toContain('osvb: booting (multiboot,');
    expect(console).toMatch(/hello from osvb: argc=4\r?\n/);
    expect(console).toMatch(/argv\[1\]=7\r?\n/);
    expect(r.status).toBe(7);
  });

  it('refuses a microvm image with one clear error', async () => {
    const m = await readManifest(imageDir);
    const fake = join(dir, 'microvm-image');
    await mkdir(fake, { recursive: true });
    await writeFile(
      join(fake, 'manifest.json'),
      JSON.stringify({ ...m, run: { ...m.run, machine: 'microvm' } }),
    );
    await expect(packDisk(fake, { format: 'raw', out: out('x.raw') })).rejects.toThrow(/microvm/);
    expect(existsSync(out('x.raw'))).toBe(false);
  });
});
