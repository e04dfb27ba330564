// The object cache's size cap. Entries are what a build can reuse: compiled
// objects (objects/xx/<key>.o + .json), linked kernels (link/xx/<key>.elf +
// .json) and pulled images (images/<digest>/). A build marks what it used by
// touching its main file (mtime), so eviction removes the least recently used
// first. Concurrent builds stay safe: files are only ever added by rename,
// entries used in the last GRACE_MS are never evicted (a build in flight has
// touched everything it will link), and one evictor runs at a time (a lock
// directory naming its pid; a dead holder's lock is taken over).

import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_CACHE_MAX = 2 * 1024 ** 3;
export const GRACE_MS = 10 * 60 * 1000;

export interface CacheEntry {
  kind: 'object' | 'kernel' | 'image';
  /** Files (or one directory) that make up the entry. */
  paths: string[];
  size: number;
  /** Last use (ms since epoch). */
  usedMs: number;
}

/** Parses 512M, 2G, 1500000 (bytes); undefined for empty. */
export function parseSize(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) return Number.NaN;
  const mul = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2]!.toUpperCase() as '' | 'K'];
  return Math.floor(Number(m[1]) * mul);
}

/** Marks a cache file used now (best effort: a read-only cache only loses LRU order). */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirSize(p) : (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

async function pairs(root: string, kind: 'object' | 'kernel', main: string): Promise<CacheEntry[]> {
  const out: CacheEntry[] = [];
  for (const sub of await readdir(root).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    const dir = join(root, sub);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith(main)) continue;
      const p = join(dir, name);
      const meta = `${p.slice(0, -main.length)}.json`;
      const a = await stat(p).catch(() => undefined);
      if (!a) continue;
      const b = await stat(meta).catch(() => undefined);
      out.push({ kind, paths: [p, meta], size: a.size + (b?.size ?? 0), usedMs: a.mtimeMs });
    }
  }
  return out;
}

export async function cacheEntries(cacheDir: string): Promise<CacheEntry[]> {
  const entries = [
    ...(await pairs(join(cacheDir, 'objects'), 'object', '.o')),
    ...(await pairs(join(cacheDir, 'link'), 'kernel', '.elf')),
  ];
  const images = join(cacheDir, 'images');
  for (const name of await readdir(images).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const p = join(images, name);
    const st = await stat(join(p, 'manifest.json')).catch(() => undefined);
    entries.push({ kind: 'image', paths: [p], size: await dirSize(p), usedMs: st?.mtimeMs ?? 0 });
  }
  return entries;
}

async function withLock<T>(cacheDir: string, fn: () => Promise<T>): Promise<T | undefined> {
  const lock = join(cacheDir, '.evict.lock');
  await mkdir(cacheDir, { recursive: true });
  try {
    await mkdir(lock);
  } catch {
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
    let alive = false;
    try {
      if (holder > 0) {
        process.kill(holder, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (alive) return undefined; // another process is evicting; that is enough
    await rm(lock, { recursive: true, force: true });
    try {
      await mkdir(lock);
    } catch {
      return undefined;
    }
  }
  try {
    await writeFile(join(lock, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export interface PruneResult {
  before: number;
  after: number;
  removed: number;
  freed: number;
}

/**
 * Evicts least recently used entries until the cache is at most `maxBytes`
 * (entries used within `graceMs` are kept). maxBytes 0 with graceMs 0 empties it.
 */
export async function pruneCache(
  cacheDir: string,
  opts: { maxBytes: number; graceMs?: number; now?: number },
): Promise<PruneResult> {
  const r = await withLock(cacheDir, async () => {
    const entries = (await cacheEntries(cacheDir)).sort((a, b) => a.usedMs - b.usedMs);
    const before = entries.reduce((s, e) => s + e.size, 0);
    const now = opts.now ?? Date.now();
    const grace = opts.graceMs ?? GRACE_MS;
    let total = before;
    let removed = 0;
    for (const e of entries) {
      if (total <= opts.maxBytes) break;
      if (now - e.usedMs < grace) continue;
      // Meta first: an object without its meta is never trusted, so a half-removed entry is a miss.
      for (const p of [...e.paths].reverse()) await rm(p, { recursive: true, force: true });
      total -= e.size;
      removed++;
    }
    return { before, after: total, removed, freed: before - total };
  });
  return r ?? { before: 0, after: 0, removed: 0, freed: 0 };
}

/** The cap from OSVB_CACHE_MAX (default 2 GiB). */
export function cacheMax(env: NodeJS.ProcessEnv = process.env): number {
  const v = parseSize(env.OSVB_CACHE_MAX);
  return v === undefined || Number.isNaN(v) ? DEFAULT_CACHE_MAX : v;
}
