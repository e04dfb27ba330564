// The host side of ZFS disks, without booting: `format: zfs` + `mount:` in
// app.yaml and --disk, the Kconfig requests of rootfs: zfs, the guest's disk
// names osvb run passes in zfs.root= / zfs.mount=.

import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/appspec.js';
import { parseDiskOption } from '../../src/config/disks.js';
import { collectRequests } from '../../src/config/requests.js';
import { guestDiskNames } from '../../src/hypervisor/run.js';

type Profile = Parameters<typeof collectRequests>[2];
type Req = Parameters<typeof collectRequests>[1];
const symbols = (yaml: string): string[] =>
  collectRequests(
    parseAppSpec(yaml, 'app.yaml', '/'),
    { kind: 'none' } as Req,
    {
      name: 'x',
      lines: [],
    } as unknown as Profile,
  ).map((r) => r.symbol);

describe('ZFS disks', () => {
  it('--disk FILE,format=zfs,mount=/DIR is read-only and needs both', () => {
    const d = parseDiskOption('/p.img,format=zfs,mount=/data/', '/');
    expect(d).toMatchObject({ file: '/p.img', format: 'zfs', mount: '/data', readonly: true });
    expect(() => parseDiskOption('/p.img,format=zfs', '/')).toThrow('format=zfs and mount=/DIR go together');
    expect(() => parseDiskOption('/p.img,mount=/data', '/')).toThrow('format=zfs and mount=/DIR go together');
    expect(() => parseDiskOption('/p.img,format=zfs,mount=rel', '/')).toThrow(
      'expected an absolute guest directory',
    );
  });

  it('app.yaml disks: { format: zfs, mount } parses; a mount without zfs is an error naming the entry', () => {
    const spec = parseAppSpec(
      'name: d\ndisks:\n  - { file: p.img, format: zfs, mount: /data }\n',
      'app.yaml',
      '/w',
    );
    expect(spec.disks?.[0]).toMatchObject({
      file: '/w/p.img',
      format: 'zfs',
      mount: '/data',
      readonly: true,
    });
    expect(() =>
      parseAppSpec('name: d\ndisks:\n  - { file: p.img, mount: /data }\n', 'app.yaml', '/w'),
    ).toThrow('disks[0]: format zfs and mount go together');
  });

  it('rootfs: zfs requests the reader and the disk drivers of the machine', () => {
    expect(symbols('name: a\nrootfs: zfs\n')).toEqual(['ZFS', 'VIRTIO_BLK', 'VIRTIO_MMIO']);
    expect(symbols('name: a\nrootfs: zfs\nkernel:\n  profile: q35\n')).toEqual([
      'ZFS',
      'VIRTIO_BLK',
      'VIRTIO_PCI',
      'NVME',
    ]);
    expect(symbols('name: a\ndisks:\n  - { file: p.img, format: zfs, mount: /d }\n')).toContain('ZFS');
  });

  it('names disks as the guest does: vda.. per virtio disk, nvme0n1.. per nvme disk, in order', () => {
    const d = (i: 'virtio' | 'nvme') => ({
      file: '/x',
      format: 'raw' as const,
      interface: i,
      readonly: false,
    });
    expect(guestDiskNames([d('virtio'), d('nvme'), d('virtio'), d('nvme')])).toEqual([
      'vda',
      'nvme0n1',
      'vdb',
      'nvme0n2',
    ]);
  });
});
