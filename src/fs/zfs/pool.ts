// Writes a root filesystem entry list as a ZFS pool image: one file vdev
// (ashift 9) holding four vdev labels (XDR nvlist config + uberblock ring,
// SHA-256 embedded checksums), the MOS (object directory, pool config, DSL
// directories and datasets as `zpool create` lays them out: root, $MOS,
// $FREE, $ORIGIN with its snapshot, feature ZAPs, metaslab space maps) and
// one ZPL filesystem (version 4: znode_phys_t bonuses, directories as micro
// or fat ZAPs, files in 128 KiB records under indirect blocks). Data and
// dataset metadata are lz4-compressed where it saves 1/8, all blocks carry
// fletcher4 checksums. Output is a pure function of the input: GUIDs and ZAP
// salts derive from a digest of the entry list, times are fixed.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, truncate, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { BuildError, InputError } from '../../errors.js';
import { contentOf } from '../archive.js';
import type { RootfsEntry } from '../tree.js';
import { sealEmbedded } from './checksum.js';
import { type BlkPtr, BlockWriter, type Extent, encodeBlkPtr, ObjsetBuilder, writeObject } from './dmu.js';
import {
  BPOBJ_SIZE_V1,
  DD_FLAG_USED_BREAKDOWN,
  DS_FLAG_UNIQUE_ACCURATE,
  DSL_DATASET_PHYS_SIZE,
  DSL_DEADLIST_PHYS_SIZE,
  DSL_DIR_PHYS_SIZE,
  DT_DIR,
  DT_LNK,
  DT_REG,
  Ost,
  Ot,
  POOL_STATE_EXPORTED,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  SM_RUN_MAX,
  SPA_MINBLOCKSHIFT,
  SPA_OLD_MAXBLOCKSIZE,
  SPA_VERSION_FEATURES,
  SPACE_MAP_SIZE_V0,
  UBERBLOCK_MAGIC,
  VDEV_LABEL_END_SIZE,
  VDEV_LABEL_SIZE,
  VDEV_LABEL_START_SIZE,
  VDEV_PHYS_OFFSET,
  VDEV_PHYS_SIZE,
  VDEV_UBERBLOCK_RING_OFFSET,
  ZFS_ACL_TRIVIAL,
  ZFS_ACL_VERSION_FUID,
  ZFS_ARCHIVE,
  ZFS_AV_MODIFIED,
  ZNODE_PHYS_SIZE,
  ZPL_VERSION,
} from './format.js';
import { type NvList, packNvlist } from './nvlist.js';
import { buildFatZap, buildMicroZap, fitsMicro, type ZapEntry } from './zap.js';

export interface ZfsPoolOptions {
  /** Pool name (default "osvb"). */
  poolName?: string;
  /** Time recorded everywhere (seconds since the epoch). Default 0. */
  mtime?: number;
  /** Path recorded for the vdev in its label (default /dev/vda, where the guest sees it). */
  vdevPath?: string;
  /** ZPL version: 4 (znode_phys_t bonuses, the default) or 5 (system attributes, as zpool create makes). */
  zplVersion?: 4 | 5;
}

export interface ZfsPoolResult {
  path: string;
  /** Image size in bytes. */
  size: number;
  sha256: string;
  poolName: string;
  poolGuid: bigint;
  /** Allocated bytes (data and metadata). */
  allocated: number;
  /** ZPL objects (files, directories, symlinks and the filesystem's own). */
  objects: number;
}

/** The txg every block is born in; $ORIGIN and the datasets are created in txg 1, as by `zpool create`. */
const TXG = 4n;
const CREATE_TXG = 1n;
const ASHIFT = 9n;
const MIN_MS_SHIFT = 24;
const MAX_MS_SHIFT = 32;
const LZ4_FEATURE = 'org.illumos:lz4_compress';
const LZ4_DESCRIPTION = 'LZ4 compression algorithm support.';
const INLINE_SYMLINK_MAX = 320 - ZNODE_PHYS_SIZE;
const ZPL_NAME_MAX = 255;

/** Deterministic 64-bit values (GUIDs, salts) from a digest of the input. */
class Seeds {
  private n = 0;
  constructor(private readonly seed: Buffer) {}
  next(): bigint {
    const h = createHash('sha256')
      .update(this.seed)
      .update(String(this.n++))
      .digest();
    return h.readBigUInt64LE(0) | 1n;
  }
}

const u64s = (...v: (bigint | number)[]): Buffer => {
  const b = Buffer.alloc(8 * v.length);
  v.forEach((x, i) => {
    b.writeBigUInt64LE(BigInt(x), 8 * i);
  });
  return b;
};

const pad = (b: Buffer, size: number): Buffer => Buffer.concat([b, Buffer.alloc(size - b.length)]);

/** Splits content into the object's blocks: one block up to 128 KiB, else 128 KiB records. */
function fileBlocks(data: Buffer): { blockSize: number; blocks: Buffer[] } {
  if (data.length === 0) return { blockSize: 512, blocks: [] };
  if (data.length <= SPA_OLD_MAXBLOCKSIZE) {
    const bs = Math.ceil(data.length / 512) * 512;
    return { blockSize: bs, blocks: [pad(data, bs)] };
  }
  const blocks: Buffer[] = [];
  for (let off = 0; off < data.length; off += SPA_OLD_MAXBLOCKSIZE) {
    const part = data.subarray(off, off + SPA_OLD_MAXBLOCKSIZE);
    blocks.push(part.length === SPA_OLD_MAXBLOCKSIZE ? part : pad(part, SPA_OLD_MAXBLOCKSIZE));
  }
  return { blockSize: SPA_OLD_MAXBLOCKSIZE, blocks };
}

