// The BIOS half of a disk: GRUB's boot.img in the MBR (with our partition
// table) pointing at core.img in the gap before the first partition. This is
// what grub-install/grub-bios-setup write, done on a file so no root, loop
// device or block-device probing is needed.

import { BuildError } from '../errors.js';

export const SECTOR = 512;
/** The first partition starts at 1 MiB, as every partitioning tool does; core.img lives below it. */
export const PART_START_LBA = 2048;

/** Offsets in GRUB 2's i386-pc boot.img and diskboot.img (include/grub/i386/pc/boot.h). */
const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DISK_ID = 0x1b8;
const PART_TABLE = 0x1be;
const SIGNATURE = 0x1fe;
/** The blocklist at the end of core.img's first sector: start LBA (u64), sectors (u16), segment (u16). */
const BLOCKLIST = SECTOR - 12;

export interface BiosBoot {
  /** Sector 0: boot.img with the kernel sector set, the disk id and one partition. */
  mbr: Buffer;
  /** core.img padded to whole sectors, its blocklist pointing at its own sectors 1..n. */
  core: Buffer;
}

export interface Partition {
  startLba: number;
  sectors: number;
  /** MBR partition type: 0xef is an EFI system partition (FAT). */
  type: number;
}

/** Sector 0 and the core.img sectors that go at LBA 1. */
export function biosBoot(
  bootImg: Uint8Array,
  coreImg: Uint8Array,
  part: Partition,
  diskId: number,
): BiosBoot {
  if (bootImg.length !== SECTOR) {
    throw new BuildError(`GRUB boot.img is ${bootImg.length} bytes, expected ${SECTOR}`);
  }
  const coreSectors = Math.ceil(coreImg.length / SECTOR);
  if (coreSectors < 2) throw new BuildError('GRUB core.img is too small to be an i386-pc core image');
  if (1 + coreSectors > part.startLba) {
    throw new BuildError(
      `GRUB core.img (${coreSectors} sectors) does not fit before the partition at LBA ${part.startLba}`,
    );
  }
  if (part.startLba + part.sectors > 0xffffffff)
    throw new BuildError('disk too large for an MBR partition table');
  const mbr = Buffer.from(bootImg);
  mbr.writeBigUInt64LE(1n, KERNEL_SECTOR);
  mbr[BOOT_DRIVE] = 0xff; // use the drive the BIOS booted from (%dl)
  mbr.writeUInt32LE(diskId >>> 0, DISK_ID);
  mbr.writeUInt16LE(0, DISK_ID + 4);
  // boot.img's code runs into the table area; the table must be ours alone.
  mbr.fill(0, PART_TABLE, SIGNATURE);
  const e = PART_TABLE;
  mbr[e] = 0x80; // active
  // CHS fields say "use LBA" (the maximum), as for any disk over 8 GiB.
  mbr.set([0xfe, 0xff, 0xff], e + 1);
  mbr[e + 4] = part.type;
  mbr.set([0xfe, 0xff, 0xff], e + 5);
  mbr.writeUInt32LE(part.startLba, e + 8);
  mbr.writeUInt32LE(part.sectors, e + 12);
  mbr.writeUInt16LE(0xaa55, SIGNATURE);

  const core = Buffer.alloc(coreSectors * SECTOR);
  core.set(coreImg);
  const segment = core.readUInt16LE(BLOCKLIST + 10);
  core.writeBigUInt64LE(2n, BLOCKLIST); // core.img's second sector is LBA 2
  core.writeUInt16LE(coreSectors - 1, BLOCKLIST + 8);
  core.writeUInt16LE(segment, BLOCKLIST + 10);
  return { mbr, core };
}
