// Block checksums as ZFS stores them: four 64-bit words (zio_cksum_t) written
// in the pool's byte order (little-endian here).

import { createHash } from 'node:crypto';

/** Checksum words, each a 64-bit value. */
export type Cksum = [bigint, bigint, bigint, bigint];

const TWO32 = 0x1_0000_0000;

/**
 * fletcher4 over 32-bit little-endian words: a += w; b += a; c += b; d += c,
 * each modulo 2^64. Kept as (hi, lo) 32-bit halves so it runs on plain numbers.
 */
export function fletcher4(buf: Uint8Array): Cksum {
  const n = buf.length >>> 2;
  const dv = new DataView(buf.buffer, buf.byteOffset, n * 4);
  let al = 0;
  let ah = 0;
  let bl = 0;
  let bh = 0;
  let cl = 0;
  let ch = 0;
  let dl = 0;
  let dh = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    t = al + dv.getUint32(i * 4, true);
    ah = (ah + Math.floor(t / TWO32)) >>> 0;
    al = t >>> 0;
    t = bl + al;
    bh = (bh + ah + Math.floor(t / TWO32)) >>> 0;
    bl = t >>> 0;
    t = cl + bl;
    ch = (ch + bh + Math.floor(t / TWO32)) >>> 0;
    cl = t >>> 0;
    t = dl + cl;
    dh = (dh + ch + Math.floor(t / TWO32)) >>> 0;
    dl = t >>> 0;
  }
  const w = (h: number, l: number): bigint => (BigInt(h) << 32n) | BigInt(l);
  return [w(ah, al), w(bh, bl), w(ch, cl), w(dh, dl)];
}

/** SHA-256 as ZFS keeps it: each 8-byte group of the digest read big-endian. */
export function sha256Cksum(buf: Uint8Array): Cksum {
  const d = createHash('sha256').update(buf).digest();
  return [d.readBigUInt64BE(0), d.readBigUInt64BE(8), d.readBigUInt64BE(16), d.readBigUInt64BE(24)];
}

export function writeCksum(buf: Buffer, off: number, c: Cksum): void {
  for (let i = 0; i < 4; i++) buf.writeBigUInt64LE(c[i]!, off + i * 8);
}

export function readCksum(buf: Buffer, off: number): Cksum {
  return [
    buf.readBigUInt64LE(off),
    buf.readBigUInt64LE(off + 8),
    buf.readBigUInt64LE(off + 16),
    buf.readBigUInt64LE(off + 24),
  ];
}

/** zio_eck_t magic: marks an embedded checksum (labels, uberblocks). */
export const ZEC_MAGIC = 0x210da7ab10c7a11n;

/**
 * Seals a block that carries its checksum in its last 40 bytes (zio_eck_t):
 * the checksum field first holds the verifier (the block's byte offset on
 * the device), then SHA-256 of the whole block replaces it.
 */
export function sealEmbedded(block: Buffer, deviceOffset: number): void {
  const eck = block.length - 40;
  block.writeBigUInt64LE(ZEC_MAGIC, eck);
  writeCksum(block, eck + 8, [BigInt(deviceOffset), 0n, 0n, 0n]);
  writeCksum(block, eck + 8, sha256Cksum(block));
}

/** True when an embedded-checksum block at `deviceOffset` is intact. */
export function verifyEmbedded(block: Buffer, deviceOffset: number): boolean {
  const eck = block.length - 40;
  if (block.readBigUInt64LE(eck) !== ZEC_MAGIC) return false;
  const stored = readCksum(block, eck + 8);
  const copy = Buffer.from(block);
  writeCksum(copy, eck + 8, [BigInt(deviceOffset), 0n, 0n, 0n]);
  const want = sha256Cksum(copy);
  return stored.every((w, i) => w === want[i]);
}