/** ZAP object blocks: a micro ZAP when it fits, else a fat ZAP. */
function zapBlocks(salt: bigint, entries: ZapEntry[]): { blockSize: number; blocks: Buffer[] } {
  if (fitsMicro(entries)) {
    const b = buildMicroZap(salt, entries);
    return { blockSize: b.length, blocks: [b] };
  }
  const blocks = buildFatZap(salt, entries);
  return { blockSize: blocks[0]!.length, blocks };
}

/** Trivial NFSv4 ACL for a mode (owner@, group@, everyone@ allow entries), as zfs_acl_phys_t. */
function trivialAcl(mode: number, isDir: boolean): Buffer {
  const acl = Buffer.alloc(88);
  const rwx = (bits: number): number =>
    (bits & 4 ? 0x1 : 0) | (bits & 2 ? 0x2 | 0x4 | (isDir ? 0x40 : 0) : 0) | (bits & 1 ? 0x20 : 0);
  const common = 0x80 | 0x8 | 0x20000 | 0x100000; // read attributes, named attrs, ACL; synchronize
  const aces: [number, number][] = [
    [0x1000, rwx(mode >> 6) | common | 0x100 | 0x10 | 0x40000 | 0x80000], // owner@: may change attrs, ACL, owner
    [0x2000 | 0x40, rwx(mode >> 3) | common], // group@
    [0x4000, rwx(mode) | common], // everyone@
  ];
  acl.writeUInt32LE(aces.length * 8, 8); // z_acl_size
  acl.writeUInt16LE(ZFS_ACL_VERSION_FUID, 12);
  acl.writeUInt16LE(aces.length, 14);
  aces.forEach(([flags, mask], i) => {
    acl.writeUInt16LE(0, 16 + i * 8); // ACE_ACCESS_ALLOWED_ACE_TYPE
    acl.writeUInt16LE(flags, 18 + i * 8);
    acl.writeUInt32LE(mask, 20 + i * 8);
  });
  return acl;
}

interface Znode {
  mode: number;
  size: number;
  parent: number;
  links: number;
  time: number;
}

/** znode_phys_t: times, generation, mode, size, parent, links, flags, ids, ACL. */
function znodePhys(z: Znode): Buffer {
  const b = Buffer.alloc(ZNODE_PHYS_SIZE);
  for (let i = 0; i < 4; i++) b.writeBigUInt64LE(BigInt(z.time), i * 16); // atime mtime ctime crtime
  b.writeBigUInt64LE(TXG, 64);
  b.writeBigUInt64LE(BigInt(z.mode), 72);
  b.writeBigUInt64LE(BigInt(z.size), 80);
  b.writeBigUInt64LE(BigInt(z.parent), 88);
  b.writeBigUInt64LE(BigInt(z.links), 96);
  b.writeBigUInt64LE(ZFS_ACL_TRIVIAL | ZFS_ARCHIVE | ZFS_AV_MODIFIED, 120);
  trivialAcl(z.mode, (z.mode & 0o170000) === S_IFDIR).copy(b, 176);
  return b;
}

/** OpenZFS's zfs_attr_table: name, length (0: variable), byte-swap class. */
const SA_ATTRS: [string, number, number][] = [
  ['ZPL_ATIME', 16, 0],
  ['ZPL_MTIME', 16, 0],
  ['ZPL_CTIME', 16, 0],
  ['ZPL_CRTIME', 16, 0],
  ['ZPL_GEN', 8, 0],
  ['ZPL_MODE', 8, 0],
  ['ZPL_SIZE', 8, 0],
  ['ZPL_PARENT', 8, 0],
  ['ZPL_LINKS', 8, 0],
  ['ZPL_XATTR', 8, 0],
  ['ZPL_RDEV', 8, 0],
  ['ZPL_FLAGS', 8, 0],
  ['ZPL_UID', 8, 0],
  ['ZPL_GID', 8, 0],
  ['ZPL_PAD', 32, 0],
  ['ZPL_ZNODE_ACL', 88, 0],
  ['ZPL_DACL_COUNT', 8, 0],
  ['ZPL_SYMLINK', 0, 3],
  ['ZPL_SCANSTAMP', 32, 3],
  ['ZPL_DACL_ACES', 0, 4],
  ['ZPL_DXATTR', 0, 3],
  ['ZPL_PROJID', 8, 0],
];
const sa = (name: string): number => SA_ATTRS.findIndex(([n]) => n === name);
/** zfs_mknode's attribute order; symlinks add ZPL_SYMLINK (a second layout). */
const SA_LAYOUT_NODE = [
  'MODE',
  'SIZE',
  'GEN',
  'UID',
  'GID',
  'PARENT',
  'FLAGS',
  'ATIME',
  'MTIME',
  'CTIME',
  'CRTIME',
  'LINKS',
  'DACL_COUNT',
  'DACL_ACES',
].map((n) => sa(`ZPL_${n}`));
const SA_LAYOUT_LINK = [...SA_LAYOUT_NODE, sa('ZPL_SYMLINK')];
const SA_MAGIC = 0x2f505a;
/** Room for a symlink target in an SA bonus (no spill blocks in this writer). */
const SA_SYMLINK_MAX = 320 - 16 - 8 * 10 - 4 * 16 - 24;

