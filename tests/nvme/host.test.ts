// The host side of NVMe disks (src/drivers/nvme.ts) and the Kconfig request
// they make, without booting.

import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/appspec.js';
import { parseDiskOption } from '../../src/config/disks.js';
import { collectRequests } from '../../src/config/requests.js';
import { nvmeDisks } from '../../src/drivers/nvme.js';

describe('NVMe disks on the QEMU command line', () => {
  const disks = [
    parseDiskOption('/v.img', '/'),
    parseDiskOption('/a,,b.img,if=nvme', '/'),
    parseDiskOption('/c.qcow2,if=nvme,ro,format=qcow2', '/'),
  ];

  it('puts every nvme disk on one controller as namespaces 1, 2... in order; skips other interfaces', () => {
    expect(nvmeDisks.qemuArgs({ machine: 'q35', exitRecordPath: '/x', disks })).toEqual([
      '-device',
      'nvme,id=osvb-nvme0,serial=osvb-nvme0',
      '-drive',
      'file=/a,,b.img,if=none,id=disk1,format=raw',
      '-device',
      'nvme-ns,drive=disk1,bus=osvb-nvme0,nsid=1',
      '-drive',
      'file=/c.qcow2,if=none,id=disk2,format=qcow2,readonly=on',
      '-device',
      'nvme-ns,drive=disk2,bus=osvb-nvme0,nsid=2',
    ]);
    expect(nvmeDisks.qemuArgs({ machine: 'pc', exitRecordPath: '/x', disks: [disks[0]!] })).toEqual([]);
  });

  it('refuses them on microvm, naming the disk', () => {
    expect(() => nvmeDisks.qemuArgs({ machine: 'microvm', exitRecordPath: '/x', disks })).toThrow(
      'disk /a,b.img: interface nvme needs a PCI machine (q35 or pc), and this image runs on microvm',
    );
    expect(nvmeDisks.qemuArgs({ machine: 'microvm', exitRecordPath: '/x', disks: [disks[0]!] })).toEqual([]);
  });

  it('requests NVME for nvme disks, naming where they came from', () => {
    const spec = parseAppSpec(
      'name: d\nkernel:\n  profile: q35\ndisks:\n  - { file: a, interface: nvme }\n  - { file: b, interface: nvme }\n',
      'app.yaml',
      '/',
    );
    const profileStub = { name: 'q35', lines: [] } as unknown as Parameters<typeof collectRequests>[2];
    const reqs = collectRequests(
      spec,
      { kind: 'none' } as Parameters<typeof collectRequests>[1],
      profileStub,
    );
    expect(reqs.map((r) => r.symbol)).toEqual(['NVME']);
    expect(reqs[0]?.reason).toBe('requested because disks: has 2 nvme disks');
  });
});
