// elfy ships no types; this covers the part osvb uses.
declare module 'elfy' {
  export interface ElfProgramHeader {
    type: string;
    flags: Record<string, boolean> | number;
    offset: number;
    vaddr: number;
    paddr: number;
    filesz: number;
    memsz: number;
    align: number;
    data: Buffer;
  }
  export interface ElfSectionHeader {
    name: string;
    type: string;
    flags: Record<string, boolean> | number;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
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
