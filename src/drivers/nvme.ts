// NVMe disks: every `interface: nvme` disk of an image becomes a namespace of
// one QEMU NVMe controller, in the order given, so the guest sees
// /dev/nvme0n1, /dev/nvme0n2... (the kernel names namespaces by discovery
// order, which is nsid order). NVMe is a PCI device: on microvm it is refused
// rather than the machine switched behind the user's back.

import { RunError } from '../errors.js';
import type { Machine } from '../kernel/manifest.js';

export interface NvmeDisk {
  /** Host path of the disk file. */
  file: string;
  format: 'raw' | 'qcow2';
  readonly: boolean;
}

export const NVME_CONTROLLER_ID = 'osvb-nvme0';

/** QEMU's -drive value syntax: a comma inside a value is written twice. */
function optValue(v: string): string {
  return v.replace(/,/g, ',,');
}

/** The -drive/-device arguments for the image's NVMe disks ([] when none). */
export function nvmeArgs(disks: readonly NvmeDisk[], machine: Machine): string[] {
  if (disks.length === 0) return [];
  if (machine === 'microvm') {
    throw new RunError(
      `disk ${disks[0]?.file}: interface nvme needs a PCI machine, and this image runs on microvm`,
      {
        exitCode: 2,
        hint: 'set kernel.profile: q35 (or pc) in app.yaml, or use interface: virtio',
      },
    );
  }
  const argv = ['-device', `nvme,id=${NVME_CONTROLLER_ID},serial=osvb-nvme0`];
  disks.forEach((d, i) => {
    const id = `osvb-nvme0n${i + 1}`;
    const ro = d.readonly ? ',readonly=on' : '';
    argv.push('-drive', `file=${optValue(d.file)},if=none,id=${id},format=${d.format}${ro}`);
    argv.push('-device', `nvme-ns,drive=${id},bus=${NVME_CONTROLLER_ID},nsid=${i + 1}`);
  });
  return argv;
}
