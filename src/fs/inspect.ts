// The "inspect app ELF" stage of the pipeline on its own: what the application
// needs from the kernel, without collecting any files. collectRootfs returns
// the same requirements along with the rootfs.

import { resolve } from 'node:path';
import type { AppRequirements } from '../config/requirements.js';
import { readElf, requirementsOf } from './elf.js';
import { DEFAULT_PYTHON, findPython } from './python.js';
import type { Runtime } from './rootfs.js';

export interface InspectInput {
  runtime?: Runtime;
  /** Host path of the program; for python, the interpreter (default /usr/bin/python3). */
  exec?: string;
}

/** Requirements of an app; { kind: 'none' } when there is no program (a kernel-only image). */
export async function inspectApp(input: InspectInput): Promise<AppRequirements> {
  if (input.runtime === 'python') {
    const py = await findPython(input.exec ? resolve(input.exec) : DEFAULT_PYTHON);
    return requirementsOf(await readElf(py.binary), { python: true });
  }
  if (input.exec === undefined) return { kind: 'none', needed: [], go: false, python: false };
  return requirementsOf(await readElf(resolve(input.exec)));
}
