// nvlists in XDR encoding (libnvpair's NV_ENCODE_XDR), as ZFS keeps the pool
// configuration in vdev labels and in the MOS "config" object. A stream is a
// 4-byte header (encoding 1 = XDR, endian 1 = little, 2 reserved bytes), then
// the nvlist: version and flags (int32 each, big-endian), pairs, and two zero
// int32s. A pair is: encoded size, decoded size (the in-memory nvpair_t size
// libnvpair allocates), name (XDR string), type, element count, value.

export type NvValue = bigint | string | boolean | NvList | NvList[] | bigint[];
export interface NvList {
  [name: string]: NvValue;
}

export const DATA_TYPE_BOOLEAN = 1;
export const DATA_TYPE_UINT64 = 8;
export const DATA_TYPE_STRING = 9;
export const DATA_TYPE_UINT64_ARRAY = 16;
export const DATA_TYPE_NVLIST = 19;
export const DATA_TYPE_NVLIST_ARRAY = 20;

const NV_VERSION = 0;
const NV_UNIQUE_NAME = 1;
/** sizeof (nvpair_t), sizeof (nvlist_t) in libnvpair. */
const NVP_HDR = 16;
const NVL_SIZE = 24;

const align8 = (n: number): number => (n + 7) & ~7;
const align4 = (n: number): number => (n + 3) & ~3;

class XdrWriter {
  private parts: Buffer[] = [];
  length = 0;
  put(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  int(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.put(b);
  }
  hyper(v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, v));
    this.put(b);
  }
  string(s: string): void {
    const raw = Buffer.from(s, 'utf8');
    this.int(raw.length);
    this.put(Buffer.concat([raw, Buffer.alloc(align4(raw.length) - raw.length)]));
  }
  done(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function typeOf(v: NvValue): number {
  if (typeof v === 'bigint') return DATA_TYPE_UINT64;
  if (typeof v === 'string') return DATA_TYPE_STRING;
  if (typeof v === 'boolean') return DATA_TYPE_BOOLEAN;
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'bigint') return DATA_TYPE_UINT64_ARRAY;
    return DATA_TYPE_NVLIST_ARRAY;
  }
  return DATA_TYPE_NVLIST;
}

/** The nvpair's in-memory value size (i_get_value_size). */
function valueSize(v: NvValue): number {
  switch (typeOf(v)) {
    case DATA_TYPE_UINT64:
      return 8;
    case DATA_TYPE_STRING:
      return Buffer.byteLength(v as string, 'utf8') + 1;
    case DATA_TYPE_BOOLEAN:
      return 0;
    case DATA_TYPE_UINT64_ARRAY:
      return 8 * (v as bigint[]).length;
    case DATA_TYPE_NVLIST:
      return NVL_SIZE;
    default: {
      const n = (v as NvList[]).length;
      return align8(8 * n) + n * align8(NVL_SIZE);
    }
  }
}

function encodeList(w: XdrWriter, nvl: NvList): void {
  w.int(NV_VERSION);
  w.int(NV_UNIQUE_NAME);
  for (const [name, v] of Object.entries(nvl)) {
    const type = typeOf(v);
    const body = new XdrWriter();
    body.string(name);
    body.int(type);
    if (type === DATA_TYPE_BOOLEAN) body.int(0);
    else if (type === DATA_TYPE_UINT64_ARRAY || type === DATA_TYPE_NVLIST_ARRAY)
      body.int((v as unknown[]).length);
    else body.int(1);
    if (type === DATA_TYPE_UINT64) body.hyper(v as bigint);
    else if (type === DATA_TYPE_STRING) body.string(v as string);
    else if (type === DATA_TYPE_UINT64_ARRAY) for (const x of v as bigint[]) body.hyper(x);
    else if (type === DATA_TYPE_NVLIST) encodeList(body, v as NvList);
    else if (type === DATA_TYPE_NVLIST_ARRAY) for (const x of v as NvList[]) encodeList(body, x);
    const nameLen = Buffer.byteLength(name, 'utf8') + 1;
    w.int(8 + body.length);
    w.int(align8(NVP_HDR + nameLen) + align8(valueSize(v)));
    w.put(body.done());
  }
  w.int(0);
  w.int(0);
}

/** Packs an nvlist as libnvpair's nvlist_pack(NV_ENCODE_XDR) does on a little-endian host. */
export function packNvlist(nvl: NvList): Buffer {
  const w = new XdrWriter();
  w.put(Buffer.from([1, 1, 0, 0]));
  encodeList(w, nvl);
  return w.done();
}

export class NvlistError extends Error {}

const MAX_DEPTH = 16;

/**
 * Unpacks an XDR nvlist, checking every length against the buffer; throws
 * NvlistError naming the byte offset on malformed input.
 */
export function unpackNvlist(buf: Buffer): NvList {
  if (buf.length < 4) throw new NvlistError('nvlist: shorter than its header');
  if (buf[0] !== 1) throw new NvlistError(`nvlist: encoding ${buf[0]} is not XDR (1)`);
  let off = 4;
  const need = (n: number): void => {
    if (n < 0 || off + n > buf.length) throw new NvlistError(`nvlist: truncated at byte ${off}`);
  };
  const int = (): number => {
    need(4);
    const v = buf.readInt32BE(off);
    off += 4;
    return v;
  };
  const hyper = (): bigint => {
    need(8);
    const v = buf.readBigUInt64BE(off);
    off += 8;
    return v;
  };
  const str = (): string => {
    const len = int();
    need(align4(len));
    const s = buf.toString('utf8', off, off + len);
    off += align4(len);
    return s;
  };
  const list = (depth: number): NvList => {
    if (depth > MAX_DEPTH) throw new NvlistError(`nvlist: nested deeper than ${MAX_DEPTH}`);
    int(); // version
    int(); // flags
    const out: NvList = {};
    for (;;) {
      const start = off;
      const enc = int();
      const dec = int();
      if (enc === 0 && dec === 0) return out;
      if (enc < 8 || start + enc > buf.length)
        throw new NvlistError(`nvlist: bad pair size ${enc} at byte ${start}`);
      const name = str();
      const type = int();
      const nelem = int();
      if (nelem < 0 || nelem > buf.length)
        throw new NvlistError(`nvlist: bad element count ${nelem} at byte ${start}`);
      let v: NvValue;
      if (type === DATA_TYPE_UINT64) v = hyper();
      else if (type === DATA_TYPE_STRING) v = str();
      else if (type === DATA_TYPE_BOOLEAN) v = true;
      else if (type === DATA_TYPE_UINT64_ARRAY) v = Array.from({ length: nelem }, hyper);
      else if (type === DATA_TYPE_NVLIST) v = list(depth + 1);
      else if (type === DATA_TYPE_NVLIST_ARRAY) v = Array.from({ length: nelem }, () => list(depth + 1));
      else {
        off = start + enc; // a type this reader does not need: skip it by its encoded size
        continue;
      }
      // libnvpair's encoded size of an embedded nvlist is not its length in the
      // stream (it counts the list twice), so only scalar pairs are held to it.
      if (type !== DATA_TYPE_NVLIST && type !== DATA_TYPE_NVLIST_ARRAY && off !== start + enc)
        throw new NvlistError(
          `nvlist: pair "${name}" at byte ${start} is ${off - start} bytes, its size says ${enc}`,
        );
      out[name] = v;
    }
  };
  return list(0);
}
