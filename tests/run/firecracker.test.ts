// `osvb run --hypervisor firecracker`: the VM configuration it writes (and
// prints with --dry-run), checked against the shape of Firecracker's
// config-file / API objects: boot-source, machine-config, drives,
// network-interfaces; and the run's exit status from the console record.

import { describe, expect, it } from 'vitest';
import { RunError } from '../../src/errors.js';
import { firecrackerConfig, runFirecracker } from '../../src/hypervisor/firecracker.js';
import type { Manifest } from '../../src/kernel/manifest.js';

const manifest = {
  format: 'osvb-image-1',
  name: 'demo',
  kernel: { file: 'kernel.elf', cmdline: 'osvb.selftest=all' },
  run: { machine: 'microvm', memory: '1G', cpus: 2 },
  rootfs: { file: 'rootfs.cpio' },
} as unknown as Manifest;

const disk = { file: '/srv/data.img', format: 'raw', interface: 'virtio', readonly: true } as const;

describe('firecrackerConfig', () => {
  it('has exactly the Firecracker objects and field names, with the image paths', () => {
    const c = firecrackerConfig({
      imageDir: '/img/demo',
      manifest,
      cmdline: 'osvb.selftest=all quiet',
      disks: [disk, { ...disk, file: '/srv/b.img', readonly: false }],
    });
    expect(JSON.parse(JSON.stringify(c))).toEqual({
      'boot-source': {
        kernel_image_path: '/img/demo/kernel.elf',
        initrd_path: '/img/demo/rootfs.cpio',
        boot_args: 'osvb.selftest=all quiet osvb.record=console',
      },
      'machine-config': { vcpu_count: 2, mem_size_mib: 1024, smt: false },
      drives: [
        { drive_id: 'disk0', path_on_host: '/srv/data.img', is_root_device: false, is_read_only: true },
        { drive_id: 'disk1', path_on_host: '/srv/b.img', is_root_device: false, is_read_only: false },
      ],
      'network-interfaces': [],
    });
  });

  it('takes --memory and --cpus over the manifest, and leaves initrd_path out without a rootfs', () => {
    const c = firecrackerConfig({
      imageDir: '/img/demo',
      manifest: { ...manifest, rootfs: undefined },
      cmdline: '',
      memory: '96M',
      cpus: 1,
      disks: [],
    });
    expect(c['machine-config']).toEqual({ vcpu_count: 1, mem_size_mib: 96, smt: false });
    expect('initrd_path' in c['boot-source']).toBe(false);
  });

  it('refuses what Firecracker cannot do, with one clear error', () => {
    const base = { imageDir: '/img', manifest, cmdline: '' };
    expect(() => firecrackerConfig({ ...base, disks: [{ ...disk, interface: 'nvme' }] })).toThrow(
      /disk \/srv\/data.img \(nvme, raw\): Firecracker only has raw virtio-blk/,
    );
    expect(() => firecrackerConfig({ ...base, disks: [{ ...disk, format: 'qcow2' }] })).toThrow(RunError);
    expect(() => firecrackerConfig({ ...base, disks: [], cpus: 33 })).toThrow(/1 to 32 vCPUs/);
    expect(() => firecrackerConfig({ ...base, disks: [], memory: '1500K' })).toThrow(/whole number of MiB/);
    expect(() => firecrackerConfig({ ...base, disks: [], nics: [{ mode: 'user', queues: 1 }] })).toThrow(
      /NIC eth0 \(virtio, user\): Firecracker only has virtio-net on host tap devices/,
    );
  });

  it('gives tap NICs as network-interfaces in order', () => {
    const c = firecrackerConfig({
      imageDir: '/img',
      manifest,
      cmdline: '',
      disks: [],
      nics: [
        { mode: 'tap', tap: 'fc0', queues: 1 },
        { mode: 'tap', tap: 'fc1', queues: 1 },
      ],
    });
    expect(c['network-interfaces']).toEqual([
      { iface_id: 'eth0', host_dev_name: 'fc0' },
      { iface_id: 'eth1', host_dev_name: 'fc1' },
    ]);
    expect(c['boot-source'].boot_args).toBe('osvb.record=console');
  });
});

describe('runFirecracker', () => {
  it('without firecracker on PATH: exit 127 and a hint to use --dry-run', async () => {
    const c = firecrackerConfig({ imageDir: '/img', manifest, cmdline: '', disks: [] });
    const err = await runFirecracker(c, { PATH: '/nonexistent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).message).toBe('firecracker is not on PATH');
    expect((err as RunError).exitCode).toBe(127);
  });

  it("exits with the guest's status from the console record, which it takes out of the output", async () => {
    const { mkdtemp, writeFile, chmod } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const bin = await mkdtemp(join(tmpdir(), 'osvb-fake-fc-'));
    // A stand-in firecracker: checks its arguments and the file, prints a console with a record.
    await writeFile(
      join(bin, 'firecracker'),
      '#!/bin/sh\n[ "$1 $2" = "--no-api --config-file" ] || exit 9\ngrep -q osvb.record=console "$3" || exit 8\nprintf \'hi \\377\\nosvb-exit: 42\\n\'\n',
    );
    await chmod(join(bin, 'firecracker'), 0o755);
    const writes: Buffer[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string, enc?: BufferEncoding) => {
      writes.push(Buffer.from(s, enc));
      return true;
    }) as typeof process.stdout.write;
    try {
      const c = firecrackerConfig({ imageDir: '/img', manifest, cmdline: '', disks: [] });
      expect(await runFirecracker(c, { PATH: `${bin}:/usr/bin:/bin` })).toBe(42);
    } finally {
      process.stdout.write = orig;
    }
    expect(Buffer.concat(writes)).toEqual(Buffer.from([0x68, 0x69, 0x20, 0xff, 0x0a]));
  });
});
