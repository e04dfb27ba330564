// glibc's /etc/ld.so.cache ("glibc-ld.so.cache1.1", optionally behind the old
// "ld.so-1.7.0" table) and /etc/ld.so.conf. The cache is read the way ld.so
// reads it; a small cache can also be written for the guest when a library was
// found only through the host's cache in a directory ld.so would not search by
// default.

import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';

export interface LdCacheEntry {
  /** The key ld.so looks up: the library's soname (e.g. "libc.so.6"). */
  name: string;
  path: string;
  /** FLAG_* bits: 0x0303 is libc6 + x86-64. */
  flags: number;
  hwcap: bigint;
  /** For entries in a glibc-hwcaps subdirectory: its name (e.g. "x86-64-v3"). */
  hwcapsSubdir?: string;
}

export interface LdCache {
  file: string;
  entries: LdCacheEntry[];
  /** Contents of the generator extension, if present (e.g. "ldconfig (GNU libc) ..."). */
  generator?: string;
}

/** FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: the only entries the x86-64 ld.so accepts. */
export const X86_64_LIBC6 = 0x0303;
const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_ENTRY = 12;
const EXT_MAGIC = 0xeaa42174;
const EXT_TAG_GENERATOR = 0;
const EXT_TAG_HWCAPS = 1;
const HWCAP_EXTENSION = 1n << 62n;

function bad(file: string, message: string): InputError {
  return new InputError(`malformed ld.so cache: ${message}`, { loc: { file } });
}

function cstr(buf: Buffer, off: number, file: string, what: string): string {
  if (off >= buf.length) throw bad(file, `${what} offset ${off} is past the end (${buf.length} bytes)`);
  const nul = buf.indexOf(0, off);
  if (nul < 0) throw bad(file, `${what} at ${off} is not NUL-terminated`);
  return buf.toString('utf8', off, nul);
}

/** Parses ld.so.cache bytes. Throws InputError naming `file` on anything malformed. */
export function parseLdSoCache(buf: Buffer, file: string): LdCache {
  let base = 0;
  if (buf.length >= OLD_MAGIC.length && buf.toString('latin1', 0, OLD_MAGIC.length) === OLD_MAGIC) {
    // Old table first: 12-byte magic, u32 count, 12-byte entries; the new cache follows, 8-aligned.
    if (buf.length < 16) throw bad(file, 'truncated old-format header');
    const nOld = buf.readUInt32LE(12);
    base = 16 + nOld * OLD_ENTRY;
    base = (base + 7) & ~7;
    if (base >= buf.length) throw bad(file, 'old-format cache without the new format; not supported');
  }
  if (buf.length < base + NEW_HEADER || buf.toString('latin1', base, base + NEW_MAGIC.length) !== NEW_MAGIC) {
    throw bad(file, `no "${NEW_MAGIC}" header`);
  }
  const nlibs = buf.readUInt32LE(base + 20);
  const endian = buf[base + 28];
  if (endian === 3) throw bad(file, 'big-endian cache');
  const extOff = buf.readUInt32LE(base + 32);
  if (base + NEW_HEADER + nlibs * NEW_ENTRY > buf.length) {
    throw bad(file, `${nlibs} entries do not fit in ${buf.length} bytes`);
  }
  // String offsets are relative to the new header.
  const at = (off: number): number => base + off;
  let hwcapNames: string[] = [];
  let generator: string | undefined;
  if (extOff !== 0) {
    const e = at(extOff);
    if (e + 8 > buf.length || buf.readUInt32LE(e) !== EXT_MAGIC) throw bad(file, 'bad extension header');
    const count = buf.readUInt32LE(e + 4);
    if (e + 8 + count * 16 > buf.length) throw bad(file, 'extension table past the end');
    for (let i = 0; i < count; i++) {
      const s = e + 8 + i * 16;
      const tag = buf.readUInt32LE(s);
      const off = at(buf.readUInt32LE(s + 8));
      const size = buf.readUInt32LE(s + 12);
      if (off + size > buf.length) throw bad(file, `extension section ${i} past the end`);
      if (tag === EXT_TAG_GENERATOR) generator = buf.toString('utf8', off, off + size);
      if (tag === EXT_TAG_HWCAPS) {
        if (size % 4 !== 0) throw bad(file, 'hwcaps extension size is not a multiple of 4');
        hwcapNames = [];
        for (let k = 0; k < size; k += 4)
          hwcapNames.push(cstr(buf, at(buf.readUInt32LE(off + k)), file, 'hwcaps name'));
      }
    }
  }
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const o = base + NEW_HEADER + i * NEW_ENTRY;
    const flags = buf.readInt32LE(o);
    const name = cstr(buf, at(buf.readUInt32LE(o + 4)), file, `entry ${i} key`);
    const path = cstr(buf, at(buf.readUInt32LE(o + 8)), file, `entry ${i} value`);
    const hwcap = buf.readBigUInt64LE(o + 16);
    const entry: LdCacheEntry = { name, path, flags, hwcap };
    if (hwcap & HWCAP_EXTENSION) {
      const idx = Number(hwcap & 0xffffffffn);
      const sub = hwcapNames[idx];
      if (sub === undefined)
        throw bad(file, `entry ${i} refers to hwcaps index ${idx}, which does not exist`);
      entry.hwcapsSubdir = sub;
    }
    entries.push(entry);
  }
  return generator === undefined ? { file, entries } : { file, entries, generator };
}

