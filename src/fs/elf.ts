// ELF inspection of application binaries and shared libraries. The file is
// untrusted: every offset and size is checked against the file before use,
// and anything odd becomes one InputError naming the file, never a crash.
// elfy parses the header, program and section tables; the dynamic section,
// interpreter and Go build info are decoded here.

import { readFile } from 'node:fs/promises';
import elfy, { type ElfProgramHeader, type ElfSectionHeader } from 'elfy';
import type { AppRequirements } from '../config/requirements.js';
import { InputError } from '../errors.js';

export interface ElfDynamic {
  needed: string[];
  soname?: string;
  /** DT_RPATH entries as written (unexpanded, $ORIGIN kept). */
  rpath: string[];
  /** DT_RUNPATH entries as written (unexpanded, $ORIGIN kept). */
  runpath: string[];
  /** DT_FLAGS and DT_FLAGS_1 (0 when absent). */
  flags: number;
  flags1: number;
}

export interface GoBuildInfo {
  /** e.g. "go1.19.8"; undefined when the binary is Go but carries no readable build info. */
  version?: string;
  /** Main package path ("path" line of the module info). */
  path?: string;
  /** Main module path ("mod" line of the module info). */
  module?: string;
}

export interface ElfInfo {
  file: string;
  /** ET_EXEC or ET_DYN. */
  elfType: 'exec' | 'dyn';
  entry: number;
  /** PT_INTERP contents. */
  interpreter?: string;
  /** Decoded PT_DYNAMIC; undefined when the file has no dynamic segment. */
  dynamic?: ElfDynamic;
  /** DT_FLAGS_1 has DF_1_PIE. */
  pie: boolean;
  go?: GoBuildInfo;
  /** The symbol that shows the program opens sockets (an imported `socket`, a static one, Go's), if any. */
  sockets?: string;
}

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;
const DT_FLAGS = 30n;
const DT_FLAGS_1 = 0x6ffffffbn;
export const DF_1_PIE = 0x08000000;
const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** How far into the first writable segment Go's own reader looks for the build info. */
const GO_SCAN_LIMIT = 1 << 20;

const MACHINES: Record<number, string> = {
  3: 'i386',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 's390',
  40: 'ARM',
  183: 'AArch64',
  243: 'RISC-V',
  258: 'LoongArch',
};

function bad(file: string, message: string, hint?: string): InputError {
  return new InputError(message, { loc: { file }, hint });
}

/** A well-formed ELF for another class or machine; library searches skip these, as ld.so does. */
export class ElfIncompatibleError extends InputError {}

function incompatible(file: string, message: string): ElfIncompatibleError {
  return new ElfIncompatibleError(message, { loc: { file } });
}

