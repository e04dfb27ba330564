// Firecracker: the VM configuration file `firecracker --no-api --config-file`
// reads (field names as in Firecracker's API: boot-source, machine-config,
// drives, network-interfaces). Firecracker loads kernel.elf through its PVH
// note and gives the guest virtio-mmio devices, naming them with
// virtio_mmio.device= words it adds to boot_args itself, which the kernel's
// virtio-mmio transport reads. It has one UART and no exit device, so the
// kernel is told (osvb.record=console) to write its exit record on the
// console, and the runner takes that line out and exits with its status.

import { join, resolve } from 'node:path';
import type { DiskSpec } from '../config/disks.js';
import type { NicSpec } from '../config/network.js';
import { RunError } from '../errors.js';
import type { Manifest } from '../kernel/manifest.js';
import { runWithConsoleRecord } from './console-record.js';
import { parseMemory } from './qemu.js';

export interface FirecrackerConfig {
  'boot-source': { kernel_image_path: string; boot_args: string; initrd_path?: string };
  'machine-config': { vcpu_count: number; mem_size_mib: number; smt: boolean };
  drives: { drive_id: string; path_on_host: string; is_root_device: boolean; is_read_only: boolean }[];
  'network-interfaces': { iface_id: string; host_dev_name: string }[];
}

export interface FirecrackerInput {
  imageDir: string;
  manifest: Manifest;
  /** The whole kernel command line (manifest's plus --append). */
  cmdline: string;
  memory?: string;
  cpus?: number;
  disks: readonly DiskSpec[];
  /** The image's NICs (app.yaml network:); Firecracker has tap devices only. */
  nics?: readonly NicSpec[];
}

/** The kernel word that puts the exit record on the console (see above). */
export const FC_RECORD_WORD = 'osvb.record=console';

/** Firecracker's vcpu_count limit (its API rejects more). */
const FC_MAX_VCPUS = 32;

function mebibytes(size: string): number {
  const m = /^(\d+)([KMG])$/.exec(parseMemory(size))!;
  const n = Number(m[1]);
  const mib = m[2] === 'G' ? n * 1024 : m[2] === 'M' ? n : n / 1024;
  if (!Number.isInteger(mib))
    throw new RunError(`memory size "${size}" is not a whole number of MiB`, { exitCode: 2 });
  return mib;
}

export function firecrackerConfig(input: FirecrackerInput): FirecrackerConfig {
  const dir = resolve(input.imageDir);
  const cpus = input.cpus ?? input.manifest.run.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > FC_MAX_VCPUS) {
    throw new RunError(`cpu count ${cpus}: Firecracker takes 1 to ${FC_MAX_VCPUS} vCPUs`, { exitCode: 2 });
  }
  const drives = input.disks.map((d, i) => {
    if (d.interface !== 'virtio' || d.format !== 'raw') {
      throw new RunError(
        `disk ${d.file} (${d.interface}, ${d.format}): Firecracker only has raw virtio-blk drives`,
        { exitCode: 2, loc: d.loc },
      );
    }
    // Not a root device: the app's root filesystem is the initrd; this keeps Firecracker from adding root=.
    return { drive_id: `disk${i}`, path_on_host: d.file, is_root_device: false, is_read_only: d.readonly };
  });
  const net = (input.nics ?? []).map((n, i) => {
    if (n.mode !== 'tap' || n.tap === undefined || n.model !== undefined) {
      throw new RunError(
        `NIC eth${i} (${n.model ?? 'virtio'}, ${n.mode}): Firecracker only has virtio-net on host tap devices`,
        {
          exitCode: 2,
          loc: n.loc,
          hint: 'give it `mode: tap, tap: NAME` in app.yaml network:, or `network: none`',
        },
      );
    }
    return { iface_id: `eth${i}`, host_dev_name: n.tap };
  });
  const m = input.manifest;
  const boot: FirecrackerConfig['boot-source'] = {
    kernel_image_path: join(dir, m.kernel.file),
    boot_args: [input.cmdline, FC_RECORD_WORD].filter((w) => w.trim() !== '').join(' '),
  };
  if (m.rootfs) boot.initrd_path = join(dir, m.rootfs.file);
  return {
    'boot-source': boot,
    'machine-config': {
      vcpu_count: cpus,
      mem_size_mib: mebibytes(input.memory ?? m.run.memory),
      smt: false,
    },
    drives,
    'network-interfaces': net,
  };
}

/** The configuration for an image directory, as `osvb run --hypervisor firecracker` uses it. */
export async function prepareFirecracker(
  imageDir: string,
  opts: { memory?: string; cpus?: number; append?: string; disks?: DiskSpec[] },
): Promise<FirecrackerConfig> {
  const { readManifest } = await import('../kernel/manifest.js');
  const { checkDisks } = await import('../config/disks.js');
  const manifest = await readManifest(resolve(imageDir));
  const disks = [...(manifest.run.disks ?? []), ...(opts.disks ?? [])];
  checkDisks(disks);
  const cmdline = [manifest.kernel.cmdline, opts.append ?? ''].filter((s) => s.trim() !== '').join(' ');
  return firecrackerConfig({
    imageDir,
    manifest,
    cmdline,
    memory: opts.memory,
    cpus: opts.cpus,
    disks,
    nics: manifest.run.network ?? [],
  });
}

/**
 * Runs `firecracker --no-api --config-file` with the console on this terminal
 * and exits with the guest's status from its console record (1, with a line
 * saying so, when the console ended without one).
 */
export async function runFirecracker(config: FirecrackerConfig, env: NodeJS.ProcessEnv): Promise<number> {
  const { findTool } = await import('../kernel/toolchain.js');
  const fc = await findTool('firecracker', env).catch(() => {
    throw new RunError('firecracker is not on PATH', {
      exitCode: 127,
      hint: 'install Firecracker, or add --dry-run to print the VM configuration',
    });
  });
  const text = `${JSON.stringify(config, null, 2)}\n`;
  return runWithConsoleRecord(fc, ['--no-api', '--config-file'], { name: 'vm.json', text }, env);
}
