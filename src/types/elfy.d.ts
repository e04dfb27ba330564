// elfy ships no types; this covers the part osvb uses.
declare module 'elfy' {
  export interface ElfProgramHeader {
    /** 'load', 'dynamic', 'interp', ...; undefined for types elfy has no name for. */
    type: string | undefined;
    /** Parsed p_flags: { r, w, x } set for the bits present. */
    flags: Record<string, boolean>;
    offset: number;
    vaddr: number;
    paddr: number;
    filesz: number;
    memsz: number;
    align: number;
    /** buf.slice(offset, offset + filesz): silently short when the file is truncated. */
    data: Buffer;
  }
  export interface ElfSectionHeader {
    name: string;
    /** 'progbits', 'strtab', ...; the raw number for types elfy has no name for. */
    type: string | number;
    flags: Record<string, boolean>;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
    /** elfy reads these two at wrong offsets for ELF64; do not rely on them. */
    addralign: number;
    entsize: number;
    data: Buffer;
  }
  export interface ElfFile {
    class: string;
    endian: string;
    osabi: string;
    abiversion: number;
    type: string;
    machine: string;
    version: number;
    entry: number;
    phoff: number;
    shoff: number;
    flags: number;
    ehsize: number;
    phentsize: number;
    phnum: number;
    shentsize: number;
    shnum: number;
    shstrndx: number;
    body: { programs: ElfProgramHeader[]; sections: ElfSectionHeader[] };
  }
  export function parse(buf: Buffer): ElfFile;
  const elfy: { parse: typeof parse };
  export default elfy;
}
