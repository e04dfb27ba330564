// How QEMU loads the kernel (osvb run --boot); a leaf module so the CLI can list
// the choices without loading the runner.

export const BOOT_MODES = ['pvh', 'linux'] as const;
export type BootMode = (typeof BOOT_MODES)[number];