/** An SA bonus buffer (sa_hdr_phys_t, then the layout's attributes, each 8-byte aligned). */
function saBonus(z: Znode, link?: Buffer): Buffer {
  const acl = trivialAcl(z.mode, (z.mode & 0o170000) === S_IFDIR);
  const aces = acl.subarray(16, 16 + acl.readUInt32LE(8));
  const hdr = Buffer.alloc(link ? 16 : 8);
  hdr.writeUInt32LE(SA_MAGIC, 0);
  hdr.writeUInt16LE((link ? 3 : 2) | ((hdr.length >> 3) << 10), 4);
  hdr.writeUInt16LE(aces.length, 6);
  if (link) hdr.writeUInt16LE(link.length, 8);
  const words = [z.mode, z.size, Number(TXG), 0, 0, z.parent, 0].map(BigInt);
  const fixed = Buffer.alloc(8 * words.length + 4 * 16 + 16);
  words.forEach((v, i) => {
    fixed.writeBigUInt64LE(v, 8 * i);
  });
  for (let i = 0; i < 4; i++) fixed.writeBigUInt64LE(BigInt(z.time), 8 * words.length + 16 * i);
  fixed.writeBigUInt64LE(0x0000000800000000n | 0x0000040000000000n, 48); // ZPL_FLAGS: archive, av_modified
  fixed.writeBigUInt64LE(BigInt(z.links), 8 * words.length + 64);
  fixed.writeBigUInt64LE(BigInt(acl.readUInt16LE(14)), 8 * words.length + 72);
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
  return Buffer.concat([hdr, fixed, pad(Buffer.from(aces)), ...(link ? [pad(link)] : [])]);
}

interface DirNode {
  obj: number;
  mode: number;
  parent: number;
  children: ZapEntry[];
  subdirs: number;
}

interface Dataset {
  bp: BlkPtr;
  used: number;
  lsize: number;
  psize: number;
  objects: number;
}

