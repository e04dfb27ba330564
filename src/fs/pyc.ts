// Python bytecode caches for the guest. The guest's root filesystem is fresh at
// every boot, so a .pyc that Python considers stale is recompiled on every run.
// Timestamp-checked .pyc files depend on the guest reporting the archive's
// mtimes exactly; instead, fresh host .pyc files are turned into
// "unchecked-hash" .pyc files (PEP 552): same bytecode, header flags = 1 and the
// source hash CPython would compute (importlib.util.source_hash), which Python
// loads without looking at the source's mtime.

import type { ContentPatch } from './tree.js';

const MASK = 0xffffffff;

/** SipHash-c-d with 64-bit keys given as (hi, lo) 32-bit halves; result as 8 little-endian bytes. */
export function siphash(
  k0: bigint,
  k1: bigint,
  data: Uint8Array,
  cRounds: number,
  dRounds: number,
): Uint8Array {
  const hi = (k: bigint): number => Number((k >> 32n) & 0xffffffffn);
  const lo = (k: bigint): number => Number(k & 0xffffffffn);
  // v[0..7] = v0h v0l v1h v1l v2h v2l v3h v3l
  const v = new Uint32Array(8);
  v[0] = hi(k0) ^ 0x736f6d65;
  v[1] = lo(k0) ^ 0x70736575;
  v[2] = hi(k1) ^ 0x646f7261;
  v[3] = lo(k1) ^ 0x6e646f6d;
  v[4] = hi(k0) ^ 0x6c796765;
  v[5] = lo(k0) ^ 0x6e657261;
  v[6] = hi(k1) ^ 0x74656462;
  v[7] = lo(k1) ^ 0x79746573;

  const add = (a: number, b: number): void => {
    // v[a] += v[b] (64-bit)
    const l = (v[a + 1]! + v[b + 1]!) >>> 0;
    const carry = l < v[a + 1]! ? 1 : 0;
    v[a] = (v[a]! + v[b]! + carry) & MASK;
    v[a + 1] = l;
  };
  const rotl = (a: number, n: number): void => {
    let h = v[a]!;
    let l = v[a + 1]!;
    if (n >= 32) {
      const t = h;
      h = l;
      l = t;
      n -= 32;
    }
    if (n > 0) {
      const nh = ((h << n) | (l >>> (32 - n))) >>> 0;
      const nl = ((l << n) | (h >>> (32 - n))) >>> 0;
      h = nh;
      l = nl;
    }
    v[a] = h;
    v[a + 1] = l;
  };
  const xor = (a: number, b: number): void => {
    v[a] = v[a]! ^ v[b]!;
    v[a + 1] = v[a + 1]! ^ v[b + 1]!;
  };
  const round = (): void => {
    add(0, 2);
    rotl(2, 13);
    xor(2, 0);
    rotl(0, 32);
    add(4, 6);
    rotl(6, 16);
    xor(6, 4);
    add(0, 6);
    rotl(6, 21);
    xor(6, 0);
    add(4, 2);
    rotl(2, 17);
    xor(2, 4);
    rotl(4, 32);
  };
  const block = (mh: number, ml: number): void => {
    v[6] = v[6]! ^ mh;
    v[7] = v[7]! ^ ml;
    for (let r = 0; r < cRounds; r++) round();
    v[0] = v[0]! ^ mh;
    v[1] = v[1]! ^ ml;
  };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const full = data.length - (data.length % 8);
  for (let i = 0; i < full; i += 8) block(dv.getUint32(i + 4, true), dv.getUint32(i, true));
  const tail = new Uint8Array(8);
  tail.set(data.subarray(full));
  tail[7] = data.length & 0xff;
  const tv = new DataView(tail.buffer);
  block(tv.getUint32(4, true), tv.getUint32(0, true));
  v[5] = v[5]! ^ 0xff;
  for (let r = 0; r < dRounds; r++) round();
  const out = new Uint8Array(8);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, (v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0, true);
  ov.setUint32(4, (v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0, true);
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