interface Segment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** Reads a u64 as a number; values past 2^53 only occur in garbage and are returned as Infinity. */
function u64(buf: Buffer, off: number): number {
  const v = buf.readBigUInt64LE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

function tableFits(size: number, off: number, count: number, entsize: number): boolean {
  return off >= 0 && Number.isFinite(off) && off + count * entsize <= size;
}

interface Header {
  type: number;
  entry: number;
  phoff: number;
  phnum: number;
  shoff: number;
  shnum: number;
  shstrndx: number;
  sectionsUsable: boolean;
}

function checkHeader(buf: Buffer, file: string): Header {
  if (buf.length < 4 || buf.readUInt32BE(0) !== 0x7f454c46) {
    throw bad(file, 'not an ELF file (bad magic)', 'app.exec must be a Linux x86-64 executable');
  }
  if (buf.length < 6) throw bad(file, `truncated ELF header (${buf.length} bytes)`);
  const cls = buf[4];
  if (cls === 1)
    throw incompatible(file, 'is a 32-bit ELF (ELFCLASS32); osvb runs x86-64 ELF64 binaries only');
  if (cls !== 2) throw bad(file, `invalid ELF class ${cls}`);
  if (buf[5] !== 1)
    throw incompatible(file, `not little-endian (EI_DATA=${buf[5]}); osvb runs x86-64 binaries only`);
  if (buf.length < EHDR_SIZE) throw bad(file, `truncated ELF header (${buf.length} bytes, need 64)`);
  const machine = buf.readUInt16LE(18);
  if (machine !== EM_X86_64) {
    const name = MACHINES[machine] ?? `machine ${machine}`;
    throw incompatible(file, `is an ${name} binary; osvb runs x86-64 binaries only`);
  }
  const type = buf.readUInt16LE(16);
  if (type === 1) throw bad(file, 'is a relocatable object (ET_REL), not an executable');
  if (type === 4) throw bad(file, 'is a core dump (ET_CORE), not an executable');
  if (type !== 2 && type !== 3) throw bad(file, `unknown ELF type ${type}`);
  const phoff = u64(buf, 32);
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  if (phnum === 0) throw bad(file, 'has no program headers; nothing to load');
  if (phnum === 0xffff) throw bad(file, 'uses extended program header numbering (PN_XNUM); not supported');
  if (phentsize !== PHDR_SIZE) throw bad(file, `bad program header size ${phentsize} (expected 56)`);
  if (!tableFits(buf.length, phoff, phnum, PHDR_SIZE)) {
    throw bad(
      file,
      `program header table (offset ${phoff}, ${phnum} entries) lies outside the file (${buf.length} bytes); truncated?`,
    );
  }
  const shoff = u64(buf, 40);
  const shentsize = buf.readUInt16LE(58);
  const shnum = buf.readUInt16LE(60);
  const shstrndx = buf.readUInt16LE(62);
  // Section headers are optional for loading (a loader never reads them), so a
  // missing or damaged table only means no section-based lookups.
  let sectionsUsable =
    shoff > 0 && shnum > 0 && shentsize === SHDR_SIZE && tableFits(buf.length, shoff, shnum, SHDR_SIZE);
  if (sectionsUsable && (shstrndx >= shnum || buf.readUInt32LE(shoff + shstrndx * SHDR_SIZE + 4) !== 3)) {
    sectionsUsable = false;
  }
  return { type, entry: u64(buf, 24), phoff, phnum, shoff, shnum, shstrndx, sectionsUsable };
}

function readSegments(buf: Buffer, h: Header): Segment[] {
  const segs: Segment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * PHDR_SIZE;
    segs.push({
      type: buf.readUInt32LE(o),
      flags: buf.readUInt32LE(o + 4),
      offset: u64(buf, o + 8),
      vaddr: u64(buf, o + 16),
      filesz: u64(buf, o + 32),
      memsz: u64(buf, o + 40),
    });
  }
  return segs;
}

const ELFY_PTYPES: Record<string, number> = { load: PT_LOAD, dynamic: PT_DYNAMIC, interp: PT_INTERP };

/** elfy's view, turned into raw numbers; cross-checked against our own read of the table. */
function fromElfy(p: ElfProgramHeader): Segment {
  const f = p.flags;
  return {
    type: p.type === undefined ? -1 : (ELFY_PTYPES[p.type] ?? -1),
    flags: (f.x ? 1 : 0) | (f.w ? 2 : 0) | (f.r ? 4 : 0),
    offset: p.offset,
    vaddr: p.vaddr,
    filesz: p.filesz,
    memsz: p.memsz,
  };
}

function runElfy(buf: Buffer, file: string): { programs: ElfProgramHeader[]; sections: ElfSectionHeader[] } {
  try {
    return elfy.parse(buf).body;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw bad(file, `malformed ELF (${why})`);
  }
}

