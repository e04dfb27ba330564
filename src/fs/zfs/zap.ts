// ZAP objects (ZFS's name -> value maps): the micro ZAP (one block of 64-byte
// entries, names under 50 bytes, one uint64 value each) and the fat ZAP (a
// header block with an embedded pointer table, then leaf blocks of 24-byte
// chunks: entries, name and value arrays, a free list). Values in leaves are
// big-endian; everything else is little-endian. Names are hashed with ZFS's
// CRC-64 seeded with the object's salt, keeping the top 28 bits.

export const ZBT_LEAF = (1n << 63n) + 0n;
export const ZBT_HEADER = (1n << 63n) + 1n;
export const ZBT_MICRO = (1n << 63n) + 3n;
export const ZAP_MAGIC = 0x2f52ab2abn;
export const ZAP_LEAF_MAGIC = 0x2ab1eaf;
export const MZAP_ENT_LEN = 64;
export const MZAP_NAME_LEN = 50;
export const MZAP_MAX_BLKSZ = 128 * 1024;
export const ZAP_HASHBITS = 28;
export const FZAP_BLOCK_SHIFT = 14;
export const ZAP_LEAF_CHUNKSIZE = 24;
export const ZAP_LEAF_ARRAY_BYTES = 21;
export const CHAIN_END = 0xffff;
const ZAP_CHUNK_FREE = 253;
const ZAP_CHUNK_ENTRY = 252;
const ZAP_CHUNK_ARRAY = 251;

const CRC64_POLY = 0xc96c5795d7870f42n;
const CRC64_TABLE: bigint[] = (() => {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let j = 0; j < 8; j++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    t.push(c);
  }
  return t;
})();

/** zap_hash for a string key (its bytes without the NUL), truncated to ZAP_HASHBITS. */
export function zapHash(salt: bigint, name: Uint8Array): bigint {
  let h = salt;
  for (const c of name) h = (h >> 8n) ^ CRC64_TABLE[Number((h ^ BigInt(c)) & 0xffn)]!;
  return h & ~((1n << BigInt(64 - ZAP_HASHBITS)) - 1n);
}

/** One entry: a uint64 array value, or bytes (integer size 1, e.g. a string with its NUL). */
export interface ZapEntry {
  name: string;
  value: bigint[] | Uint8Array;
  /** Width of each word value in a fat ZAP (default 8; SA layouts use 2). */
  intlen?: 2 | 4 | 8;
}

export class ZapError extends Error {}

const isWord = (v: ZapEntry['value']): v is bigint[] => Array.isArray(v);

/** True when a micro ZAP can hold these entries. */
export function fitsMicro(entries: readonly ZapEntry[]): boolean {
  if ((entries.length + 1) * MZAP_ENT_LEN > MZAP_MAX_BLKSZ) return false;
  return entries.every(
    (e) =>
      isWord(e.value) &&
      e.value.length === 1 &&
      (e.intlen ?? 8) === 8 &&
      Buffer.byteLength(e.name, 'utf8') < MZAP_NAME_LEN,
  );
}

/** Assigns collision differentiators: entries with equal hashes get 0, 1, 2... in name order. */
function withCds(
  salt: bigint,
  entries: readonly ZapEntry[],
): { e: ZapEntry; raw: Buffer; hash: bigint; cd: number }[] {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const seen = new Map<bigint, number>();
  const names = new Set<string>();
  return sorted.map((e) => {
    if (names.has(e.name)) throw new ZapError(`duplicate ZAP name "${e.name}"`);
    names.add(e.name);
    const raw = Buffer.from(e.name, 'utf8');
    const hash = zapHash(salt, raw);
    const cd = seen.get(hash) ?? 0;
    seen.set(hash, cd + 1);
    return { e, raw, hash, cd };
  });
}

