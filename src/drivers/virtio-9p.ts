// virtio-9p: each volume (app.yaml volumes:, osvb run -v) as a QEMU local
// fsdev served by QEMU's 9P2000.L server, on virtio-mmio (microvm) or
// virtio-pci. The guest's 9p client mounts the one tagged vol<i> where the
// kernel command line's 9p.mount=vol<i>:/GUEST says.

import { volumeTag } from '../config/volumes.js';
import type { HostDriver } from './types.js';

/** QEMU's option syntax doubles a comma inside a value. */
const qemuValue = (s: string): string => s.replaceAll(',', ',,');

export const virtio9p: HostDriver = {
  name: 'virtio-9p',
  qemuArgs: (ctx) => [
    ...(ctx.root9p
      ? [
          '-fsdev',
          `local,id=fsroot,path=${qemuValue(ctx.root9p)},security_model=none`,
          '-device',
          `${ctx.machine === 'microvm' ? 'virtio-9p-device' : 'virtio-9p-pci'},fsdev=fsroot,mount_tag=${ROOT_TAG}`,
        ]
      : []),
    ...(ctx.volumes ?? []).flatMap((v, i) => [
      '-fsdev',
      `local,id=fs${i},path=${qemuValue(v.host)},security_model=none${v.readonly ? ',readonly=on' : ''}`,
      '-device',
      `${ctx.machine === 'microvm' ? 'virtio-9p-device' : 'virtio-9p-pci'},fsdev=fs${i},mount_tag=${volumeTag(i)}`,
    ]),
  ],
};

/** The mount tag of a 9p root; the kernel mounts it where 9p.root= names it. */
export const ROOT_TAG = 'root';
