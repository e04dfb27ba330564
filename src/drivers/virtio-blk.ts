// virtio-blk: each `interface: virtio` disk as a virtio-blk device, on
// virtio-mmio (microvm) or virtio-pci (q35, pc). The guest's virtio_blk
// driver names them /dev/vda, /dev/vdb... in this order.

import { driveArg, driveId } from '../config/disks.js';
import type { HostDriver } from './types.js';

export const virtioBlk: HostDriver = {
  name: 'virtio-blk',
  qemuArgs: (ctx) =>
    (ctx.disks ?? []).flatMap((d, i) =>
      d.interface === 'virtio'
        ? [
            '-drive',
            driveArg(d, i),
            '-device',
            `${ctx.machine === 'microvm' ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=${driveId(i)}`,
          ]
        : [],
    ),
};