/** Maps a virtual address to a file offset through the PT_LOAD segments; undefined if unmapped. */
function vaddrToOffset(segs: Segment[], vaddr: number, len: number): number | undefined {
  for (const s of segs) {
    if (s.type !== PT_LOAD) continue;
    if (vaddr >= s.vaddr && vaddr + len <= s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return undefined;
}

function cString(buf: Buffer, start: number, end: number): string | undefined {
  const nul = buf.indexOf(0, start);
  if (nul < 0 || nul >= end) return undefined;
  return buf.toString('utf8', start, nul);
}

function readInterp(buf: Buffer, file: string, seg: Segment): string {
  const s = cString(buf, seg.offset, seg.offset + seg.filesz);
  if (s === undefined || s.length === 0) throw bad(file, 'PT_INTERP is not a NUL-terminated path');
  if (!s.startsWith('/')) throw bad(file, `PT_INTERP "${s}" is not an absolute path`);
  return s;
}

function readDynamic(buf: Buffer, file: string, seg: Segment, segs: Segment[]): ElfDynamic {
  const needOffs: number[] = [];
  const rpathOffs: number[] = [];
  const runpathOffs: number[] = [];
  let soOff: number | undefined;
  let strtab: number | undefined;
  let strsz: number | undefined;
  let flags = 0;
  let flags1 = 0;
  const count = Math.floor(seg.filesz / 16);
  for (let i = 0; i < count; i++) {
    const o = seg.offset + i * 16;
    const tag = buf.readBigInt64LE(o);
    if (tag === DT_NULL) break;
    const val = u64(buf, o + 8);
    if (tag === DT_NEEDED) needOffs.push(val);
    else if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_STRSZ) strsz = val;
    else if (tag === DT_SONAME) soOff = val;
    else if (tag === DT_RPATH) rpathOffs.push(val);
    else if (tag === DT_RUNPATH) runpathOffs.push(val);
    else if (tag === DT_FLAGS) flags = buf.readUInt32LE(o + 8);
    else if (tag === DT_FLAGS_1) flags1 = buf.readUInt32LE(o + 8);
  }
  const anyStrings = needOffs.length + rpathOffs.length + runpathOffs.length + (soOff === undefined ? 0 : 1);
  let str = (_off: number, what: string): string => {
    throw bad(file, `dynamic section has ${what} strings but no DT_STRTAB`);
  };
  if (anyStrings > 0 && strtab !== undefined) {
    const tabOff = vaddrToOffset(segs, strtab, 1);
    if (tabOff === undefined) {
      throw bad(file, `DT_STRTAB address 0x${strtab.toString(16)} is not in any loaded segment`);
    }
    // Bound the table by DT_STRSZ when present, else by the end of its segment.
    let tabEnd = buf.length;
    for (const s of segs) {
      if (s.type === PT_LOAD && tabOff >= s.offset && tabOff < s.offset + s.filesz)
        tabEnd = s.offset + s.filesz;
    }
    if (strsz !== undefined) tabEnd = Math.min(tabEnd, tabOff + strsz);
    str = (off, what) => {
      const at = tabOff + off;
      const s = Number.isFinite(at) && at < tabEnd ? cString(buf, at, tabEnd) : undefined;
      if (s === undefined) throw bad(file, `${what} string offset ${off} is outside DT_STRTAB`);
      return s;
    };
  }
  const splitPath = (s: string): string[] => (s === '' ? [] : s.split(':'));
  return {
    needed: needOffs.map((o) => str(o, 'DT_NEEDED')),
    soname: soOff === undefined ? undefined : str(soOff, 'DT_SONAME'),
    rpath: rpathOffs.flatMap((o) => splitPath(str(o, 'DT_RPATH'))),
    runpath: runpathOffs.flatMap((o) => splitPath(str(o, 'DT_RUNPATH'))),
    flags,
    flags1,
  };
}

function readUvarint(buf: Buffer, pos: number, end: number): [value: number, next: number] | undefined {
  let v = 0;
  let shift = 0;
  for (let p = pos; p < end && shift < 35; p++) {
    const b = buf[p]!;
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [v, p + 1];
    shift += 7;
  }
  return undefined;
}

function parseModInfo(mod: string, info: GoBuildInfo): void {
  for (const line of mod.split('\n')) {
    const [key, val] = line.split('\t');
    if (key === 'path' && val) info.path = val;
    else if (key === 'mod' && val) info.module = val;
  }
}

/** Decodes the Go build info blob at `p` (the magic). Returns what could be read. */
function decodeGoBuildInfo(buf: Buffer, p: number, end: number, segs: Segment[]): GoBuildInfo {
  const info: GoBuildInfo = {};
  if (p + 32 > end) return info;
  const ptrSize = buf[p + 14]!;
  const flags = buf[p + 15]!;
  if (flags & 2) {
    // Go 1.18+: version and module info inline as uvarint-prefixed strings.
    const v = readUvarint(buf, p + 32, end);
    if (!v || v[1] + v[0] > end) return info;
    info.version = buf.toString('utf8', v[1], v[1] + v[0]);
    const m = readUvarint(buf, v[1] + v[0], end);
    if (m && m[1] + m[0] <= end) {
      let mod = buf.toString('latin1', m[1], m[1] + m[0]);
      // The module info is framed by 16-byte sentinels.
      if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, -16);
      parseModInfo(Buffer.from(mod, 'latin1').toString('utf8'), info);
    }
    return info;
  }
  // Before Go 1.18: two pointers to Go string headers {data, len}.
  if ((ptrSize !== 4 && ptrSize !== 8) || flags & 1) return info;
  const readPtr = (off: number): number => (ptrSize === 8 ? u64(buf, off) : buf.readUInt32LE(off));
  const readGoString = (addr: number): string | undefined => {
    const hdr = vaddrToOffset(segs, addr, 2 * ptrSize);
    if (hdr === undefined) return undefined;
    const data = readPtr(hdr);
    const len = readPtr(hdr + ptrSize);
    if (len > 1 << 20) return undefined;
    const at = vaddrToOffset(segs, data, len);
    return at === undefined ? undefined : buf.toString('utf8', at, at + len);
  };
  info.version = readGoString(readPtr(p + 16));
  const mod = readGoString(readPtr(p + 16 + ptrSize));
  if (mod !== undefined) parseModInfo(mod.length >= 33 ? mod.slice(16, -16) : mod, info);
  return info;
}

