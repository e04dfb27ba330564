// Does the guest memory hold the image? At boot QEMU loads the kernel and the
// rootfs archive into RAM, the kernel unpacks the archive into tmpfs (a second
// copy, until the archive's pages are given back), and the program needs room
// to run. Checked when the image is built and again for `osvb run -m`, so a
// too small VM is a number in an error, not QEMU's "initrd is too large" or a
// kernel panic.

import { InputError, type SourceLocation } from '../errors.js';

const MiB = 1024 * 1024;
/** Kernel heap, page tables, stacks and the smallest program, beyond the image itself. */
export const RUNTIME_RESERVE = 24 * MiB;

/** "128M" / "1G" / "512K" (QEMU -m syntax, binary units) in bytes; NaN when malformed. */
export function memoryBytes(text: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(text.trim());
  if (!m) return Number.NaN;
  const unit = { '': MiB, K: 1024, M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB }[(m[2] ?? '').toUpperCase()];
  return Number(m[1]) * (unit ?? MiB);
}

const mib = (n: number): string => `${Math.ceil(n / MiB)} MiB`;

/** The memory an image needs: kernel + two copies of the rootfs + the reserve. */
export function memoryNeeded(kernelLoadSize: number, rootfsSize: number): number {
  return kernelLoadSize + 2 * rootfsSize + RUNTIME_RESERVE;
}

/** Throws when `memory` cannot boot the image; `what` names the setting ("run.memory", "-m"). */
export function checkMemory(
  memory: string,
  kernelLoadSize: number,
  rootfsSize: number,
  what: string,
  loc: SourceLocation,
): void {
  const have = memoryBytes(memory);
  const need = memoryNeeded(kernelLoadSize, rootfsSize);
  if (!(have < need)) return;
  // Suggest a round size: the next multiple of 64 MiB.
  const suggest = Math.ceil(need / (64 * MiB)) * 64;
  const left = have - kernelLoadSize - 2 * rootfsSize;
  throw new InputError(
    `rootfs is ${mib(rootfsSize)}; ${what} ${memory} leaves ${left > 0 ? `${Math.floor(left / MiB)} MiB` : 'nothing'} for the program ` +
      `once the kernel (${mib(kernelLoadSize)}) and the rootfs, unpacked, take their share; it needs ${mib(RUNTIME_RESERVE)}`,
    { loc, hint: `use at least ${suggest}M` },
  );
}

const KIB = 1024;

/** The QEMU -m value for a size in bytes. */
export function memoryArg(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB}M` : `${Math.ceil(bytes / KIB)}K`;
}

/**
 * The least RAM an image boots in at all, rounded up to a MiB: the first MiB
 * (the kernel is loaded at 1 MiB), the kernel's memory image, the root
 * filesystem twice and 512 KiB for page tables, the kernel heap and the first
 * pages of the program. checkMemory above adds what a program needs to run.
 */
export function minimumMemory(kernelMem: number, rootfsSize: number): number {
  const need = MiB + kernelMem + 2 * rootfsSize + 512 * KIB;
  return Math.ceil(need / MiB) * MiB;
}
