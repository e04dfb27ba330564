// LZ4 block format (no frame), as ZFS stores it: a 4-byte big-endian length
// of the compressed stream, then the stream. The compressor is a plain greedy
// one (hash of 4-byte sequences, 64 KiB window); output is deterministic.

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const HASH_BITS = 14;
const MAX_OFFSET = 65535;

function hash4(v: number): number {
  return Math.imul(v, 2654435761) >>> (32 - HASH_BITS);
}

function read32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Compresses `src` into an LZ4 block; undefined if it would exceed `limit` bytes. */
export function lz4CompressBlock(src: Uint8Array, limit: number): Uint8Array | undefined {
  const out = new Uint8Array(limit);
  let op = 0;
  const n = src.length;
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let anchor = 0;
  let ip = 0;
  const matchLimit = n - LAST_LITERALS;
  const ipLimit = n - MF_LIMIT;

  const emit = (litEnd: number, matchLen: number, offset: number): boolean => {
    const litLen = litEnd - anchor;
    // token + literal length bytes + literals + offset + match length bytes
    const need =
      1 + Math.floor((litLen + 240) / 255) + litLen + (matchLen ? 2 + Math.floor((matchLen + 240) / 255) : 0);
    if (op + need > limit) return false;
    const tokenAt = op++;
    let token = 0;
    if (litLen >= 15) {
      token = 15 << 4;
      let r = litLen - 15;
      while (r >= 255) {
        out[op++] = 255;
        r -= 255;
      }
      out[op++] = r;
    } else token = litLen << 4;
    out.set(src.subarray(anchor, litEnd), op);
    op += litLen;
    if (matchLen) {
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      const ml = matchLen - MIN_MATCH;
      if (ml >= 15) {
        token |= 15;
        let r = ml - 15;
        while (r >= 255) {
          out[op++] = 255;
          r -= 255;
        }
        out[op++] = r;
      } else token |= ml;
    }
    out[tokenAt] = token;
    return true;
  };

  if (n >= MF_LIMIT + 1) {
    while (ip < ipLimit) {
      const seq = read32(src, ip);
      const h = hash4(seq);
      const ref = table[h]!;
      table[h] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        ip++;
        continue;
      }
      let len = MIN_MATCH;
      while (ip + len < matchLimit && src[ref + len] === src[ip + len]) len++;
      if (!emit(ip, len, ip - ref)) return undefined;
      ip += len;
      anchor = ip;
      if (ip < ipLimit) table[hash4(read32(src, ip - 2))] = ip - 2;
    }
  }
  if (!emit(n, 0, 0)) return undefined;
  return out.subarray(0, op);
}

export class Lz4Error extends Error {}

/** Decodes an LZ4 block into exactly `outLen` bytes; throws Lz4Error on any overrun. */
export function lz4DecompressBlock(src: Uint8Array, outLen: number): Uint8Array {
  const out = new Uint8Array(outLen);
  let ip = 0;
  let op = 0;
  const bad = (m: string): never => {
    throw new Lz4Error(`lz4: ${m} at input byte ${ip}`);
  };
  while (ip < src.length) {
    const token = src[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      for (;;) {
        if (ip >= src.length) bad('truncated literal length');
        const b = src[ip++]!;
        lit += b;
        if (b !== 255) break;
      }
    }
    if (ip + lit > src.length || op + lit > outLen) bad('literals run past the end');
    out.set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip === src.length) break;
    if (ip + 2 > src.length) bad('truncated offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) bad(`bad match offset ${offset}`);
    let ml = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      for (;;) {
        if (ip >= src.length) bad('truncated match length');
        const b = src[ip++]!;
        ml += b;
        if (b !== 255) break;
      }
    }
    if (op + ml > outLen) bad('match runs past the end of the output');
    for (let k = 0; k < ml; k++, op++) out[op] = out[op - offset]!;
  }
  return out;
}

/** ZFS's lz4 block: 4-byte big-endian stream length + stream; undefined unless it fits in `limit`. */
export function zfsLz4Compress(src: Uint8Array, limit: number): Uint8Array | undefined {
  if (limit <= 4) return undefined;
  const body = lz4CompressBlock(src, limit - 4);
  if (!body) return undefined;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, 4);
  return out;
}

export function zfsLz4Decompress(src: Uint8Array, outLen: number): Uint8Array {
  if (src.length < 4) throw new Lz4Error('lz4: block shorter than its length header');
  const len = new DataView(src.buffer, src.byteOffset, 4).getUint32(0, false);
  if (len > src.length - 4) throw new Lz4Error(`lz4: stream length ${len} exceeds the block`);
  return lz4DecompressBlock(src.subarray(4, 4 + len), outLen);
}
