// bzImage for loaders that speak the Linux/x86 boot protocol (Documentation/x86/boot.rst):
// the real-mode setup sectors from kernel.elf's .bzimage.setup section (arch/linux.S),
// then the protected-mode image, which the loader copies to 1 MiB. Only the
// setup header fields that depend on the image's size are filled in here.

import { BuildError } from '../errors.js';
import { parseElf } from './elf.js';

export const BZIMAGE_FILE = 'bzImage';
const SETUP_SECTION = '.bzimage.setup';
const LOAD_ADDR = 0x100000;
const HDR_SETUP_SECTS = 0x1f1;
const HDR_SYSSIZE = 0x1f4;
const HDR_MAGIC = 0x202;
const HDR_CODE32_START = 0x214;
const HDR_INIT_SIZE = 0x260;

/** The bzImage bytes, or undefined when the kernel was built without BOOT_LINUX. */
export function makeBzImage(elfBuf: Buffer, file: string): Buffer | undefined {
  const elf = parseElf(elfBuf, file);
  const setupSec = elf.body.sections.find((s) => s.name === SETUP_SECTION);
  if (!setupSec) return undefined;
  const fail = (msg: string): never => {
    throw new BuildError(msg, { loc: { file } });
  };
  if (setupSec.data.length < 0x270 || setupSec.data.toString('latin1', HDR_MAGIC, HDR_MAGIC + 4) !== 'HdrS') {
    fail(`${SETUP_SECTION} has no Linux setup header ("HdrS" at 0x202)`);
  }
  // The boot sector plus setup sectors; protocol < 2.? loaders read 0 as 4, so never write 0.
  const sects = Math.max(4, Math.ceil(setupSec.data.length / 512) - 1);
  if (sects > 0xff) fail(`${SETUP_SECTION} is ${setupSec.data.length} bytes, more than 255 setup sectors`);
  const setup = Buffer.alloc((sects + 1) * 512);
  setupSec.data.copy(setup);

  const loads = elf.body.programs.filter((p) => p.type === 'load');
  let fileEnd = LOAD_ADDR;
  let memEnd = LOAD_ADDR;
  for (const p of loads) {
    if (p.paddr < LOAD_ADDR) fail(`load segment at ${p.paddr.toString(16)} is below 1 MiB`);
    fileEnd = Math.max(fileEnd, p.paddr + p.filesz);
    memEnd = Math.max(memEnd, p.paddr + p.memsz);
  }
  const code32 = setup.readUInt32LE(HDR_CODE32_START);
  if (code32 !== LOAD_ADDR) fail(`code32_start is 0x${code32.toString(16)}, expected the load address 1 MiB`);
  // Segments are contiguous by the linker script; gaps become zeros, as in objcopy -O binary.
  const prot = Buffer.alloc(fileEnd - LOAD_ADDR);
  for (const p of loads) {
    if (p.data.length !== p.filesz) fail('kernel.elf is truncated');
    p.data.copy(prot, p.paddr - LOAD_ADDR);
  }
  setup.writeUInt8(sects, HDR_SETUP_SECTS);
  setup.writeUInt32LE(Math.ceil(prot.length / 16), HDR_SYSSIZE);
  // init_size: what the kernel occupies from 1 MiB while it runs, bss included.
  setup.writeUInt32LE(memEnd - LOAD_ADDR, HDR_INIT_SIZE);
  return Buffer.concat([setup, prot]);
}