/** Writes the ZPL filesystem: every entry, directories as ZAPs, the master node. */
async function writeZpl(
  w: BlockWriter,
  entries: readonly RootfsEntry[],
  seeds: Seeds,
  time: number,
  version: 4 | 5 = 4,
): Promise<Dataset> {
  const os = new ObjsetBuilder();
  const v5 = version === 5;
  const bonusOf = (z: Znode, link?: Buffer): { bonusType: Ot; bonus: Buffer } =>
    v5 ? { bonusType: Ot.SA, bonus: saBonus(z, link) } : { bonusType: Ot.ZNODE, bonus: znodePhys(z) };
  const salt = seeds.next();
  const saltOf = (obj: number): bigint => BigInt.asUintN(64, salt + BigInt(obj) * 0x9e3779b97f4a7c15n) | 1n;
  const master = os.allocate();
  const unlinked = os.allocate();
  const rootObj = os.allocate();
  const dirs = new Map<string, DirNode>([
    ['/', { obj: rootObj, mode: 0o755, parent: rootObj, children: [], subdirs: 0 }],
  ]);
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    if (e.path === '/') {
      if (e.kind !== 'dir')
        throw new InputError('the guest root must be a directory', { loc: { file: e.path } });
      dirs.get('/')!.mode = e.mode;
      continue;
    }
    const name = posix.basename(e.path);
    if (Buffer.byteLength(name, 'utf8') > ZPL_NAME_MAX)
      throw new InputError(`name longer than ${ZPL_NAME_MAX} bytes`, { loc: { file: e.path } });
    const parent = dirs.get(posix.dirname(e.path));
    if (!parent)
      throw new BuildError(`zfs: ${e.path} comes before its directory (or its parent is not a directory)`);
    if (parent.children.some((c) => c.name === name)) throw new BuildError(`zfs: ${e.path} is listed twice`);
    const obj = os.allocate();
    const mode = e.mode & 0o7777;
    if (e.kind === 'dir') {
      dirs.set(e.path, { obj, mode, parent: parent.obj, children: [], subdirs: 0 });
      parent.subdirs++;
      parent.children.push({ name, value: [(DT_DIR << 60n) | BigInt(obj)] });
      continue;
    }
    const data = await contentOf(e);
    if (e.kind === 'symlink') {
      const z = { mode: S_IFLNK | mode, size: data.length, parent: parent.obj, links: 1, time };
      if (v5 && data.length > SA_SYMLINK_MAX)
        throw new BuildError(
          `zfs: ${e.path}: a symlink longer than ${SA_SYMLINK_MAX} bytes needs a spill block (ZPL 5)`,
        );
      const inline = v5 || data.length <= INLINE_SYMLINK_MAX;
      const fb = inline ? { blockSize: 512, blocks: [] } : fileBlocks(data);
      const zn = znodePhys(z);
      os.set(
        obj,
        writeObject(w, {
          type: Ot.PLAIN_FILE_CONTENTS,
          ...(v5
            ? bonusOf(z, Buffer.from(data))
            : { bonusType: Ot.ZNODE, bonus: inline ? Buffer.concat([zn, data]) : zn }),
          ...fb,
          compress: true,
        }),
      );
      parent.children.push({ name, value: [(DT_LNK << 60n) | BigInt(obj)] });
      continue;
    }
    os.set(
      obj,
      writeObject(w, {
        type: Ot.PLAIN_FILE_CONTENTS,
        ...bonusOf({ mode: S_IFREG | mode, size: data.length, parent: parent.obj, links: 1, time }),
        ...fileBlocks(data),
        compress: true,
      }),
    );
    parent.children.push({ name, value: [(DT_REG << 60n) | BigInt(obj)] });
  }
  for (const d of dirs.values()) {
    const zb = bonusOf({
      mode: S_IFDIR | d.mode,
      size: 2 + d.children.length,
      parent: d.parent,
      links: 2 + d.subdirs,
      time,
    });
    const z = zapBlocks(saltOf(d.obj), d.children);
    os.set(d.obj, writeObject(w, { type: Ot.DIRECTORY_CONTENTS, ...zb, ...z, compress: true }));
  }
  const masterEntries: ZapEntry[] = [
    { name: 'VERSION', value: [v5 ? 5n : ZPL_VERSION] },
    { name: 'ROOT', value: [BigInt(rootObj)] },
    { name: 'DELETE_QUEUE', value: [BigInt(unlinked)] },
    { name: 'normalization', value: [0n] },
    { name: 'utf8only', value: [0n] },
    { name: 'casesensitivity', value: [0n] },
  ];
  if (v5) {
    // The SA registry (every ZPL attribute) and the two layouts znodes use.
    const saMaster = os.allocate();
    const registry = os.allocate();
    const layouts = os.allocate();
    const reg: ZapEntry[] = SA_ATTRS.map(([name, len, bswap], i) => ({
      name,
      value: [BigInt(i) | (BigInt(bswap) << 16n) | (BigInt(len) << 24n)],
    }));
    const lay: ZapEntry[] = [
      { name: '2', value: SA_LAYOUT_NODE.map(BigInt), intlen: 2 },
      { name: '3', value: SA_LAYOUT_LINK.map(BigInt), intlen: 2 },
    ];
    os.set(
      registry,
      writeObject(w, { type: Ot.SA_ATTR_REGISTRATION, ...zapBlocks(saltOf(registry), reg), compress: true }),
    );
    os.set(
      layouts,
      writeObject(w, { type: Ot.SA_ATTR_LAYOUTS, ...zapBlocks(saltOf(layouts), lay), compress: true }),
    );
    const sm: ZapEntry[] = [
      { name: 'LAYOUTS', value: [BigInt(layouts)] },
      { name: 'REGISTRY', value: [BigInt(registry)] },
    ];
    os.set(
      saMaster,
      writeObject(w, { type: Ot.SA_MASTER_NODE, ...zapBlocks(saltOf(saMaster), sm), compress: true }),
    );
    masterEntries.push({ name: 'SA_ATTRS', value: [BigInt(saMaster)] });
  }
  os.set(
    master,
    writeObject(w, { type: Ot.MASTER_NODE, ...zapBlocks(saltOf(master), masterEntries), compress: true }),
  );
  os.set(
    unlinked,
    writeObject(w, { type: Ot.UNLINKED_SET, ...zapBlocks(saltOf(unlinked), []), compress: true }),
  );
  const bp = os.finish(w, Ost.ZFS, true);
  return { bp, used: os.used, lsize: os.lsize, psize: os.psize, objects: os.count };
}

interface Geometry {
  msShift: number;
  msCount: number;
}

interface PoolIds {
  name: string;
  poolGuid: bigint;
  vdevGuid: bigint;
  vdevPath: string;
  time: number;
  seeds: Seeds;
}

/** One-word space map entries (all SM_ALLOC) for the allocated extents inside metaslab m. */
function spaceMapEntries(
  geo: Geometry,
  m: number,
  extents: readonly Extent[],
): { words: Buffer; allocated: number } {
  const msSize = 2 ** geo.msShift;
  const msStart = m * msSize;
  const words: bigint[] = [];
  let allocated = 0;
  for (const [a, b] of extents) {
    const stop = Math.min(b, msStart + msSize);
    for (let off = Math.max(a, msStart); off < stop; ) {
      const run = Math.min(SM_RUN_MAX, (stop - off) >> SPA_MINBLOCKSHIFT);
      words.push((BigInt((off - msStart) >> SPA_MINBLOCKSHIFT) << 16n) | BigInt(run - 1));
      off += run << SPA_MINBLOCKSHIFT;
      allocated += run << SPA_MINBLOCKSHIFT;
    }
  }
  return { words: u64s(...words), allocated };
}

function vdevTree(ids: PoolIds, geo: Geometry, msArray: number): NvList {
  return {
    type: 'file',
    id: 0n,
    guid: ids.vdevGuid,
    path: ids.vdevPath,
    metaslab_array: BigInt(msArray),
    metaslab_shift: BigInt(geo.msShift),
    ashift: ASHIFT,
    asize: BigInt(geo.msCount) * 2n ** BigInt(geo.msShift),
    is_log: 0n,
    create_txg: TXG,
  };
}

function poolHead(ids: PoolIds): NvList {
  return {
    version: SPA_VERSION_FEATURES,
    name: ids.name,
    state: POOL_STATE_EXPORTED,
    txg: TXG,
    pool_guid: ids.poolGuid,
    errata: 0n,
  };
}

