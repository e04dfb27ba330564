// NVMe disks: every `interface: nvme` disk becomes a namespace of one QEMU
// NVMe controller, in the order given, so the guest sees /dev/nvme0n1,
// /dev/nvme0n2... (the kernel numbers namespaces in discovery order, which is
// nsid order). NVMe is a PCI device: on microvm the run is refused with one
// error naming the disk, rather than the machine switched behind the user's back.

import { type DiskSpec, driveArg, driveId } from '../config/disks.js';
import { RunError } from '../errors.js';
import type { Machine } from '../kernel/manifest.js';
import type { HostDriver } from './types.js';

export const NVME_CONTROLLER_ID = 'osvb-nvme0';

/** The error for an NVMe disk on a machine without PCI, or undefined. */
export function nvmeMachineError(disks: readonly DiskSpec[], machine: Machine): RunError | undefined {
  const d = disks.find((x) => x.interface === 'nvme');
  if (d === undefined || machine !== 'microvm') return undefined;
  return new RunError(
    `disk ${d.file}: interface nvme needs a PCI machine (q35 or pc), and this image runs on microvm`,
    {
      exitCode: 2,
      loc: d.loc && d.loc.file !== '--disk' ? d.loc : undefined,
      hint: 'set kernel.profile: q35 in app.yaml, or use interface: virtio',
    },
  );
}

export const nvmeDisks: HostDriver = {
  name: 'nvme',
  qemuArgs: (ctx) => {
    const all = ctx.disks ?? [];
    const err = nvmeMachineError(all, ctx.machine);
    if (err) throw err;
    const argv: string[] = [];
    let nsid = 0;
    all.forEach((d, i) => {
      if (d.interface !== 'nvme') return;
      if (nsid === 0) argv.push('-device', `nvme,id=${NVME_CONTROLLER_ID},serial=osvb-nvme0`);
      nsid++;
      argv.push(
        '-drive',
        driveArg(d, i),
        '-device',
        `nvme-ns,drive=${driveId(i)},bus=${NVME_CONTROLLER_ID},nsid=${nsid}`,
      );
    });
    return argv;
  },
};
