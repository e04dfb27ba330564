// Image directory → a disk that boots by itself under BIOS (SeaBIOS) and UEFI
// (OVMF): an MBR disk whose one partition (type 0xef, FAT) is at once the EFI
// system partition and the place GRUB reads the kernel, the root filesystem
// and grub.cfg from. BIOS: boot.img in the MBR → core.img in the gap before
// the partition. UEFI: \EFI\BOOT\BOOTX64.EFI, the removable-media path every
// firmware tries. Both GRUBs load the kernel through its Multiboot header.
// qemu-img converts the raw disk to the other formats. Nothing needs root.

import { open, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BuildError, InputError } from '../errors.js';
import { tempSibling } from '../kernel/atomic.js';
import { type Manifest, readManifest } from '../kernel/manifest.js';
import { execTool, firstLines } from '../kernel/spawn.js';
import { CONFIG_PATH, earlyConfig, grubConfig, KERNEL_PATH, ROOTFS_PATH } from './grubcfg.js';
import { biosBoot, PART_START_LBA, SECTOR } from './mbr.js';
import { findGrubPlatform, findPkgTool } from './tools.js';

export const DISK_FORMATS = ['raw', 'qcow2', 'vhdx', 'vmdk'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

const MiB = 1024 * 1024;
const MULTIBOOT_MAGIC = 0x1badb002;
/** GRUB modules each image carries: disk access, the partition table, FAT, finding our partition, Multiboot. */
const GRUB_MODULES = ['part_msdos', 'fat', 'search', 'search_fs_uuid', 'configfile', 'normal', 'multiboot'];

/** True when the file's first 8 KiB hold a valid Multiboot (v1) header, as GRUB requires. */
export function hasMultibootHeader(head: Uint8Array): boolean {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (let off = 0; off + 12 <= Math.min(head.length, 8192); off += 4) {
    if (v.getUint32(off, true) !== MULTIBOOT_MAGIC) continue;
    const flags = v.getUint32(off + 4, true);
    const sum = v.getUint32(off + 8, true);
    if (((MULTIBOOT_MAGIC + flags + sum) & 0xffffffff) >>> 0 === 0) return true;
  }
  return false;
}

/** Why an image cannot become a bootable disk, or undefined when it can. */
export async function diskProblem(imageDir: string, m: Manifest): Promise<string | undefined> {
  if (m.run.machine === 'microvm') {
    return 'the image was built for QEMU microvm, which has no firmware that boots disks';
  }
  const fh = await open(join(imageDir, m.kernel.file), 'r');
  try {
    const head = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (!hasMultibootHeader(head.subarray(0, bytesRead))) return 'the kernel has no Multiboot header';
  } finally {
    await fh.close();
  }
  return undefined;
}

export interface DiskOptions {
  format: DiskFormat;
  /** The disk file to write (replaced atomically). */
  out: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (step: string) => void;
}

export interface DiskResult {
  file: string;
  format: DiskFormat;
  /** Bytes the guest sees. */
  virtualSize: number;
  /** Bytes of the file on the host. */
  fileSize: number;
  /** FAT volume serial, as GRUB's search --fs-uuid spells it. */
  fsSerial: string;
  cmdline: string;
}

async function tool(
  path: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<string> {
  const r = await execTool(path, args, env);
  if (r.exitCode !== 0) {
    throw new BuildError(`${what} failed: ${path} exited ${r.exitCode}: ${firstLines(r.stderr || r.stdout)}`);
  }
  return r.stdout;
}

/** The FAT volume serial, derived from the image so the same image gives the same disk. */
export function fsSerialFor(buildKey: string): { hex: string; uuid: string } {
  const hex = /^[0-9a-f]{8}/.test(buildKey) ? buildKey.slice(0, 8) : '05b0b0b0';
  return { hex, uuid: `${hex.slice(0, 4)}-${hex.slice(4, 8)}` };
}

export async function packDisk(imageDirArg: string, opts: DiskOptions): Promise<DiskResult> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const imageDir = resolve(imageDirArg);
  const m = await readManifest(imageDir);
  const problem = await diskProblem(imageDir, m);
  if (problem) {
    throw new InputError(`cannot make a bootable disk: ${problem}`, {
      loc: { file: imageDir },
      hint: 'build it with kernel.profile: q35 (or pc) and kernel.config BOOT_MULTIBOOT: y, or give osvb pkg --config app.yaml',
    });
  }
  const tools = {
    mkimage: await findPkgTool('grub-mkimage', 'grub-common', env),
    mformat: await findPkgTool('mformat', 'mtools', env),
    mmd: await findPkgTool('mmd', 'mtools', env),
    mcopy: await findPkgTool('mcopy', 'mtools', env),
    qemuImg: opts.format === 'raw' ? '' : await findPkgTool('qemu-img', 'qemu-utils', env),
  };
  const bios = findGrubPlatform('i386-pc', env);
  const efi = findGrubPlatform('x86_64-efi', env);
  const cfg = grubConfig({ cmdline: m.kernel.cmdline, rootfs: m.rootfs !== undefined, name: m.name });
  const serial = fsSerialFor(m.buildKey);

  const work = await mkdtemp(join(tmpdir(), 'osvb-pkg-'));
  const out = resolve(opts.out);
  const tmpOut = tempSibling(out);
  try {
    progress('grub');
    await writeFile(join(work, 'early.cfg'), earlyConfig(serial.uuid));
    await writeFile(join(work, 'grub.cfg'), cfg);
    const mk = (p: typeof bios, file: string, extra: string[]) =>
      tool(
        tools.mkimage,
        [
          '-O',
          p.name,
          '-d',
          p.dir,
          '-o',
          file,
          '-c',
          join(work, 'early.cfg'),
          '-p',
          '/osvb',
          ...extra,
          ...GRUB_MODULES,
        ],
        env,
        `grub-mkimage (${p.name})`,
      );
    await mk(bios, join(work, 'core.img'), ['biosdisk']);
    await mk(efi, join(work, 'BOOTX64.EFI'), ['part_gpt']);

    // The partition: everything it holds, plus room for FAT's own tables.
    const files: [string, string][] = [
      [join(imageDir, m.kernel.file), KERNEL_PATH],
      [join(work, 'grub.cfg'), CONFIG_PATH],
      [join(work, 'BOOTX64.EFI'), '/EFI/BOOT/BOOTX64.EFI'],
    ];
    if (m.rootfs) files.push([join(imageDir, m.rootfs.file), ROOTFS_PATH]);
    let content = 0;
    for (const [host] of files) content += (await stat(host)).size;
    const partBytes = Math.max(16 * MiB, Math.ceil((content * 1.05 + 2 * MiB) / MiB) * MiB);
    const partSectors = partBytes / SECTOR;
    const diskBytes = PART_START_LBA * SECTOR + partBytes;

    progress('partition');
    const raw = opts.format === 'raw' ? tmpOut : join(work, 'disk.raw');
    const fh = await open(raw, 'wx', 0o644);
    try {
      await fh.truncate(diskBytes);
      const boot = biosBoot(
        await readFile(join(bios.dir, 'boot.img')),
        await readFile(join(work, 'core.img')),
        { startLba: PART_START_LBA, sectors: partSectors, type: 0xef },
        Number.parseInt(serial.hex, 16),
      );
      await fh.write(boot.mbr, 0, boot.mbr.length, 0);
      await fh.write(boot.core, 0, boot.core.length, SECTOR);
    } finally {
      await fh.close();
    }
    const img = `${raw}@@${PART_START_LBA * SECTOR}`;
    const mtoolsEnv = { ...env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };
    const fat32 = partBytes > 1024 * MiB ? ['-F'] : [];
    await tool(
      tools.mformat,
      [
        '-i',
        img,
        '-T',
        String(partSectors),
        '-h',
        '64',
        '-s',
        '32',
        '-H',
        String(PART_START_LBA),
        '-N',
        serial.hex,
        '-v',
        'OSVB',
        ...fat32,
        '::',
      ],
      mtoolsEnv,
      'mformat',
    );
    await tool(tools.mmd, ['-i', img, '::/osvb', '::/EFI', '::/EFI/BOOT'], mtoolsEnv, 'mmd');
    progress('copy');
    for (const [host, guest] of files) {
      await tool(tools.mcopy, ['-i', img, '-o', host, `::${guest}`], mtoolsEnv, `mcopy ${guest}`);
    }
    if (opts.format !== 'raw') {
      progress('convert');
      await tool(
        tools.qemuImg,
        ['convert', '-f', 'raw', '-O', opts.format, raw, tmpOut],
        env,
        'qemu-img convert',
      );
    }
    await rename(tmpOut, out);
    return {
      file: out,
      format: opts.format,
      virtualSize: diskBytes,
      fileSize: (await stat(out)).size,
      fsSerial: serial.uuid,
      cmdline: m.kernel.cmdline,
    };
  } catch (err) {
    await rm(tmpOut, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