function dslDir(f: {
  head?: number;
  parent?: number;
  origin?: number;
  childMap: number;
  props: number;
  used?: Dataset | { used: number; lsize: number; psize: number };
  child?: { used: number; lsize: number; psize: number };
  clones?: number;
  time: number;
}): Buffer {
  const b = Buffer.alloc(DSL_DIR_PHYS_SIZE);
  const head = f.used ?? { used: 0, lsize: 0, psize: 0 };
  const child = f.child ?? { used: 0, lsize: 0, psize: 0 };
  b.writeBigUInt64LE(BigInt(f.time), 0);
  b.writeBigUInt64LE(BigInt(f.head ?? 0), 8);
  b.writeBigUInt64LE(BigInt(f.parent ?? 0), 16);
  b.writeBigUInt64LE(BigInt(f.origin ?? 0), 24);
  b.writeBigUInt64LE(BigInt(f.childMap), 32);
  b.writeBigUInt64LE(BigInt(head.used + child.used), 40);
  b.writeBigUInt64LE(BigInt(head.psize + child.psize), 48);
  b.writeBigUInt64LE(BigInt(head.lsize + child.lsize), 56);
  b.writeBigUInt64LE(BigInt(f.props), 80);
  b.writeBigUInt64LE(DD_FLAG_USED_BREAKDOWN, 96);
  b.writeBigUInt64LE(BigInt(head.used), 104); // DD_USED_HEAD
  b.writeBigUInt64LE(BigInt(child.used), 120); // DD_USED_CHILD
  b.writeBigUInt64LE(BigInt(f.clones ?? 0), 144);
  return b;
}

function dslDataset(f: {
  dir: number;
  prevSnap?: number;
  prevSnapTxg?: bigint;
  nextSnap?: number;
  snapnames?: number;
  numChildren?: number;
  deadlist: number;
  space?: Dataset;
  fsid: bigint;
  guid: bigint;
  nextClones?: number;
  time: number;
}): Buffer {
  const b = Buffer.alloc(DSL_DATASET_PHYS_SIZE);
  b.writeBigUInt64LE(BigInt(f.dir), 0);
  b.writeBigUInt64LE(BigInt(f.prevSnap ?? 0), 8);
  b.writeBigUInt64LE(f.prevSnapTxg ?? 0n, 16);
  b.writeBigUInt64LE(BigInt(f.nextSnap ?? 0), 24);
  b.writeBigUInt64LE(BigInt(f.snapnames ?? 0), 32);
  b.writeBigUInt64LE(BigInt(f.numChildren ?? 0), 40);
  b.writeBigUInt64LE(BigInt(f.time), 48);
  b.writeBigUInt64LE(CREATE_TXG, 56);
  b.writeBigUInt64LE(BigInt(f.deadlist), 64);
  if (f.space) {
    b.writeBigUInt64LE(BigInt(f.space.used), 72);
    b.writeBigUInt64LE(BigInt(f.space.psize), 80);
    b.writeBigUInt64LE(BigInt(f.space.lsize), 88);
    b.writeBigUInt64LE(BigInt(f.space.used), 96);
    encodeBlkPtr(f.space.bp, b, 128);
  }
  b.writeBigUInt64LE(f.fsid & ((1n << 56n) - 1n), 104);
  b.writeBigUInt64LE(f.guid, 112);
  b.writeBigUInt64LE(DS_FLAG_UNIQUE_ACCURATE, 120);
  b.writeBigUInt64LE(BigInt(f.nextClones ?? 0), 256);
  return b;
}

interface MosResult {
  rootBp: BlkPtr;
  extents: Extent[];
  used: number;
  msArray: number;
}

/**
 * Writes the MOS for the given allocated `extents` (which include the MOS
 * itself) and its own size `mosUsed`; the caller repeats until both
 * stop changing. MOS blocks are not compressed, so their sizes do not
 * depend on those two numbers.
 */