function findGo(buf: Buffer, segs: Segment[], sections: ElfSectionHeader[]): GoBuildInfo | undefined {
  const inRange = (s: ElfSectionHeader): boolean =>
    s.type !== 'nobits' && Number.isFinite(s.off) && s.off + s.size <= buf.length;
  const sec = sections.find((s) => s.name === '.go.buildinfo' && inRange(s));
  if (sec) {
    const at = buf.indexOf(GO_BUILDINFO_MAGIC, sec.off);
    if (at >= 0 && at < sec.off + sec.size) return decodeGoBuildInfo(buf, at, sec.off + sec.size, segs);
  }
  // No section table (stripped with sstrip and the like): Go puts the blob,
  // 16-byte aligned, near the start of the first writable segment.
  const data = segs.find((s) => s.type === PT_LOAD && s.flags & 2);
  if (data) {
    const end = Math.min(data.offset + data.filesz, data.offset + GO_SCAN_LIMIT);
    for (let at = buf.indexOf(GO_BUILDINFO_MAGIC, data.offset); at >= 0 && at < end; ) {
      if ((at - data.offset) % 16 === 0) return decodeGoBuildInfo(buf, at, end, segs);
      at = buf.indexOf(GO_BUILDINFO_MAGIC, at + 1);
    }
  }
  // Old Go (before build info existed) still has these.
  if (sections.some((s) => s.name === '.note.go.buildid' || s.name === '.gopclntab')) return {};
  return undefined;
}

const SYM_SIZE = 24;
/** Imported from libc by a dynamic program (undefined in .dynsym). */
const SOCKET_IMPORTS = new Set(['socket']);
/** Defined in a static program's .symtab: libc's wrapper (musl, glibc) or Go's. */
const SOCKET_DEFINED = new Set(['socket', '__socket', 'syscall.socket', 'syscall.Socket', 'net.sysSocket']);

/**
 * The first symbol in .dynsym (imports) or .symtab (definitions) that shows
 * the program opens sockets; undefined when none does or the tables are
 * stripped. Offsets come from the file: each is checked before use.
 */
function findSocketSymbol(buf: Buffer, sections: ElfSectionHeader[]): string | undefined {
  for (const sec of sections) {
    const dyn = sec.name === '.dynsym';
    if (!dyn && sec.name !== '.symtab') continue;
    const strtab = sections[sec.link];
    if (!strtab || !tableFits(buf.length, sec.off, Math.floor(sec.size / SYM_SIZE), SYM_SIZE)) continue;
    if (!Number.isFinite(strtab.off) || strtab.off + strtab.size > buf.length) continue;
    const strEnd = strtab.off + strtab.size;
    const want = dyn ? SOCKET_IMPORTS : SOCKET_DEFINED;
    for (let o = sec.off; o + SYM_SIZE <= sec.off + sec.size; o += SYM_SIZE) {
      const nameOff = buf.readUInt32LE(o);
      const shndx = buf.readUInt16LE(o + 6);
      // Imports have no section (SHN_UNDEF); definitions do.
      if (nameOff === 0 || (dyn ? shndx !== 0 : shndx === 0)) continue;
      const name = cString(buf, strtab.off + nameOff, strEnd);
      if (name !== undefined && want.has(name.split('@')[0]!)) return name;
    }
  }
  return undefined;
}

