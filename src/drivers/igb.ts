// igb: each `model: igbvf` NIC as an emulated Intel 82576 (QEMU `igb`, SR-IOV
// capable) behind a PCIe root port of its own on q35, on the NIC's -netdev.
// The guest's igb driver enables a VF and igbvf drives it as ethN; port
// forwards reach the VF through the PF's switch.

import { RunError } from '../errors.js';
import type { HostDriver } from './types.js';
import { nicMac, nicNetdev } from './virtio-net.js';

export const igbNics: HostDriver = {
  name: 'igb',
  qemuArgs: (ctx) => {
    const nics = ctx.nics ?? [];
    return nics.flatMap((n, i) => {
      if (n.model !== 'igbvf') return [];
      if (ctx.machine !== 'q35') {
        throw new RunError(
          `network[${i}]: model igbvf needs PCI Express (kernel.profile q35), and this image runs on ${ctx.machine}`,
          { exitCode: 2 },
        );
      }
      return [
        '-device',
        `pcie-root-port,id=osvb-igbrp${i},chassis=${40 + i},slot=${i}`,
        '-netdev',
        nicNetdev(ctx, i),
        '-device',
        `igb,bus=osvb-igbrp${i},netdev=net${i},mac=${nicMac(i)}`,
      ];
    });
  },
};