function writeMos(
  w: BlockWriter,
  ids: PoolIds,
  geo: Geometry,
  ds: Dataset,
  extents: readonly Extent[],
  mosUsed: number,
): MosResult {
  const mos = new ObjsetBuilder();
  const guess = { used: mosUsed, lsize: mosUsed, psize: mosUsed };
  const t = ids.time;
  const salt = BigInt.asUintN(64, ids.poolGuid * 31n);
  const zap = (obj: number, type: Ot, entries: ZapEntry[], bonusType?: Ot, bonus?: Buffer): void => {
    const saltOf = BigInt.asUintN(64, salt + BigInt(obj) * 0x9e3779b97f4a7c15n) | 1n;
    mos.set(obj, writeObject(w, { type, bonusType, bonus, ...zapBlocks(saltOf, entries), compress: false }));
  };
  const plain = (obj: number, type: Ot, bonusType: Ot, bonus: Buffer, blockSize = 512): void => {
    mos.set(obj, writeObject(w, { type, bonusType, bonus, blockSize, blocks: [], compress: false }));
  };
  const bpobj = (obj: number): void =>
    plain(obj, Ot.BPOBJ, Ot.BPOBJ_HDR, Buffer.alloc(BPOBJ_SIZE_V1), SPA_OLD_MAXBLOCKSIZE);
  const hexKey = (obj: number): ZapEntry => ({ name: obj.toString(16), value: [BigInt(obj)] });

  const objdir = mos.allocate();
  const config = mos.allocate();
  const syncBplist = mos.allocate();
  const rootDir = mos.allocate();
  const rootProps = mos.allocate();
  const rootChildren = mos.allocate();
  const special = (name: string): { dir: number; props: number; children: number; name: string } => ({
    name,
    dir: mos.allocate(),
    props: mos.allocate(),
    children: mos.allocate(),
  });
  const mosDir = special('$MOS');
  const freeDir = special('$FREE');
  const freeBpobj = mos.allocate();
  const originDir = special('$ORIGIN');
  const originHead = mos.allocate();
  const originHeadSnaps = mos.allocate();
  const originHeadDeadlist = mos.allocate();
  const originHeadBpobj = mos.allocate();
  const originSnap = mos.allocate();
  const originSnapDeadlist = mos.allocate();
  const originNextClones = mos.allocate();
  const originClones = mos.allocate();
  const featRead = mos.allocate();
  const featWrite = mos.allocate();
  const featDesc = mos.allocate();
  const rootDs = mos.allocate();
  const rootDsSnaps = mos.allocate();
  const rootDsDeadlist = mos.allocate();
  const rootDsBpobj = mos.allocate();
  const msArray = mos.allocate();
  const spaceMaps: number[] = [];
  const msSize = 2 ** geo.msShift;
  for (let m = 0; m < geo.msCount; m++) {
    const used = extents.some(([a, b]) => a < (m + 1) * msSize && b > m * msSize);
    spaceMaps.push(used ? mos.allocate() : 0);
  }

  zap(objdir, Ot.OBJECT_DIRECTORY, [
    { name: 'root_dataset', value: [BigInt(rootDir)] },
    { name: 'config', value: [BigInt(config)] },
    { name: 'sync_bplist', value: [BigInt(syncBplist)] },
    { name: 'free_bpobj', value: [BigInt(freeBpobj)] },
    { name: 'features_for_read', value: [BigInt(featRead)] },
    { name: 'features_for_write', value: [BigInt(featWrite)] },
    { name: 'feature_descriptions', value: [BigInt(featDesc)] },
    { name: 'creation_version', value: [SPA_VERSION_FEATURES] },
    { name: 'deflate', value: [1n] },
  ]);
  const leaf = vdevTree(ids, geo, msArray);
  const cfg = packNvlist({
    ...poolHead(ids),
    vdev_children: 1n,
    vdev_tree: { type: 'root', id: 0n, guid: ids.poolGuid, create_txg: TXG, children: [leaf] },
    features_for_read: {},
  });
  mos.set(
    config,
    writeObject(w, {
      type: Ot.PACKED_NVLIST,
      bonusType: Ot.PACKED_NVLIST_SIZE,
      bonus: u64s(cfg.length),
      blockSize: 16384,
      blocks: [pad(cfg, Math.ceil(cfg.length / 16384) * 16384)],
      compress: false,
    }),
  );
  bpobj(syncBplist);

  const child = { used: ds.used + mosUsed, lsize: ds.lsize + mosUsed, psize: ds.psize + mosUsed };
  plain(
    rootDir,
    Ot.DSL_DIR,
    Ot.DSL_DIR,
    dslDir({
      head: rootDs,
      origin: originSnap,
      childMap: rootChildren,
      props: rootProps,
      used: ds,
      child: guess,
      time: t,
    }),
  );
  void child;
  zap(rootProps, Ot.DSL_PROPS, []);
  zap(
    rootChildren,
    Ot.DSL_DIR_CHILD_MAP,
    [mosDir, freeDir, originDir].map((s) => ({ name: s.name, value: [BigInt(s.dir)] })),
  );
  for (const s of [mosDir, freeDir, originDir]) {
    const isOrigin = s === originDir;
    plain(
      s.dir,
      Ot.DSL_DIR,
      Ot.DSL_DIR,
      dslDir({
        head: isOrigin ? originHead : 0,
        parent: rootDir,
        childMap: s.children,
        props: s.props,
        used: s === mosDir ? guess : undefined,
        clones: isOrigin ? originClones : 0,
        time: t,
      }),
    );
    zap(s.props, Ot.DSL_PROPS, []);
    zap(s.children, Ot.DSL_DIR_CHILD_MAP, []);
  }
  bpobj(freeBpobj);

  const deadlistHdr = Buffer.alloc(DSL_DEADLIST_PHYS_SIZE);
  plain(
    originHead,
    Ot.DSL_DATASET,
    Ot.DSL_DATASET,
    dslDataset({
      dir: originDir.dir,
      prevSnap: originSnap,
      prevSnapTxg: CREATE_TXG,
      snapnames: originHeadSnaps,
      deadlist: originHeadDeadlist,
      fsid: ids.seeds.next(),
      guid: ids.seeds.next(),
      time: t,
    }),
  );
  zap(originHeadSnaps, Ot.DSL_DS_SNAP_MAP, [{ name: '$ORIGIN', value: [BigInt(originSnap)] }]);
  zap(
    originHeadDeadlist,
    Ot.DEADLIST,
    [{ name: '0', value: [BigInt(originHeadBpobj)] }],
    Ot.DEADLIST_HDR,
    deadlistHdr,
  );
  bpobj(originHeadBpobj);
  plain(
    originSnap,
    Ot.DSL_DATASET,
    Ot.DSL_DATASET,
    dslDataset({
      dir: originDir.dir,
      nextSnap: originHead,
      numChildren: 2,
      deadlist: originSnapDeadlist,
      nextClones: originNextClones,
      fsid: ids.seeds.next(),
      guid: ids.seeds.next(),
      time: t,
    }),
  );
  zap(originSnapDeadlist, Ot.DEADLIST, [], Ot.DEADLIST_HDR, deadlistHdr);
  zap(originNextClones, Ot.NEXT_CLONES, [hexKey(rootDs)]);
  zap(originClones, Ot.DSL_CLONES, [hexKey(rootDs)]);

  zap(featRead, Ot.ZAP_OTHER, [{ name: LZ4_FEATURE, value: [1n] }]);
  zap(featWrite, Ot.ZAP_OTHER, []);
  zap(featDesc, Ot.ZAP_OTHER, [{ name: LZ4_FEATURE, value: Buffer.from(`${LZ4_DESCRIPTION}\0`) }]);

  plain(
    rootDs,
    Ot.DSL_DATASET,
    Ot.DSL_DATASET,
    dslDataset({
      dir: rootDir,
      prevSnap: originSnap,
      prevSnapTxg: CREATE_TXG,
      snapnames: rootDsSnaps,
      deadlist: rootDsDeadlist,
      space: ds,
      fsid: ids.seeds.next(),
      guid: ids.seeds.next(),
      time: t,
    }),
  );
  zap(rootDsSnaps, Ot.DSL_DS_SNAP_MAP, []);
  zap(
    rootDsDeadlist,
    Ot.DEADLIST,
    [{ name: '0', value: [BigInt(rootDsBpobj)] }],
    Ot.DEADLIST_HDR,
    deadlistHdr,
  );
  bpobj(rootDsBpobj);

  const arr = u64s(...spaceMaps);
  mos.set(
    msArray,
    writeObject(w, {
      type: Ot.OBJECT_ARRAY,
      blockSize: Math.ceil(arr.length / 512) * 512,
      blocks: [pad(arr, Math.ceil(arr.length / 512) * 512)],
      compress: false,
    }),
  );
  spaceMaps.forEach((sm, m) => {
    if (!sm) return;
    const { words: ent, allocated } = spaceMapEntries(geo, m, extents);
    mos.set(
      sm,
      writeObject(w, {
        type: Ot.SPACE_MAP,
        bonusType: Ot.SPACE_MAP_HEADER,
        bonus: u64s(sm, ent.length, allocated).subarray(0, SPACE_MAP_SIZE_V0),
        blockSize: 4096,
        blocks: [pad(ent, 4096)],
        compress: false,
      }),
    );
  });
  const start = w.next;
  const rootBp = mos.finish(w, Ost.META, false);
  void start;
  return { rootBp, extents: w.extents.map(([a, b]): Extent => [a, b]), used: mos.used, msArray };
}

