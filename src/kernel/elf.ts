// Checks on the linked kernel.elf and object files, through elfy. elfy reads
// 64-bit fields into JS numbers, which is lossy above 2^53 (higher-half
// addresses), so exact addresses are read from the raw bytes as BigInt.

import elfy, { type ElfFile, type ElfSectionHeader } from 'elfy';
import { BuildError, InputError } from '../errors.js';

const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const SHN_UNDEF = 0;
const STB_WEAK = 2;
const STT_NOTYPE = 0;
const STT_FUNC = 2;

export function parseElf(buf: Buffer, file: string): ElfFile {
  try {
    return elfy.parse(buf);
  } catch (err) {
    throw new InputError(`not a valid ELF file: ${err instanceof Error ? err.message : String(err)}`, {
      loc: { file },
    });
  }
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Buffer;
}

export function parseNotes(data: Buffer): ElfNote[] {
  const notes: ElfNote[] = [];
  let off = 0;
  const align4 = (n: number) => (n + 3) & ~3;
  while (off + 12 <= data.length) {
    const namesz = data.readUInt32LE(off);
    const descsz = data.readUInt32LE(off + 4);
    const type = data.readUInt32LE(off + 8);
    const nameStart = off + 12;
    const descStart = nameStart + align4(namesz);
    const end = descStart + align4(descsz);
    if (descStart + descsz > data.length) break;
    const name = data
      .subarray(nameStart, nameStart + namesz)
      .toString('latin1')
      .replace(/\0+$/, '');
    notes.push({ name, type, desc: data.subarray(descStart, descStart + descsz) });
    off = end;
  }
  return notes;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  type: number;
  bind: number;
  shndx: number;
}

export function readSymbols(elf: ElfFile): ElfSymbol[] {
  const sections = elf.body.sections;
  const symtab = sections.find((s) => s.type === 'symtab');
  if (!symtab) return [];
  const strtab: ElfSectionHeader | undefined = sections[symtab.link];
  const strs = strtab?.data ?? Buffer.alloc(0);
  const out: ElfSymbol[] = [];
  const data = symtab.data;
  for (let off = 24; off + 24 <= data.length; off += 24) {
    const nameOff = data.readUInt32LE(off);
    const info = data[off + 4]!;
    const shndx = data.readUInt16LE(off + 6);
    let end = nameOff;
    while (end < strs.length && strs[end] !== 0) end++;
    out.push({
      name: strs.subarray(nameOff, end).toString('latin1'),
      type: info & 0xf,
      bind: info >> 4,
      shndx,
      value: data.readBigUInt64LE(off + 8),
      size: data.readBigUInt64LE(off + 16),
    });
  }
  return out;
}

export interface KernelElfInfo {
  entry: string;
  pvhEntry: string;
  /** Sum of PT_LOAD file sizes: what the loader copies. */
  loadSize: number;
  /** Sum of PT_LOAD memory sizes. */
  memSize: number;
  /** Bytes of each platform's own sections (.platform.NAME.*, page-aligned): what the
   * kernel frees at boot when it runs on another platform. Absent in older metadata. */
  platforms?: Record<string, number>;
}

/** Sizes of the .platform.NAME.{text,rodata,data,bss} sections, by NAME, in memory. */
export function platformSizes(elf: ElfFile): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of elf.body.sections) {
    const m = /^\.platform\.([a-z0-9]+)\.(text|rodata|data|bss)$/.exec(s.name);
    if (m?.[1] !== undefined) out[m[1]] = (out[m[1]] ?? 0) + s.size;
  }
  return out;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Checks a linked kernel: ELF64 x86-64 executable, PVH note, no undefined symbols. */
export function checkKernelElf(buf: Buffer, file: string): KernelElfInfo {
  const elf = parseElf(buf, file);
  const fail = (msg: string, hint?: string): never => {
    throw new BuildError(msg, { loc: { file }, hint });
  };
  if (elf.class !== '64') fail(`kernel is ELF${elf.class}, expected ELF64`);
  if (elf.machine !== 'amd64') fail(`kernel machine is ${elf.machine}, expected x86-64`);
  if (elf.type !== 'exec') fail(`kernel ELF type is ${elf.type}, expected an executable`);
  const entry = buf.readBigUInt64LE(24);
  if (entry === 0n) fail('kernel has no entry point', 'the linker script needs ENTRY(...)');

  const notes = elf.body.programs.filter((p) => p.type === 'note').flatMap((p) => parseNotes(p.data));
  const pvh = notes.find((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!pvh) {
    fail(
      'kernel has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) in a PT_NOTE segment',
      'QEMU -kernel needs it; put the .note.Xen section in a PHDRS note segment',
    );
  }
  const pvhEntry =
    pvh!.desc.length >= 8
      ? pvh!.desc.readBigUInt64LE(0)
      : BigInt(pvh!.desc.length >= 4 ? pvh!.desc.readUInt32LE(0) : 0);
  if (pvhEntry === 0n || pvhEntry >= 1n << 32n)
    fail(`PVH entry ${hex(pvhEntry)} is not a 32-bit physical address`);

  const undef = readSymbols(elf).filter((s) => s.shndx === SHN_UNDEF && s.name !== '' && s.bind !== STB_WEAK);
  if (undef.length > 0) {
    fail(`kernel has undefined symbols: ${undef.map((s) => s.name).join(', ')}`);
  }
  const loads = elf.body.programs.filter((p) => p.type === 'load');
  if (loads.length === 0) fail('kernel has no loadable segment');
  return {
    entry: hex(entry),
    pvhEntry: hex(pvhEntry),
    loadSize: loads.reduce((n, p) => n + p.filesz, 0),
    memSize: loads.reduce((n, p) => n + p.memsz, 0),
    platforms: platformSizes(elf),
  };
}

export interface SectionSizes {
  text: number;
  data: number;
  bss: number;
}

/** text/data/bss of a relocatable object, from its allocated sections. */
export function objectSizes(buf: Buffer, file: string): SectionSizes {
  const elf = parseElf(buf, file);
  const sizes: SectionSizes = { text: 0, data: 0, bss: 0 };
  for (const s of elf.body.sections) {
    const flags = s.flags as Record<string, boolean>;
    if (!flags.alloc) continue;
    if (s.type === 'nobits') sizes.bss += s.size;
    else if (flags.execinstr) sizes.text += s.size;
    else sizes.data += s.size;
  }
  return sizes;
}

/**
 * Code symbols sorted by address, for symbolizing: functions, and the untyped
 * labels assembly code defines, when they lie in an executable section.
 */
export function functionSymbols(buf: Buffer, file: string): ElfSymbol[] {
  const elf = parseElf(buf, file);
  const exec = (shndx: number) => {
    const sec = elf.body.sections[shndx];
    return sec !== undefined && (sec.flags as Record<string, boolean>).execinstr === true;
  };
  return readSymbols(elf)
    .filter((s) => (s.type === STT_FUNC || s.type === STT_NOTYPE) && s.name !== '' && exec(s.shndx))
    .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
