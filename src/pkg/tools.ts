// Host tools and files `osvb pkg` uses, each with the Debian package that has it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ToolMissingError } from '../errors.js';
import { findTool } from '../kernel/toolchain.js';

export interface GrubPlatform {
  /** GRUB's platform name and the directory of its modules. */
  name: 'i386-pc' | 'x86_64-efi';
  dir: string;
  debianPackage: string;
}

const GRUB_LIB_DIRS = ['/usr/lib/grub', '/usr/local/lib/grub'];

export function findGrubPlatform(name: GrubPlatform['name'], env: NodeJS.ProcessEnv): GrubPlatform {
  const debianPackage = name === 'i386-pc' ? 'grub-pc-bin' : 'grub-efi-amd64-bin';
  const dirs = env.OSVB_GRUB_LIB ? [env.OSVB_GRUB_LIB] : GRUB_LIB_DIRS;
  for (const d of dirs) {
    const dir = join(d, name);
    if (existsSync(join(dir, 'moddep.lst'))) return { name, dir, debianPackage };
  }
  throw new ToolMissingError(
    `GRUB ${name} modules`,
    debianPackage,
    `no ${name}/moddep.lst under ${dirs.join(', ')}`,
  );
}

/** Finds a tool on PATH, naming its Debian package when it is missing. */
export async function findPkgTool(
  name: string,
  debianPackage: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  try {
    return await findTool(name, env);
  } catch (err) {
    if (err instanceof ToolMissingError) throw new ToolMissingError(name, debianPackage, 'not on PATH');
    throw err;
  }
}

/** Every tool a disk image needs, for doctor and for the first check of pkg. */
export const DISK_TOOLS: readonly { name: string; debianPackage: string }[] = [
  { name: 'grub-mkimage', debianPackage: 'grub-common' },
  { name: 'mformat', debianPackage: 'mtools' },
  { name: 'mmd', debianPackage: 'mtools' },
  { name: 'mcopy', debianPackage: 'mtools' },
  { name: 'qemu-img', debianPackage: 'qemu-utils' },
];

/** OVMF, the UEFI firmware for QEMU (only needed to boot a disk under UEFI here). */
export const OVMF_CANDIDATES = ['/usr/share/ovmf/OVMF.fd', '/usr/share/qemu/OVMF.fd'];

export function findOvmf(): string | undefined {
  return OVMF_CANDIDATES.find((p) => existsSync(p));
}
