// The root filesystem archive: cpio "newc" (SVR4 portable ASCII without CRC),
// the format Linux's initramfs uses. Each member is a 110-byte ASCII header of
// hex fields, the NUL-terminated name padded to 4 bytes, then the data padded
// to 4 bytes; a "TRAILER!!!" member ends the archive. That is all the kernel
// has to parse to unpack it into tmpfs.
//
// Output is deterministic: entries in path order, inode numbers by position,
// uid/gid 0. A file copied from the host keeps its modification time; what
// osvb makes (directories, symlinks, generated files) gets the newest of those
// times, so equal inputs give an equal archive. SOURCE_DATE_EPOCH (`mtime`)
// replaces every time when set. It is written to a temporary file and renamed
// into place, so a failed build never leaves a truncated archive behind.

import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { BuildError, InputError } from '../errors.js';
import type { RootfsEntry } from './tree.js';

export const CPIO_NEWC_MAGIC = '070701';
export const CPIO_TRAILER = 'TRAILER!!!';
/** Zero bytes after the trailer that the firmware may overwrite. */
export const TAIL_PAD = 64 * 1024;
const HEADER_SIZE = 110;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const FLUSH_AT = 1 << 20;
const READ_AHEAD = 16;

export interface ArchiveOptions {
  /** mtime recorded for every member (seconds since the epoch), e.g. SOURCE_DATE_EPOCH; default: the host files' own. */
  mtime?: number;
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org): seconds since the epoch, or undefined when unset. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) {
    throw new InputError(`SOURCE_DATE_EPOCH=${v} is not a number of seconds from 0 to 4294967295`, {
      loc: { file: 'SOURCE_DATE_EPOCH' },
    });
  }
  return Number(v);
}

/** Each host file's mtime (whole seconds), and the newest of them for everything else. */
async function hostTimes(
  entries: readonly RootfsEntry[],
): Promise<{ of: Map<string, number>; newest: number }> {
  const of = new Map<string, number>();
  const sources = [...new Set(entries.flatMap((e) => (e.kind === 'file' && e.source ? [e.source] : [])))];
  for (let i = 0; i < sources.length; i += 64) {
    await Promise.all(
      sources.slice(i, i + 64).map(async (src) => {
        const st = await stat(src).catch(() => undefined);
        // newc holds 32 bits; a missing file is reported when it is read.
        if (st) of.set(src, Math.min(0xffffffff, Math.max(0, Math.floor(st.mtimeMs / 1000))));
      }),
    );
  }
  let newest = 0;
  for (const t of of.values()) newest = Math.max(newest, t);
  return { of, newest };
}