/** Parses an ELF image already in memory. Pure; throws InputError naming `file`. */
export function parseElf(buf: Buffer, file: string): ElfInfo {
  const h = checkHeader(buf, file);
  const own = readSegments(buf, h);
  const segs = own;
  let sections: ElfSectionHeader[] = [];
  if (h.sectionsUsable) {
    const body = runElfy(buf, file);
    const theirs = body.programs.map(fromElfy);
    // elfy and our reader must agree on the loadable layout; if not, the file is lying somewhere.
    for (let i = 0; i < own.length; i++) {
      const a = own[i]!;
      const b = theirs[i];
      if (
        a.type === PT_LOAD &&
        (!b || b.offset !== a.offset || b.filesz !== a.filesz || b.vaddr !== a.vaddr)
      ) {
        throw bad(file, `malformed ELF (program header ${i} reads inconsistently)`);
      }
    }
    sections = body.sections;
  }
  let interp: Segment | undefined;
  let dyn: Segment | undefined;
  segs.forEach((s, i) => {
    if (s.type !== PT_LOAD && s.type !== PT_INTERP && s.type !== PT_DYNAMIC) return;
    if (!Number.isFinite(s.offset + s.filesz) || s.offset + s.filesz > buf.length) {
      const what = s.type === PT_LOAD ? 'PT_LOAD' : s.type === PT_INTERP ? 'PT_INTERP' : 'PT_DYNAMIC';
      throw bad(
        file,
        `program header ${i} (${what}) extends past the end of the file (offset ${s.offset} + size ${s.filesz} > ${buf.length}); truncated?`,
      );
    }
    if (s.type === PT_LOAD && s.filesz > s.memsz)
      throw bad(file, `program header ${i} (PT_LOAD) has filesz > memsz`);
    if (s.type === PT_INTERP) {
      if (interp) throw bad(file, 'more than one PT_INTERP');
      interp = s;
    }
    if (s.type === PT_DYNAMIC) {
      if (dyn) throw bad(file, 'more than one PT_DYNAMIC');
      dyn = s;
    }
  });
  if (!segs.some((s) => s.type === PT_LOAD)) throw bad(file, 'has no PT_LOAD segment; nothing to load');
  const dynamic = dyn ? readDynamic(buf, file, dyn, segs) : undefined;
  const info: ElfInfo = {
    file,
    elfType: h.type === 2 ? 'exec' : 'dyn',
    entry: h.entry,
    dynamic,
    pie: dynamic !== undefined && (dynamic.flags1 & DF_1_PIE) !== 0,
  };
  if (interp) info.interpreter = readInterp(buf, file, interp);
  const go = findGo(buf, segs, sections);
  if (go) info.go = go;
  const sockets = findSocketSymbol(buf, sections);
  if (sockets) info.sockets = sockets;
  return info;
}

/** Reads and parses an ELF file from the host. */
export async function readElf(file: string): Promise<ElfInfo> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw bad(file, 'no such file');
    if (code === 'EISDIR') throw bad(file, 'is a directory, not an executable');
    if (code === 'EACCES') throw bad(file, 'permission denied');
    throw bad(file, `cannot read (${code ?? String(err)})`);
  }
  return parseElf(buf, file);
}

/**
 * What kind of executable this is, as the kernel's loader sees it.
 * Throws when the file cannot be run as a program (a plain shared library).
 */
export function executableKind(info: ElfInfo): Exclude<AppRequirements['kind'], 'none'> {
  if (info.interpreter !== undefined) return 'dynamic';
  const needed = info.dynamic?.needed ?? [];
  if (info.elfType === 'exec') {
    if (needed.length > 0) {
      throw bad(info.file, `needs shared libraries (${needed.join(', ')}) but has no PT_INTERP`);
    }
    return 'static';
  }
  // Without DF_1_PIE (older linkers), a static PIE still has an entry point, no
  // DT_NEEDED and no soname; a library has a soname, needs libc or starts at 0.
  if (info.pie || (needed.length === 0 && info.entry !== 0 && info.dynamic?.soname === undefined))
    return 'static-pie';
  throw bad(
    info.file,
    'is a shared library (ET_DYN without PT_INTERP or DF_1_PIE), not an executable',
    'point app.exec at the program, not a library',
  );
}

/** The requirements of an application binary (interpreter, direct DT_NEEDED, Go). */
export function requirementsOf(info: ElfInfo, opts: { python?: boolean } = {}): AppRequirements {
  const req: AppRequirements = {
    kind: executableKind(info),
    needed: [...(info.dynamic?.needed ?? [])],
    go: info.go !== undefined,
    python: opts.python ?? false,
  };
  if (info.interpreter !== undefined) req.interpreter = info.interpreter;
  if (info.sockets !== undefined) req.sockets = info.sockets;
  return req;
}
