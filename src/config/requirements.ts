// What the application needs from the kernel, as found by inspecting its ELF
// (src/fs/elf.ts produces it). The Kconfig requests it leads to are in
// requests.ts.

import { readElf, requirementsOf } from '../fs/elf.js';
import type { AppSpec } from './appspec.js';

export interface AppRequirements {
  /** 'none' for a kernel-only image. */
  kind: 'static' | 'static-pie' | 'dynamic' | 'none';
  /** PT_INTERP of a dynamic executable. */
  interpreter?: string;
  /** The executable's own DT_NEEDED libraries (not the closure). */
  needed: string[];
  go: boolean;
  python: boolean;
  /** The ELF symbol showing the program opens sockets (see src/fs/elf.ts); it gets a default NIC. */
  sockets?: string;
}

export const NO_REQUIREMENTS: AppRequirements = { kind: 'none', needed: [], go: false, python: false };

/** Produces the requirements of an app; src/fs's inspector has this shape too. */
export type RequirementsProvider = (spec: AppSpec) => Promise<AppRequirements>;

/**
 * The requirements of an AppSpec's executable for `osvb config`: src/fs's ELF
 * inspection (interpreter, direct DT_NEEDED, Go build info), without the
 * library closure the rootfs needs.
 */
export const inspectForConfig: RequirementsProvider = async (spec) => {
  if (spec.app === undefined) return NO_REQUIREMENTS;
  const info = await readElf(spec.app.exec);
  return requirementsOf(info, { python: spec.app.runtime === 'python' });
};
