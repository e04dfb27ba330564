// manifest.json: what went into an image, so inspect and run never guess.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskSpec } from '../config/disks.js';
import type { NicSpec } from '../config/network.js';
import type { VolumeSpec } from '../config/volumes.js';
import { InputError } from '../errors.js';
import type { AccelMode } from '../hypervisor/accel-mode.js';

export const MANIFEST_FORMAT = 'osvb-image-1';

export type Machine = 'microvm' | 'q35' | 'pc';
export const MACHINES: readonly Machine[] = ['microvm', 'q35', 'pc'];

export interface RunDefaults {
  machine: Machine;
  /** QEMU -m value, e.g. "128M". */
  memory: string;
  cpus: number;
  /** app.yaml disks: (absolute paths), attached by osvb run. */
  disks?: DiskSpec[];
  /** app.yaml network: NICs (eth0, eth1...), attached by osvb run. */
  network?: NicSpec[];
  /** app.yaml volumes: (absolute host paths), shared by osvb run. */
  volumes?: VolumeSpec[];
  /** app.yaml run.accel; absent in images built before it existed (= auto). */
  accel?: AccelMode;
  /** The most CPUs the kernel starts (NR_CPUS); absent in images built before SMP. */
  maxCpus?: number;
}

export interface ModuleSize {
  name: string;
  /** The Kconfig symbol that builds the module (module.yaml enabled-by). */
  enabledBy?: string;
  objects: number;
  text: number;
  data: number;
  bss: number;
}

export interface ManifestFile {
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  /** Octal permission bits, e.g. "0755". */
  mode: string;
}

export interface ManifestRootfs {
  /** newc cpio archive (the initrd), ZFS pool image, or directory served over 9p, in the image directory. */
  file: string;
  /** Absent for cpio (images built before ZFS roots existed). */
  format?: 'cpio' | 'zfs' | '9p';
  size: number;
  sha256: string;
  /** What the kernel runs before app.args. */
  command: string[];
  files: ManifestFile[];
}

/** How the program starts (rootfs.ts AppLaunch) and the kernel arguments
 * app.yaml gave: osvb run rebuilds the command line from these for -e, -w, --. */
export interface ManifestApp {
  kernelArgs: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
  workdir?: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  /** SOURCE_DATE_EPOCH of the build, when it was set: no wall-clock time (reproducible images). */
  builtAt?: string;
  /** Hash over the image's contents (kernel.elf, rootfs, command line, configuration, tools). */
  buildKey: string;
  configHash: string;
  kernel: {
    file: string;
    size: number;
    loadSize: number;
    /** Bytes the kernel occupies in memory (.bss included). */
    memSize?: number;
    entry: string;
    pvhEntry: string;
    cmdline: string;
    /** Bytes of each platform's own sections, freed at boot on another platform. */
    platforms?: Record<string, number>;
    /** The same kernel as a bzImage (Linux boot protocol); absent without BOOT_LINUX. */
    bzImage?: { file: string; size: number };
  };
  modules: ModuleSize[];
  tools: { gcc: string; ld: string; qemu: string | null };
  run: RunDefaults;
  rootfs?: ManifestRootfs;
  app?: ManifestApp;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and checks IMAGE_DIR/manifest.json. */
export async function readManifest(imageDir: string): Promise<Manifest> {
  const file = join(imageDir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError('not an osvb image directory (no manifest.json)', {
      loc: { file: imageDir },
      hint: 'build one with osvb build --config app.yaml',
    });
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new InputError(`manifest is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      loc: { file },
    });
  }
  if (!isRecord(m) || m.format !== MANIFEST_FORMAT) {
    throw new InputError(`manifest format is not ${MANIFEST_FORMAT}`, {
      loc: { file },
      hint: 'rebuild the image with this version of osvb',
    });
  }
  const k = m.kernel;
  const r = m.run;
  if (
    !isRecord(k) ||
    typeof k.file !== 'string' ||
    typeof k.cmdline !== 'string' ||
    !isRecord(r) ||
    !MACHINES.includes(r.machine as Machine) ||
    typeof r.memory !== 'string' ||
    typeof r.cpus !== 'number' ||
    !Array.isArray(m.modules) ||
    typeof m.name !== 'string'
  ) {
    throw new InputError('manifest is missing required fields', { loc: { file } });
  }
  const plain = (f: unknown) => typeof f === 'string' && f !== '' && !f.includes('/') && !f.startsWith('.');
  if (!plain(k.file)) {
    throw new InputError(`manifest kernel file "${String(k.file)}" must be a plain file name`, {
      loc: { file },
    });
  }
  if (k.bzImage !== undefined && (!isRecord(k.bzImage) || !plain(k.bzImage.file))) {
    throw new InputError('manifest kernel.bzImage must name a plain file in the image directory', {
      loc: { file },
    });
  }
  if (m.rootfs !== undefined && (!isRecord(m.rootfs) || !plain(m.rootfs.file))) {
    throw new InputError('manifest rootfs must name a plain file in the image directory', { loc: { file } });
  }
  return m as unknown as Manifest;
}