export async function readLdSoCache(file: string): Promise<LdCache | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return undefined;
  }
  return parseLdSoCache(buf, file);
}

/**
 * The path ld.so takes from the cache for `name`: the baseline (non-hwcaps)
 * x86-64 libc6 entry. hwcaps variants are returned separately because the
 * guest CPU, not the host's, decides which one loads.
 */
export function cacheLookup(cache: LdCache, name: string): { path: string; variants: string[] } | undefined {
  let path: string | undefined;
  const variants: string[] = [];
  for (const e of cache.entries) {
    if (e.name !== name || e.flags !== X86_64_LIBC6) continue;
    if (e.hwcapsSubdir !== undefined) variants.push(e.path);
    else if (e.hwcap === 0n && path === undefined) path = e.path;
  }
  return path === undefined ? undefined : { path, variants };
}

/** glibc's _dl_cache_libcmp: digit runs compare numerically; the cache is sorted descending by it. */
export function libcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;
  while (i < a.length) {
    const ca = a.charCodeAt(i);
    const cb = j < b.length ? b.charCodeAt(j) : undefined;
    if (isDigit(ca)) {
      if (!isDigit(cb)) return 1;
      let va = 0;
      let vb = 0;
      while (isDigit(a.charCodeAt(i))) va = va * 10 + a.charCodeAt(i++) - 48;
      while (isDigit(b.charCodeAt(j))) vb = vb * 10 + b.charCodeAt(j++) - 48;
      if (va !== vb) return va - vb;
    } else if (isDigit(cb)) {
      return -1;
    } else if (cb === undefined || ca !== cb) {
      return ca - (cb ?? 0);
    } else {
      i++;
      j++;
    }
  }
  return j < b.length ? -b.charCodeAt(j) : 0;
}

/**
 * Writes a new-format cache (no extensions) mapping sonames to paths, sorted
 * the way ld.so's binary search expects.
 */
export function buildLdSoCache(libs: { name: string; path: string }[]): Buffer {
  const sorted = [...libs].sort((x, y) => libcmp(y.name, x.name) || (x.path < y.path ? -1 : 1));
  const strings: Buffer[] = [];
  const stringsStart = NEW_HEADER + sorted.length * NEW_ENTRY;
  let strLen = 0;
  const offsets = new Map<string, number>();
  const intern = (s: string): number => {
    let off = offsets.get(s);
    if (off === undefined) {
      off = stringsStart + strLen;
      const b = Buffer.from(`${s}\0`, 'utf8');
      strings.push(b);
      strLen += b.length;
      offsets.set(s, off);
    }
    return off;
  };
  const table = Buffer.alloc(sorted.length * NEW_ENTRY);
  sorted.forEach((lib, i) => {
    const o = i * NEW_ENTRY;
    table.writeInt32LE(X86_64_LIBC6, o);
    table.writeUInt32LE(intern(lib.name), o + 4);
    table.writeUInt32LE(intern(lib.path), o + 8);
  });
  const header = Buffer.alloc(NEW_HEADER);
  header.write(NEW_MAGIC, 0, 'latin1');
  header.writeUInt32LE(sorted.length, 20);
  header.writeUInt32LE(strLen, 24);
  header[28] = 2; // little-endian
  return Buffer.concat([header, table, ...strings]);
}

/** Minimal glob for ld.so.conf includes: *, ? and [...] in any component. */
async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter((p) => p !== '');
  let bases = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts) {
    const next: string[] = [];
    if (!/[*?[]/.test(part)) {
      for (const b of bases) next.push(join(b, part));
    } else {
      const re = globToRegExp(part);
      for (const b of bases) {
        let names: string[];
        try {
          names = await readdir(b);
        } catch {
          continue;
        }
        for (const n of names.sort())
          if (re.test(n) && !(n.startsWith('.') && !part.startsWith('.'))) next.push(join(b, n));
      }
    }
    bases = next;
  }
  return bases;
}

function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = part.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let cls = part.slice(i + 1, close);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The directories ld.so.conf lists, in order, following `include` globs
 * (relative patterns are relative to the including file's directory) and
 * ignoring `hwcap` lines. A missing file yields no directories.
 */
export async function readLdSoConf(file: string, seen = new Set<string>()): Promise<string[]> {
  if (seen.has(file)) return [];
  seen.add(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const words = line.split(/[\s]+/);
    if (words[0] === 'include') {
      for (const pat of words.slice(1)) {
        const abs = pat.startsWith('/') ? pat : join(dirname(file), pat);
        for (const inc of await expandGlob(abs)) dirs.push(...(await readLdSoConf(inc, seen)));
      }
    } else if (words[0] === 'hwcap') {
      // Legacy hwcap subdirectory declarations; ld.so ignores them for lookups.
    } else {
      for (const d of line.split(/[\s,:]+/)) {
        // "dir=TYPE" (libc4/libc5 markers) keeps only the directory.
        const dir = d.replace(/=.*$/, '');
        if (dir.startsWith('/') && !dirs.includes(dir)) dirs.push(dir);
      }
    }
  }
  return dirs;
}
