// The DMU layer of the writer: block pointers, the block allocator and output
// stream, block trees (indirect blocks) and dnodes, and object sets. Blocks
// are allocated one after another from the start of the allocatable space
// (single vdev, ashift 9, one copy), so the allocated space is one extent.

import { closeSync, openSync, writeSync } from 'node:fs';
import { type Cksum as Words, fletcher4, writeCksum } from './checksum.js';
import {
  BLKPTR_SIZE,
  Cksum,
  Comp,
  DN_MAX_INDBLKSHIFT,
  DN_OLD_MAX_BONUSLEN,
  DNODE_BLOCK_SHIFT,
  DNODE_FLAG_USED_BYTES,
  DNODE_SIZE,
  OBJSET_PHYS_SIZE,
  Ot,
  type Ost,
  SPA_MINBLOCKSIZE,
  VDEV_LABEL_START_SIZE,
} from './format.js';
import { zfsLz4Compress } from './lz4.js';

export interface BlkPtr {
  /** Byte offset in the allocatable space; undefined for a hole. */
  offset?: number;
  lsize: number;
  psize: number;
  comp: Comp;
  cksum: Cksum;
  type: Ot;
  level: number;
  fill: number;
  birth: bigint;
  sum: Words;
}

export const HOLE: BlkPtr = {
  lsize: SPA_MINBLOCKSIZE,
  psize: SPA_MINBLOCKSIZE,
  comp: Comp.INHERIT,
  cksum: Cksum.INHERIT,
  type: Ot.NONE,
  level: 0,
  fill: 0,
  birth: 0n,
  sum: [0n, 0n, 0n, 0n],
};

export const isHole = (bp: BlkPtr): boolean => bp.offset === undefined;

/** blkptr_t: three DVAs (one used), blk_prop, birth txgs, fill count, checksum. */
export function encodeBlkPtr(bp: BlkPtr, buf: Buffer, off: number): void {
  buf.fill(0, off, off + BLKPTR_SIZE);
  if (isHole(bp)) return;
  const asizeSectors = BigInt(bp.psize / SPA_MINBLOCKSIZE);
  buf.writeBigUInt64LE(asizeSectors, off); // vdev 0, grid 0, asize
  buf.writeBigUInt64LE(BigInt(bp.offset! / SPA_MINBLOCKSIZE), off + 8);
  const prop =
    BigInt(bp.lsize / SPA_MINBLOCKSIZE - 1) |
    (BigInt(bp.psize / SPA_MINBLOCKSIZE - 1) << 16n) |
    (BigInt(bp.comp) << 32n) |
    (BigInt(bp.cksum) << 40n) |
    (BigInt(bp.type) << 48n) |
    (BigInt(bp.level) << 56n) |
    (1n << 63n); // little-endian
  buf.writeBigUInt64LE(prop, off + 48);
  buf.writeBigUInt64LE(bp.birth, off + 80);
  buf.writeBigUInt64LE(BigInt(bp.fill), off + 88);
  writeCksum(buf, off + 96, bp.sum);
}

const isZero = (b: Uint8Array): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

export interface WriteOptions {
  type: Ot;
  level?: number;
  fill?: number;
  /** Try lz4 (kept only when it saves at least 1/8, as ZFS does). */
  compress: boolean;
  /** All-zero blocks become holes (ZFS does this whenever compression is on). */
  holes?: boolean;
}

export interface Mark {
  next: number;
  pending: number;
  pendingBytes: number;
  extents: number;
  lastEnd: number;
}

/** An allocated byte range [start, end) of the allocatable space. */
export type Extent = [number, number];

/**
 * Allocates and writes blocks; everything is written sequentially into the
 * image. A block never crosses a metaslab boundary (ZFS allocates inside one
 * metaslab); the few bytes skipped there stay free in the space maps.
 */