/** A micro ZAP block (smallest power of two >= 512 that holds the entries). */
export function buildMicroZap(salt: bigint, entries: readonly ZapEntry[]): Buffer {
  if (!fitsMicro(entries)) throw new ZapError('entries do not fit a micro ZAP');
  let size = 512;
  while (size < (entries.length + 1) * MZAP_ENT_LEN) size *= 2;
  const b = Buffer.alloc(size);
  b.writeBigUInt64LE(ZBT_MICRO, 0);
  b.writeBigUInt64LE(salt, 8);
  let off = MZAP_ENT_LEN;
  for (const { e, raw, cd } of withCds(salt, entries)) {
    b.writeBigUInt64LE((e.value as bigint[])[0]!, off);
    b.writeUInt32LE(cd, off + 8);
    raw.copy(b, off + 14);
    off += MZAP_ENT_LEN;
  }
  return b;
}

interface LeafItem {
  raw: Buffer;
  hash: bigint;
  cd: number;
  intlen: number;
  numints: number;
  valueBytes: Buffer;
}

function chunksFor(it: LeafItem): number {
  const nameChunks = Math.ceil((it.raw.length + 1) / ZAP_LEAF_ARRAY_BYTES);
  const valChunks = Math.ceil(it.valueBytes.length / ZAP_LEAF_ARRAY_BYTES);
  return 1 + nameChunks + valChunks;
}

function leafLayout(bs: number): { hashEntries: number; chunks: number; chunk0: number } {
  const hashEntries = 1 << (bs - 5);
  const chunks = ((1 << bs) - 2 * hashEntries) / ZAP_LEAF_CHUNKSIZE - 2;
  return { hashEntries, chunks, chunk0: 48 + 2 * hashEntries };
}

function buildLeaf(bs: number, prefix: bigint, prefixLen: number, items: LeafItem[]): Buffer {
  const { hashEntries, chunks, chunk0 } = leafLayout(bs);
  const b = Buffer.alloc(1 << bs);
  const hashTable = 48;
  for (let i = 0; i < hashEntries; i++) b.writeUInt16LE(CHAIN_END, hashTable + 2 * i);
  let next = 0;
  const at = (c: number): number => chunk0 + c * ZAP_LEAF_CHUNKSIZE;
  const writeArray = (data: Buffer): number => {
    const first = next;
    const n = Math.max(1, Math.ceil(data.length / ZAP_LEAF_ARRAY_BYTES));
    for (let k = 0; k < n; k++) {
      const c = next++;
      b[at(c)] = ZAP_CHUNK_ARRAY;
      data.copy(
        b,
        at(c) + 1,
        k * ZAP_LEAF_ARRAY_BYTES,
        Math.min(data.length, (k + 1) * ZAP_LEAF_ARRAY_BYTES),
      );
      b.writeUInt16LE(k === n - 1 ? CHAIN_END : c + 1, at(c) + 22);
    }
    return first;
  };
  const hashShift = bs - 5;
  for (const it of items) {
    const c = next++;
    const nameChunk = writeArray(Buffer.concat([it.raw, Buffer.from([0])]));
    const valueChunk = writeArray(it.valueBytes);
    const e = at(c);
    b[e] = ZAP_CHUNK_ENTRY;
    b[e + 1] = it.intlen;
    b.writeUInt16LE(nameChunk, e + 4);
    b.writeUInt16LE(it.raw.length + 1, e + 6);
    b.writeUInt16LE(valueChunk, e + 8);
    b.writeUInt16LE(it.numints, e + 10);
    b.writeUInt32LE(it.cd, e + 12);
    b.writeBigUInt64LE(it.hash, e + 16);
    const bucket = Number((it.hash >> BigInt(64 - hashShift - prefixLen)) & BigInt(hashEntries - 1));
    b.writeUInt16LE(b.readUInt16LE(hashTable + 2 * bucket), e + 2);
    b.writeUInt16LE(c, hashTable + 2 * bucket);
  }
  const nfree = chunks - next;
  for (let c = next; c < chunks; c++) {
    b[at(c)] = ZAP_CHUNK_FREE;
    b.writeUInt16LE(c + 1 < chunks ? c + 1 : CHAIN_END, at(c) + 22);
  }
  b.writeBigUInt64LE(ZBT_LEAF, 0);
  b.writeBigUInt64LE(prefix, 16);
  b.writeUInt32LE(ZAP_LEAF_MAGIC, 24);
  b.writeUInt16LE(nfree, 28);
  b.writeUInt16LE(items.length, 30);
  b.writeUInt16LE(prefixLen, 32);
  b.writeUInt16LE(nfree > 0 ? next : CHAIN_END, 34);
  return b;
}