/**
 * An upper bound of the bytes the dataset and the MOS take: every file
 * uncompressed in its blocks plus indirect blocks, a dnode and a ZAP entry per
 * entry, directory ZAP blocks, and the MOS.
 */
function estimateBytes(entries: readonly RootfsEntry[]): number {
  let bytes = 4 << 20;
  const dirs = new Map<string, number>();
  for (const e of entries) {
    const parent = posix.dirname(e.path);
    dirs.set(parent, (dirs.get(parent) ?? 0) + 1);
    bytes += 1024;
    const size = e.kind === 'file' ? e.size : e.kind === 'symlink' ? Buffer.byteLength(e.target) : 0;
    if (size <= SPA_OLD_MAXBLOCKSIZE) bytes += Math.ceil(size / 512) * 512;
    else {
      const blocks = Math.ceil(size / SPA_OLD_MAXBLOCKSIZE);
      bytes += blocks * SPA_OLD_MAXBLOCKSIZE + (Math.ceil(blocks / 1024) + 1) * SPA_OLD_MAXBLOCKSIZE * 2;
    }
  }
  for (const n of dirs.values()) bytes += (2 + Math.ceil(n / 100)) * 16384;
  // A block never crosses a metaslab boundary: up to 128 KiB lost at each.
  return Math.ceil(bytes * 1.01) + 64 * SPA_OLD_MAXBLOCKSIZE;
}

function chooseGeometry(bytes: number): Geometry {
  let msShift = MIN_MS_SHIFT;
  while (msShift < MAX_MS_SHIFT && bytes / 2 ** msShift > 64) msShift++;
  const msCount = Math.max(1, Math.ceil(bytes / 2 ** msShift));
  if (bytes > msCount * 2 ** msShift) throw new BuildError('zfs: the pool is too large (more than 256 GiB)');
  return { msShift, msCount };
}

