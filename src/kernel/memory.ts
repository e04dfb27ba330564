// Guest memory sizes: app.yaml's run.memory and osvb run -m as QEMU writes
// them, and the least an image needs to boot at all.

const KIB = 1024;
const MIB = 1024 * KIB;
const UNITS: Record<string, number> = { K: KIB, M: MIB, G: 1024 * MIB, T: 1024 * 1024 * MIB };

/** Bytes of a QEMU -m value ("128M", "1G", "65536K"; no unit means MiB, as QEMU reads it). */
export function memoryBytes(value: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(value.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * UNITS[(m[2] || 'M').toUpperCase()]!;
}

/** The QEMU -m value for a size in bytes. */
export function memoryArg(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB}M` : `${Math.ceil(bytes / KIB)}K`;
}

/**
 * The least RAM an image boots in, rounded up to a MiB: the first MiB (the
 * kernel is loaded at 1 MiB), the kernel's memory image, the root filesystem
 * twice (the initrd QEMU places in RAM, and its files unpacked into tmpfs),
 * and 512 KiB for page tables, the kernel heap and the first pages of the
 * program. A lower bound: what the program itself allocates comes on top.
 */
export function minimumMemory(kernelMem: number, rootfsSize: number): number {
  const need = MIB + kernelMem + 2 * rootfsSize + 512 * KIB;
  return Math.ceil(need / MIB) * MIB;
}