/**
 * A fat ZAP as a list of 16 KiB blocks: the header (with the pointer table
 * embedded in its second half), then leaves. Leaves split by hash prefix
 * until each fits; the embedded table (1024 pointers) bounds the prefix to 10
 * bits, roughly 200,000 short names.
 */
export function buildFatZap(salt: bigint, entries: readonly ZapEntry[]): Buffer[] {
  const bs = FZAP_BLOCK_SHIFT;
  const ptrShift = bs - 3 - 1;
  const { chunks } = leafLayout(bs);
  const items: LeafItem[] = withCds(salt, entries).map(({ e, raw, hash, cd }) => {
    let valueBytes: Buffer;
    let intlen: number;
    if (isWord(e.value)) {
      const n = e.intlen ?? 8;
      intlen = n;
      valueBytes = Buffer.alloc(n * e.value.length);
      e.value.forEach((v, i) => {
        if (n === 8) valueBytes.writeBigUInt64BE(v, 8 * i);
        else valueBytes.writeUIntBE(Number(v), n * i, n);
      });
    } else {
      intlen = 1;
      valueBytes = Buffer.from(e.value);
    }
    return { raw, hash, cd, intlen, numints: valueBytes.length / intlen, valueBytes };
  });
  for (const it of items) {
    if (chunksFor(it) > chunks)
      throw new ZapError(`ZAP entry "${it.raw.toString()}" is too large for a leaf`);
  }
  const leaves: { prefix: bigint; len: number; items: LeafItem[] }[] = [];
  const split = (prefix: bigint, len: number, its: LeafItem[]): void => {
    const used = its.reduce((s, it) => s + chunksFor(it), 0);
    if (used <= chunks) {
      leaves.push({ prefix, len, items: its });
      return;
    }
    if (len >= ptrShift)
      throw new ZapError(`too many ZAP entries (${entries.length}) for an embedded pointer table`);
    const bit = 1n << BigInt(63 - len);
    split(
      prefix << 1n,
      len + 1,
      its.filter((it) => (it.hash & bit) === 0n),
    );
    split(
      (prefix << 1n) | 1n,
      len + 1,
      its.filter((it) => (it.hash & bit) !== 0n),
    );
  };
  split(0n, 0, items);
  const header = Buffer.alloc(1 << bs);
  header.writeBigUInt64LE(ZBT_HEADER, 0);
  header.writeBigUInt64LE(ZAP_MAGIC, 8);
  // zap_ptrtbl: zt_blk, zt_numblks, zt_shift, zt_nextblk, zt_blks_copied
  header.writeBigUInt64LE(BigInt(ptrShift), 32);
  header.writeBigUInt64LE(BigInt(1 + leaves.length), 56); // zap_freeblk
  header.writeBigUInt64LE(BigInt(leaves.length), 64); // zap_num_leafs
  header.writeBigUInt64LE(BigInt(entries.length), 72); // zap_num_entries
  header.writeBigUInt64LE(salt, 80);
  const tbl = (1 << bs) / 2;
  leaves.forEach((l, i) => {
    const span = 1 << (ptrShift - l.len);
    const first = Number(l.prefix) * span;
    for (let k = 0; k < span; k++) header.writeBigUInt64LE(BigInt(1 + i), tbl + 8 * (first + k));
  });
  return [header, ...leaves.map((l) => buildLeaf(bs, l.prefix, l.len, l.items))];
}
