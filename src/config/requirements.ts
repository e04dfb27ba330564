// What the application needs from the kernel, as found by inspecting its ELF.
// The full inspection (DT_NEEDED closure through ld.so's search order, Go build
// info) is the rootfs stage's job in src/fs and produces this same type; the
// quick classification below is what `osvb config` uses on its own, reading
// only the ELF headers.

import { readFileSync } from 'node:fs';
import elfy from 'elfy';
import { InputError } from '../errors.js';
import type { AppSpec } from './appspec.js';

export interface AppRequirements {
  /** 'none' for a kernel-only image. */
  kind: 'static' | 'static-pie' | 'dynamic' | 'none';
  /** PT_INTERP of a dynamic executable. */
  interpreter?: string;
  /** DT_NEEDED libraries (for the quick classification: the executable's own, not the closure). */
  needed: string[];
  go: boolean;
  python: boolean;
}

export const NO_REQUIREMENTS: AppRequirements = { kind: 'none', needed: [], go: false, python: false };

/** Produces the requirements of an app; src/fs's inspector has this shape too. */
export type RequirementsProvider = (spec: AppSpec) => Promise<AppRequirements>;

const DT_NEEDED = 1n;
const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

/** Classifies an ELF image from its bytes. `file` names it in errors. */
export function classifyElf(buf: Buffer, file: string): Omit<AppRequirements, 'python'> {
  let elf: ReturnType<typeof elfy.parse>;
  try {
    elf = elfy.parse(buf);
  } catch (err) {
    throw new InputError(`${file}: not a valid ELF file (${(err as Error).message})`, { loc: { file } });
  }
  if (elf.class !== '64' || elf.machine !== 'amd64') {
    throw new InputError(`${file}: not an x86-64 ELF (class ${elf.class}, machine ${elf.machine})`, {
      loc: { file },
    });
  }
  const interpHeader = elf.body.programs.find((p) => p.type === 'interp');
  const interpreter = interpHeader?.data.toString('latin1').replace(/\0.*$/s, '');
  const kind: AppRequirements['kind'] =
    interpreter !== undefined ? 'dynamic' : elf.type === 'dyn' ? 'static-pie' : 'static';
  const needed: string[] = [];
  const dynamic = elf.body.sections.find((s) => s.name === '.dynamic');
  const dynstr = elf.body.sections.find((s) => s.name === '.dynstr');
  if (dynamic !== undefined && dynstr !== undefined) {
    for (let off = 0; off + 16 <= dynamic.data.length; off += 16) {
      const tag = dynamic.data.readBigUInt64LE(off);
      if (tag === 0n) break;
      if (tag !== DT_NEEDED) continue;
      const at = Number(dynamic.data.readBigUInt64LE(off + 8));
      const end = dynstr.data.indexOf(0, at);
      if (at >= dynstr.data.length || end < 0) {
        throw new InputError(`${file}: DT_NEEDED entry points outside .dynstr`, { loc: { file } });
      }
      needed.push(dynstr.data.toString('latin1', at, end));
    }
  }
  const go =
    elf.body.sections.some((s) => s.name === '.go.buildinfo' || s.name === '.note.go.buildid') ||
    buf.includes(GO_BUILDINFO_MAGIC);
  return interpreter === undefined ? { kind, needed, go } : { kind, interpreter, needed, go };
}

/** The quick classification of an AppSpec's executable, for `osvb config`. */
export const inspectForConfig: RequirementsProvider = async (spec) => {
  if (spec.app === undefined) return NO_REQUIREMENTS;
  let buf: Buffer;
  try {
    buf = readFileSync(spec.app.exec);
  } catch (err) {
    throw new InputError(`cannot read ${spec.app.exec}: ${(err as Error).message}`, {
      loc: spec.locs['app.exec'],
    });
  }
  return { ...classifyElf(buf, spec.app.exec), python: spec.app.runtime === 'python' };
};