export interface ArchiveResult {
  path: string;
  /** Archive size in bytes. */
  size: number;
  sha256: string;
  /** Members written, not counting the trailer. */
  members: number;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

/** The exact size of the archive writeCpioArchive makes of `entries`. */
export function archiveSize(entries: readonly RootfsEntry[]): number {
  const member = (name: string, data: number) => {
    const head = HEADER_SIZE + Buffer.byteLength(name) + 1;
    return head + pad4(head) + data + pad4(data);
  };
  let size = member(CPIO_TRAILER, 0) + TAIL_PAD;
  for (const e of entries) {
    const data = e.kind === 'file' ? e.size : e.kind === 'symlink' ? Buffer.byteLength(e.target) : 0;
    size += member(e.path.replace(/^\/+/, ''), data);
  }
  return size;
}

/** One newc header plus name and padding. */
export function newcHeader(f: {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  size: number;
  name: string;
}): Buffer {
  const name = Buffer.from(`${f.name}\0`, 'utf8');
  const fields = [f.ino, f.mode, 0, 0, f.nlink, f.mtime, f.size, 0, 0, 0, 0, name.length, 0];
  const head = Buffer.from(CPIO_NEWC_MAGIC + fields.map(hex8).join(''), 'latin1');
  return Buffer.concat([head, name, Buffer.alloc(pad4(HEADER_SIZE + name.length))]);
}

function typeBits(e: RootfsEntry): number {
  return e.kind === 'dir' ? S_IFDIR : e.kind === 'file' ? S_IFREG : S_IFLNK;
}

/** The bytes an entry stands for (file content, symlink target); checks size and patches. */
export async function contentOf(e: RootfsEntry): Promise<Buffer> {
  if (e.kind === 'symlink') return Buffer.from(e.target, 'utf8');
  if (e.kind === 'dir') return Buffer.alloc(0);
  let data: Buffer;
  if (e.data) data = Buffer.from(e.data);
  else {
    const src = e.source!;
    data = await readFile(src).catch((err: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read (${err.code ?? String(err)})`, { loc: { file: src } });
    });
    if (data.length !== e.size) {
      throw new InputError(`changed while the image was being built (${e.size} -> ${data.length} bytes)`, {
        loc: { file: src },
      });
    }
  }
  if (e.patch) {
    if (e.patch.offset + e.patch.bytes.length > data.length) {
      throw new BuildError(`content patch past the end of ${e.path}`);
    }
    data.set(e.patch.bytes, e.patch.offset);
  }
  return data;
}

/**
 * Writes `entries` (sorted, as collectRootfs returns them) as a newc cpio
 * archive at `outPath`, atomically.
 */
export async function writeCpioArchive(
  entries: readonly RootfsEntry[],
  outPath: string,
  opts: ArchiveOptions = {},
): Promise<ArchiveResult> {
  const times = opts.mtime === undefined ? await hostTimes(entries) : undefined;
  const mtimeOf = (e: RootfsEntry): number =>
    opts.mtime ?? (e.kind === 'file' && e.source ? times?.of.get(e.source) : undefined) ?? times?.newest ?? 0;
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.path === sorted[i - 1]!.path)
      throw new BuildError(`archive: duplicate member ${sorted[i]!.path}`);
  }
  const tmp = posix.join(
    posix.dirname(outPath),
    `.${posix.basename(outPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const hash = createHash('sha256');
  const fh = await open(tmp, 'wx', 0o644);
  let size = 0;
  let chunks: Buffer[] = [];
  let chunkBytes = 0;
  const put = async (b: Buffer): Promise<void> => {
    chunks.push(b);
    chunkBytes += b.length;
    if (chunkBytes >= FLUSH_AT) await flush();
  };
  const flush = async (): Promise<void> => {
    if (chunkBytes === 0) return;
    const all = Buffer.concat(chunks, chunkBytes);
    chunks = [];
    chunkBytes = 0;
    hash.update(all);
    size += all.length;
    await fh.write(all);
  };
  try {
    // Read a few files ahead while earlier ones are written.
    const pending = new Map<number, Promise<Buffer>>();
    const want = (i: number): void => {
      const e = sorted[i];
      if (e && !pending.has(i)) {
        const p = contentOf(e);
        // Its failure is reported when its turn comes (or not at all if an earlier one fails).
        p.catch(() => undefined);
        pending.set(i, p);
      }
    };
    for (let i = 0; i < sorted.length; i++) {
      for (let k = i; k < i + READ_AHEAD; k++) want(k);
      const e = sorted[i]!;
      const data = await pending.get(i)!;
      pending.delete(i);
      if (data.length > 0xffffffff)
        throw new InputError('file is larger than 4 GiB; newc cannot store it', { loc: { file: e.path } });
      const name = e.path.replace(/^\/+/, '');
      await put(
        newcHeader({
          ino: i + 1,
          mode: typeBits(e) | (e.mode & 0o7777),
          nlink: e.kind === 'dir' ? 2 : 1,
          mtime: mtimeOf(e),
          size: data.length,
          name,
        }),
      );
      await put(data);
      await put(Buffer.alloc(pad4(data.length)));
    }
    await put(newcHeader({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, name: CPIO_TRAILER }));
    // Zeros after the trailer: QEMU's -kernel loader puts the initrd right
    // below the memory it leaves to the firmware, and SeaBIOS, setting up
    // each virtio-blk disk for booting, allocates past that and overwrites
    // the archive's last bytes (q35 with three disks: 664 of them).
    await put(Buffer.alloc(TAIL_PAD));
    await flush();
    await fh.sync();
    await fh.close();
    await rename(tmp, outPath);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { path: outPath, size, sha256: hash.digest('hex'), members: sorted.length };
}

export interface CpioMember {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  devmajor: number;
  devminor: number;
  rdevmajor: number;
  rdevminor: number;
  data: Buffer;
}

/**
 * Reads a newc archive strictly (the same checks the kernel must make): magic,
 * hex fields, bounds, NUL-terminated names, a trailer. Throws InputError
 * naming `file` and the offset.
 */
export function parseCpio(buf: Buffer, file: string): CpioMember[] {
  const out: CpioMember[] = [];
  let off = 0;
  const bad = (msg: string): InputError =>
    new InputError(`malformed cpio archive at byte ${off}: ${msg}`, { loc: { file } });
  for (;;) {
    if (off + HEADER_SIZE > buf.length) throw bad('truncated header (no TRAILER!!!)');
    const magic = buf.toString('latin1', off, off + 6);
    if (magic !== CPIO_NEWC_MAGIC) throw bad(`bad magic "${magic}" (want ${CPIO_NEWC_MAGIC})`);
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const s = buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(s)) throw bad(`header field ${i} is not hex: "${s}"`);
      f.push(Number.parseInt(s, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, size, devmajor, devminor, rdevmajor, rdevminor, namesize] =
      f as [number, number, number, number, number, number, number, number, number, number, number, number];
    if (namesize < 1 || namesize > 4096) throw bad(`bad name size ${namesize}`);
    const nameStart = off + HEADER_SIZE;
    if (nameStart + namesize > buf.length) throw bad('name runs past the end');
    if (buf[nameStart + namesize - 1] !== 0) throw bad('name is not NUL-terminated');
    const name = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    if (name.includes('\0')) throw bad('name contains a NUL byte');
    // Members must stay inside the directory they are unpacked into.
    if (name !== CPIO_TRAILER && (name.startsWith('/') || name.split('/').includes('..'))) {
      throw bad(`member name "${name}" is absolute or contains ".."`);
    }
    const dataStart = nameStart + namesize + pad4(HEADER_SIZE + namesize);
    if (dataStart + size > buf.length) throw bad(`data of ${name} (${size} bytes) runs past the end`);
    if (name === CPIO_TRAILER) return out;
    out.push({
      name,
      ino,
      mode,
      uid,
      gid,
      nlink,
      mtime,
      devmajor,
      devminor,
      rdevmajor,
      rdevminor,
      data: buf.subarray(dataStart, dataStart + size),
    });
    off = dataStart + size + pad4(size);
  }
}
