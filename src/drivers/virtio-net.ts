// virtio-net: each NIC as a virtio-net device (virtio-net-device on microvm's
// virtio-mmio, virtio-net-pci elsewhere) on a QEMU -netdev: user networking
// (slirp; the guest is 10.0.2.15, -p forwards reach it from the host) or a
// host tap device (multiqueue when queues > 1; PCI only: mq needs MSI-X vectors).

import type { NicSpec, PortForward } from '../config/network.js';
import type { DriverContext, HostDriver } from './types.js';

/** The guest MAC of NIC i: QEMU's prefix, one address per NIC. */
export function nicMac(i: number): string {
  return `52:54:00:12:34:${(0x56 + i).toString(16).padStart(2, '0')}`;
}

function netdevArg(n: NicSpec, i: number, ports: readonly PortForward[]): string {
  if (n.mode === 'tap') {
    const q = n.queues > 1 ? `,queues=${n.queues}` : '';
    return `tap,id=net${i},ifname=${n.tap},script=no,downscript=no${q}`;
  }
  const fwd = ports.map((p) => `,hostfwd=${p.proto}:${p.hostIp}:${p.hostPort}-:${p.guestPort}`).join('');
  return `user,id=net${i}${fwd}`;
}

/** The -netdev value of NIC i (id net<i>); port forwards go to the first user-mode NIC, whatever its model. */
export function nicNetdev(ctx: DriverContext, i: number): string {
  const nics = ctx.nics ?? [];
  const firstUser = nics.findIndex((n) => n.mode === 'user');
  return netdevArg(nics[i]!, i, i === firstUser ? (ctx.ports ?? []) : []);
}

export const virtioNet: HostDriver = {
  name: 'virtio-net',
  qemuArgs: (ctx) => {
    const nics = ctx.nics ?? [];
    return nics.flatMap((n, i) => {
      if (n.model === 'igbvf') return [];
      const pci = ctx.machine !== 'microvm';
      const mq = pci && n.mode === 'tap' && n.queues > 1 ? `,mq=on,vectors=${2 * n.queues + 2}` : '';
      return [
        '-netdev',
        nicNetdev(ctx, i),
        '-device',
        `${pci ? 'virtio-net-pci' : 'virtio-net-device'},netdev=net${i},mac=${nicMac(i)}${mq}`,
      ];
    });
  },
};
