// Python bytecode caches for the guest. The guest's root filesystem is fresh at
// every boot, so a .pyc that Python considers stale is recompiled on every run.
// Timestamp-checked .pyc files depend on the guest reporting the archive's
// mtimes exactly; instead, fresh host .pyc files are turned into
// "unchecked-hash" .pyc files (PEP 552): same bytecode, header flags = 1 and the
// source hash CPython would compute (importlib.util.source_hash), which Python
// loads without looking at the source's mtime.

import type { ContentPatch } from './tree.js';

const MASK = 0xffffffff;

/**
 * SipHash-c-d over `data` with the 128-bit key (k0, k1); the 64-bit result as 8
 * little-endian bytes. 64-bit lanes are kept as 32-bit halves (h = high, l = low)
 * in locals: this runs over every stdlib source file at build time.
 */
export function siphash(
  k0: bigint,
  k1: bigint,
  data: Uint8Array,
  cRounds: number,
  dRounds: number,
): Uint8Array {
  const hi = (k: bigint): number => Number((k >> 32n) & 0xffffffffn);
  const lo = (k: bigint): number => Number(k & 0xffffffffn);
  let v0h = (hi(k0) ^ 0x736f6d65) >>> 0;
  let v0l = (lo(k0) ^ 0x70736575) >>> 0;
  let v1h = (hi(k1) ^ 0x646f7261) >>> 0;
  let v1l = (lo(k1) ^ 0x6e646f6d) >>> 0;
  let v2h = (hi(k0) ^ 0x6c796765) >>> 0;
  let v2l = (lo(k0) ^ 0x6e657261) >>> 0;
  let v3h = (hi(k1) ^ 0x74656462) >>> 0;
  let v3l = (lo(k1) ^ 0x79746573) >>> 0;
  let t: number;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const full = data.length - (data.length % 8);
  const tail = new Uint8Array(8);
  tail.set(data.subarray(full));
  tail[7] = data.length & 0xff;
  const tv = new DataView(tail.buffer);
  // One loop, no closures: message blocks, the length/tail block, then finalization.
  for (let i = 0; ; i += 8) {
    const last = i > full;
    let mh = 0;
    let ml = 0;
    if (last) {
      v2l = (v2l ^ 0xff) >>> 0;
    } else {
      mh = i < full ? dv.getUint32(i + 4, true) : tv.getUint32(4, true);
      ml = i < full ? dv.getUint32(i, true) : tv.getUint32(0, true);
      v3h = (v3h ^ mh) >>> 0;
      v3l = (v3l ^ ml) >>> 0;
    }
    for (let r = last ? dRounds : cRounds; r > 0; r--) {
      // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
      t = (v0l + v1l) >>> 0;
      v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
      v0l = t;
      t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
      v1l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
      v1h = (t ^ v0h) >>> 0;
      v1l = (v1l ^ v0l) >>> 0;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
      t = (v2l + v3l) >>> 0;
      v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
      v2l = t;
      t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
      v3l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
      v3h = (t ^ v2h) >>> 0;
      v3l = (v3l ^ v2l) >>> 0;
      // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
      t = (v0l + v3l) >>> 0;
      v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
      v0l = t;
      t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
      v3l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
      v3h = (t ^ v0h) >>> 0;
      v3l = (v3l ^ v0l) >>> 0;
      // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
      t = (v2l + v1l) >>> 0;
      v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
      v2l = t;
      t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
      v1l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
      v1h = (t ^ v2h) >>> 0;
      v1l = (v1l ^ v2l) >>> 0;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    if (last) break;
    v0h = (v0h ^ mh) >>> 0;
    v0l = (v0l ^ ml) >>> 0;
  }
  const out = new Uint8Array(8);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, (v0l ^ v1l ^ v2l ^ v3l) >>> 0, true);
  ov.setUint32(4, (v0h ^ v1h ^ v2h ^ v3h) >>> 0, true);
  return out;
}

/**
 * importlib.util.source_hash for a CPython whose .pyc magic is `magic` (the
 * first 4 bytes of its .pyc files): keyed SipHash-1-3 from 3.11 on, SipHash-2-4
 * before.
 */
export function pythonSourceHash(magic: Uint8Array, source: Uint8Array, pythonMinor: number): Uint8Array {
  const key = BigInt(new DataView(magic.buffer, magic.byteOffset, 4).getUint32(0, true));
  return pythonMinor >= 11 ? siphash(key, 0n, source, 1, 3) : siphash(key, 0n, source, 2, 4);
}

export interface PycHeader {
  magic: Uint8Array;
  flags: number;
  mtime: number;
  sourceSize: number;
}

export function parsePycHeader(head: Uint8Array): PycHeader | undefined {
  if (head.length < 16 || head[2] !== 0x0d || head[3] !== 0x0a) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, 16);
  return {
    magic: head.slice(0, 4),
    flags: dv.getUint32(4, true),
    mtime: dv.getUint32(8, true),
    sourceSize: dv.getUint32(12, true),
  };
}

/**
 * The patch that turns a fresh timestamp .pyc into an unchecked-hash .pyc, or
 * undefined when the .pyc does not match the source (stale: Python would
 * recompile it, so it is left out).
 */
export function uncheckedHashPatch(
  head: Uint8Array,
  source: Uint8Array,
  sourceMtimeSec: number,
  pythonMinor: number,
): ContentPatch | undefined {
  const h = parsePycHeader(head);
  if (h?.flags !== 0) return undefined;
  if (
    h.mtime !== (Math.floor(sourceMtimeSec) & MASK) >>> 0 ||
    h.sourceSize !== (source.length & MASK) >>> 0
  ) {
    return undefined;
  }
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(0, 1, true); // hash-based, check_source = 0
  bytes.set(pythonSourceHash(h.magic, source, pythonMinor), 4);
  return { offset: 4, bytes };
}
