// Xen: the `xl` domain configuration for a PVH guest (xl.cfg(5): type="pvh",
// kernel, ramdisk, cmdline, memory, vcpus, disk, vif) and `xl create -c`.
// Xen loads kernel.elf through its PVH note (XEN_ELFNOTE_PHYS32_ENTRY). There
// is no COM2 there: the kernel writes its exit record ("osvb-exit: N",
// "osvb-panic") as a line on the PV console, which is the domain's console
// here; osvb takes that line out of the output and exits with the status.

import { resolve } from 'node:path';
import { runWithConsoleRecord } from './console-record.js';
import type { DiskSpec } from '../config/disks.js';
import type { NicSpec } from '../config/network.js';
import { RunError } from '../errors.js';
import type { Manifest } from '../kernel/manifest.js';
import { parseMemory } from './qemu.js';

export interface XlInput {
  imageDir: string;
  manifest: Manifest;
  /** The whole kernel command line (manifest's plus --append). */
  cmdline: string;
  memory?: string;
  cpus?: number;
  disks: readonly DiskSpec[];
  nics: readonly NicSpec[];
  /** The domain name (unique on the host while it runs). */
  name: string;
}

/** HVM/PVH guests take at most 128 vCPUs in xl's default configuration. */
const XL_MAX_VCPUS = 128;
const BRIDGE = 'xenbr0';

function mebibytes(size: string): number {
  const m = /^(\d+)([KMG])$/.exec(parseMemory(size))!;
  const n = Number(m[1]);
  const mib = m[2] === 'G' ? n * 1024 : m[2] === 'M' ? n : n / 1024;
  if (!Number.isInteger(mib))
    throw new RunError(`memory size "${size}" is not a whole number of MiB`, { exitCode: 2 });
  return mib;
}

/** A string for xl.cfg: double-quoted; what its parser would need escaped is refused. */
function q(what: string, s: string): string {
  if (/["\\\n\r]/.test(s)) {
    throw new RunError(
      `${what} "${s}" has a quote, backslash or newline, which an xl configuration cannot carry`,
      {
        exitCode: 2,
      },
    );
  }
  return `"${s}"`;
}

/** xvda, xvdb, ... xvdz, xvdaa ... */
function vdev(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(97 + ((n - 1) % 26)) + s;
  return `xvd${s}`;
}

export function xlConfig(input: XlInput): string {
  const dir = resolve(input.imageDir);
  const m = input.manifest;
  const cpus = input.cpus ?? m.run.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > XL_MAX_VCPUS)
    throw new RunError(`cpu count ${cpus}: xl takes 1 to ${XL_MAX_VCPUS} vCPUs`, { exitCode: 2 });
  const disks = input.disks.map((d, i) => {
    if (d.format !== 'raw' && d.format !== 'qcow2')
      throw new RunError(`disk ${d.file}: format ${d.format} is not one xl takes`, {
        exitCode: 2,
        loc: d.loc,
      });
    // target= must come last: everything after it is the path.
    return q(
      `disk ${d.file}`,
      `format=${d.format}, vdev=${vdev(i)}, access=${d.readonly ? 'ro' : 'rw'}, target=${resolve(d.file)}`,
    );
  });
  const vifs = input.nics.map((n) => q('vif', `bridge=${n.mode === 'tap' && n.tap ? n.tap : BRIDGE}`));
  const lines = [
    `# osvb: Xen PVH domain for ${dir} (xl create -c this file)`,
    `name = ${q('name', input.name)}`,
    'type = "pvh"',
    `kernel = ${q('kernel path', `${dir}/${m.kernel.file}`)}`,
  ];
  if (m.rootfs) lines.push(`ramdisk = ${q('ramdisk path', `${dir}/${m.rootfs.file}`)}`);
  lines.push(
    `cmdline = ${q('kernel command line', input.cmdline)}`,
    `memory = ${mebibytes(input.memory ?? m.run.memory)}`,
    `vcpus = ${cpus}`,
    `disk = [ ${disks.join(', ')} ]`,
    `vif = [ ${vifs.join(', ')} ]`,
    'on_poweroff = "destroy"',
    'on_reboot = "destroy"',
    'on_crash = "destroy"',
  );
  return `${lines.join('\n')}\n`;
}

/** The configuration for an image directory, as `osvb run --hypervisor xen` uses it. */
export async function prepareXen(
  imageDir: string,
  opts: { memory?: string; cpus?: number; append?: string; disks?: DiskSpec[]; name?: string },
): Promise<string> {
  const { readManifest } = await import('../kernel/manifest.js');
  const { checkDisks } = await import('../config/disks.js');
  const manifest = await readManifest(resolve(imageDir));
  const disks = [...(manifest.run.disks ?? []), ...(opts.disks ?? [])];
  checkDisks(disks);
  const cmdline = [manifest.kernel.cmdline, opts.append ?? ''].filter((s) => s.trim() !== '').join(' ');
  return xlConfig({
    imageDir,
    manifest,
    cmdline,
    memory: opts.memory,
    cpus: opts.cpus,
    disks,
    nics: manifest.run.network ?? [],
    name: opts.name ?? `osvb-${manifest.name}-${process.pid}`,
  });
}

export { consoleFilter, consoleRecord } from './console-record.js';

/**
 * Runs `xl create -c` with the configuration and exits with the guest's status
 * from its console record (1 when the console ended without one).
 */
export async function runXen(config: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { findTool } = await import('../kernel/toolchain.js');
  const xl = await findTool('xl', env).catch(() => {
    throw new RunError('xl is not on PATH (this host is not a Xen dom0)', {
      exitCode: 127,
      hint: 'run on a Xen host with the xl toolstack, or add --dry-run to print the domain configuration',
    });
  });
  return runWithConsoleRecord(xl, ['create', '-c'], { name: 'domain.cfg', text: config }, env);
}