function label(
  ids: PoolIds,
  geo: Geometry,
  msArray: number,
  rootBp: BlkPtr,
  l: number,
  deviceSize: number,
): { buf: Buffer; at: number } {
  const at = l < 2 ? l * VDEV_LABEL_SIZE : deviceSize - (4 - l) * VDEV_LABEL_SIZE;
  const buf = Buffer.alloc(VDEV_LABEL_SIZE);
  const nv = packNvlist({
    ...poolHead(ids),
    top_guid: ids.vdevGuid,
    guid: ids.vdevGuid,
    vdev_children: 1n,
    vdev_tree: vdevTree(ids, geo, msArray),
    features_for_read: {},
  });
  if (nv.length > VDEV_PHYS_SIZE - 40) throw new BuildError('zfs: label configuration too large');
  const phys = Buffer.alloc(VDEV_PHYS_SIZE);
  nv.copy(phys);
  sealEmbedded(phys, at + VDEV_PHYS_OFFSET);
  phys.copy(buf, VDEV_PHYS_OFFSET);
  const slotSize = 1 << 10;
  const slot = Number(TXG % BigInt(VDEV_UBERBLOCK_RING_SIZE / slotSize));
  const ub = Buffer.alloc(slotSize);
  ub.writeBigUInt64LE(UBERBLOCK_MAGIC, 0);
  ub.writeBigUInt64LE(SPA_VERSION_FEATURES, 8);
  ub.writeBigUInt64LE(TXG, 16);
  ub.writeBigUInt64LE(BigInt.asUintN(64, ids.poolGuid + ids.vdevGuid), 24);
  ub.writeBigUInt64LE(BigInt(ids.time), 32);
  encodeBlkPtr(rootBp, ub, 40);
  ub.writeBigUInt64LE(SPA_VERSION_FEATURES, 168); // ub_software_version
  const ubOff = VDEV_UBERBLOCK_RING_OFFSET + slot * slotSize;
  sealEmbedded(ub, at + ubOff);
  ub.copy(buf, ubOff);
  return { buf, at };
}
const VDEV_UBERBLOCK_RING_SIZE = 128 * 1024;

function seedOf(entries: readonly RootfsEntry[], name: string): Buffer {
  const h = createHash('sha256').update(`osvb-zfs\0${name}\0`);
  for (const e of entries) {
    h.update(`${e.kind}\0${e.path}\0${e.mode}\0`);
    if (e.kind === 'file') h.update(`${e.size}\0${e.source ?? ''}\0`);
    if (e.kind === 'symlink') h.update(`${e.target}\0`);
  }
  return h.digest();
}

/**
 * Writes `entries` (as collectRootfs returns them) as a ZFS pool image at
 * `outPath`, atomically (a temporary file renamed into place).
 */
export async function writeZfsPool(
  entries: readonly RootfsEntry[],
  outPath: string,
  opts: ZfsPoolOptions = {},
): Promise<ZfsPoolResult> {
  const name = opts.poolName ?? 'osvb';
  if (!/^[A-Za-z][A-Za-z0-9_.:-]*$/.test(name) || name.length > 255)
    throw new InputError(`bad ZFS pool name "${name}" (a letter, then letters, digits, _ . : -)`);
  const seeds = new Seeds(seedOf(entries, name));
  const ids: PoolIds = {
    name,
    poolGuid: seeds.next(),
    vdevGuid: seeds.next(),
    vdevPath: opts.vdevPath ?? '/dev/vda',
    time: opts.mtime ?? 0,
    seeds,
  };
  const tmp = posix.join(
    posix.dirname(outPath),
    `.${posix.basename(outPath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  // Room for the data (an upper bound: compression only shrinks it), the MOS
  // and a little free space. OpenZFS ignores devices under 64 MiB
  // (SPA_MINDEVSIZE); the image is sparse anyway.
  const need = estimateBytes(entries);
  const geo = chooseGeometry(Math.max(64 << 20, need + Math.max(1 << 20, need >> 4)));
  const capacity = geo.msCount * 2 ** geo.msShift;
  const w = new BlockWriter(tmp, TXG, 2 ** geo.msShift);
  try {
    const ds = await writeZpl(w, entries, ids.seeds, ids.time, opts.zplVersion);
    w.flush();
    const mark = w.mark();
    const dsSeedState = ids.seeds;
    let extents: Extent[] = w.extents.map(([a, b]): Extent => [a, b]);
    let used = 0;
    let r: MosResult | undefined;
    for (let pass = 0; pass < 8; pass++) {
      w.rollback(mark);
      ids.seeds = new Seeds(seedOf(entries, `${name}/mos`));
      r = writeMos(w, ids, geo, ds, extents, used);
      if (JSON.stringify(r.extents) === JSON.stringify(extents) && r.used === used) break;
      extents = r.extents;
      used = r.used;
      r = undefined;
    }
    ids.seeds = dsSeedState;
    if (!r) throw new BuildError('zfs: MOS layout did not settle');
    if (w.next > capacity)
      throw new BuildError(`zfs: pool space estimate too small (${w.next} > ${capacity} bytes)`);
    w.flush();
    const size = VDEV_LABEL_START_SIZE + geo.msCount * 2 ** geo.msShift + VDEV_LABEL_END_SIZE;
    for (let l = 0; l < 4; l++) {
      const { buf, at } = label(ids, geo, r.msArray, r.rootBp, l, size);
      w.writeAt(buf, at);
    }
    w.close();
    await truncate(tmp, size);
    const digest = createHash('sha256');
    for await (const chunk of createReadStream(tmp)) digest.update(chunk as Buffer);
    await rename(tmp, outPath);
    return {
      path: outPath,
      size,
      sha256: digest.digest('hex'),
      poolName: name,
      poolGuid: ids.poolGuid,
      allocated: r.extents.reduce((t, [a, b]) => t + b - a, 0),
      objects: ds.objects,
    };
  } catch (err) {
    try {
      w.close();
    } catch {
      // already closed
    }
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