export class BlockWriter {
  /** Next free byte in the allocatable space. */
  next = 0;
  /** Allocated ranges, in order. */
  readonly extents: Extent[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushed = 0;
  private readonly fd: number;

  constructor(
    path: string,
    readonly txg: bigint,
    private readonly msSize: number,
  ) {
    this.fd = openSync(path, 'wx', 0o644);
  }

  write(data: Buffer, o: WriteOptions): BlkPtr {
    const lsize = data.length;
    if (lsize % SPA_MINBLOCKSIZE !== 0 || lsize === 0)
      throw new Error(`block size ${lsize} is not a multiple of 512`);
    if ((o.holes ?? o.compress) && isZero(data)) return HOLE;
    let phys = data;
    let comp = Comp.OFF;
    if (o.compress) {
      const c = zfsLz4Compress(data, lsize - (lsize >> 3));
      if (c) {
        const psize = Math.ceil(c.length / SPA_MINBLOCKSIZE) * SPA_MINBLOCKSIZE;
        if (psize < lsize) {
          phys = Buffer.alloc(psize);
          phys.set(c);
          comp = Comp.LZ4;
        }
      }
    }
    let offset = this.next;
    const boundary = (Math.floor(offset / this.msSize) + 1) * this.msSize;
    if (offset + phys.length > boundary) {
      this.pending.push(Buffer.alloc(boundary - offset));
      this.pendingBytes += boundary - offset;
      offset = boundary;
    }
    const last = this.extents[this.extents.length - 1];
    if (last && last[1] === offset) last[1] += phys.length;
    else this.extents.push([offset, offset + phys.length]);
    this.next = offset + phys.length;
    this.pending.push(phys);
    this.pendingBytes += phys.length;
    return {
      offset,
      lsize,
      psize: phys.length,
      comp,
      cksum: Cksum.FLETCHER_4,
      type: o.type,
      level: o.level ?? 0,
      fill: o.fill ?? 1,
      birth: this.txg,
      sum: fletcher4(phys),
    };
  }

  mark(): Mark {
    const last = this.extents[this.extents.length - 1];
    return {
      next: this.next,
      pending: this.pending.length,
      pendingBytes: this.pendingBytes,
      extents: this.extents.length,
      lastEnd: last ? last[1] : 0,
    };
  }

  /** Forgets blocks written since `m` (they were not flushed). */
  rollback(m: Mark): void {
    if (this.flushed > m.next) throw new Error('rollback past flushed blocks');
    this.pending.length = m.pending;
    this.pendingBytes = m.pendingBytes;
    this.next = m.next;
    this.extents.length = m.extents;
    const last = this.extents[this.extents.length - 1];
    if (last) last[1] = m.lastEnd;
  }

  flush(): void {
    if (this.pendingBytes === 0) return;
    const all = Buffer.concat(this.pending, this.pendingBytes);
    writeSync(this.fd, all, 0, all.length, VDEV_LABEL_START_SIZE + this.flushed);
    this.flushed += all.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes raw bytes at a device offset (labels). */
  writeAt(buf: Buffer, deviceOffset: number): void {
    writeSync(this.fd, buf, 0, buf.length, deviceOffset);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface Tree {
  bps: BlkPtr[];
  nlevels: number;
  /** Bytes allocated for the indirect blocks. */
  used: number;
}

/** Builds indirect blocks over `l0` until at most `nblkptr` pointers remain. */
export function buildTree(w: BlockWriter, l0: BlkPtr[], nblkptr: number, type: Ot, compress: boolean): Tree {
  const per = 1 << (DN_MAX_INDBLKSHIFT - 7);
  let level = l0;
  let nlevels = 1;
  let used = 0;
  while (level.length > nblkptr) {
    const up: BlkPtr[] = [];
    for (let i = 0; i < level.length; i += per) {
      const kids = level.slice(i, i + per);
      if (kids.every(isHole)) {
        up.push(HOLE);
        continue;
      }
      const b = Buffer.alloc(1 << DN_MAX_INDBLKSHIFT);
      kids.forEach((bp, k) => {
        encodeBlkPtr(bp, b, k * BLKPTR_SIZE);
      });
      const fill = kids.reduce((s, bp) => s + bp.fill, 0);
      const bp = w.write(b, { type, level: nlevels, fill, compress, holes: false });
      used += bp.psize;
      up.push(bp);
    }
    level = up;
    nlevels++;
  }
  return { bps: [...level, ...Array<BlkPtr>(nblkptr - level.length).fill(HOLE)], nlevels, used };
}

export interface DnodeSpec {
  type: Ot;
  bonusType?: Ot;
  bonus?: Buffer;
  /** Logical block size (the object's data block size). */
  blockSize: number;
  /** The object's data blocks (each blockSize bytes), or written block pointers. */
  blocks: Buffer[] | BlkPtr[];
  compress: boolean;
}

export interface WrittenObject {
  dnode: Buffer;
  /** Allocated bytes under this dnode. */
  used: number;
  lsize: number;
  psize: number;
}

export const nblkptrFor = (bonusLen: number): number => 1 + ((DN_OLD_MAX_BONUSLEN - bonusLen) >> 7);

/** Writes an object's blocks and returns its dnode_phys_t. */
export function writeObject(w: BlockWriter, spec: DnodeSpec, indBps?: Tree): WrittenObject {
  const bonus = spec.bonus ?? Buffer.alloc(0);
  if (bonus.length > DN_OLD_MAX_BONUSLEN) throw new Error(`bonus of ${bonus.length} bytes is too large`);
  const nblkptr = nblkptrFor(bonus.length);
  let used = 0;
  let lsize = 0;
  let psize = 0;
  const l0: BlkPtr[] = spec.blocks.map((b) => {
    const bp = Buffer.isBuffer(b) ? w.write(b, { type: spec.type, compress: spec.compress }) : b;
    if (!isHole(bp)) {
      used += bp.psize;
      lsize += bp.lsize;
      psize += bp.psize;
    }
    return bp;
  });
  const tree = indBps ?? buildTree(w, l0, nblkptr, spec.type, spec.compress);
  used += tree.used;
  const d = Buffer.alloc(DNODE_SIZE);
  d[0] = spec.type;
  d[1] = DN_MAX_INDBLKSHIFT;
  d[2] = tree.nlevels;
  d[3] = nblkptr;
  d[4] = spec.bonusType ?? Ot.NONE;
  d[7] = DNODE_FLAG_USED_BYTES;
  d.writeUInt16LE(spec.blockSize / SPA_MINBLOCKSIZE, 8);
  d.writeUInt16LE(bonus.length, 10);
  d.writeBigUInt64LE(BigInt(Math.max(0, spec.blocks.length - 1)), 16);
  d.writeBigUInt64LE(BigInt(used), 24);
  tree.bps.forEach((bp, i) => {
    encodeBlkPtr(bp, d, 64 + i * BLKPTR_SIZE);
  });
  bonus.copy(d, 64 + nblkptr * BLKPTR_SIZE);
  return { dnode: d, used, lsize, psize };
}

/** Collects dnodes by object number and writes them as an object set. */
export class ObjsetBuilder {
  private readonly dnodes: (Buffer | undefined)[] = [undefined];
  used = 0;
  lsize = 0;
  psize = 0;

  get count(): number {
    return this.dnodes.length - 1;
  }

  /** Reserves the next object number. */
  allocate(): number {
    this.dnodes.push(undefined);
    return this.dnodes.length - 1;
  }

  set(obj: number, o: WrittenObject): void {
    if (obj < 1 || obj >= this.dnodes.length) throw new Error(`object ${obj} was not allocated`);
    this.dnodes[obj] = o.dnode;
    this.used += o.used;
    this.lsize += o.lsize;
    this.psize += o.psize;
  }

  /** Writes the dnode blocks, the meta dnode's tree and the objset_phys_t; returns its block pointer. */
  finish(w: BlockWriter, type: Ost, compress: boolean): BlkPtr {
    const perBlock = (1 << DNODE_BLOCK_SHIFT) / DNODE_SIZE;
    const nblocks = Math.ceil(this.dnodes.length / perBlock);
    const l0: BlkPtr[] = [];
    let used = 0;
    for (let b = 0; b < nblocks; b++) {
      const buf = Buffer.alloc(1 << DNODE_BLOCK_SHIFT);
      let fill = 0;
      for (let i = 0; i < perBlock; i++) {
        const dn = this.dnodes[b * perBlock + i];
        if (!dn) continue;
        dn.copy(buf, i * DNODE_SIZE);
        fill++;
      }
      const bp = fill === 0 ? HOLE : w.write(buf, { type: Ot.DNODE, fill, compress, holes: false });
      if (!isHole(bp)) used += bp.psize;
      l0.push(bp);
    }
    const tree = buildTree(w, l0, 3, Ot.DNODE, compress);
    const meta = Buffer.alloc(DNODE_SIZE);
    meta[0] = Ot.DNODE;
    meta[1] = DN_MAX_INDBLKSHIFT;
    meta[2] = tree.nlevels;
    meta[3] = 3;
    meta[7] = DNODE_FLAG_USED_BYTES;
    meta.writeUInt16LE((1 << DNODE_BLOCK_SHIFT) / SPA_MINBLOCKSIZE, 8);
    meta.writeBigUInt64LE(BigInt(nblocks - 1), 16);
    meta.writeBigUInt64LE(BigInt(used + tree.used), 24);
    tree.bps.forEach((bp, i) => {
      encodeBlkPtr(bp, meta, 64 + i * BLKPTR_SIZE);
    });
    const os = Buffer.alloc(OBJSET_PHYS_SIZE);
    meta.copy(os, 0);
    os.writeBigUInt64LE(BigInt(type), 704);
    const fill = tree.bps.reduce((s, bp) => s + bp.fill, 0);
    const bp = w.write(os, { type: Ot.OBJSET, fill, compress, holes: false });
    this.used += used + tree.used + bp.psize;
    this.lsize += nblocks * (1 << DNODE_BLOCK_SHIFT) + os.length;
    this.psize += used + tree.used + bp.psize;
    return bp;
  }
}
