// The object cache's cap: least recently used entries go first, entries a
// build may still be using (recently touched) stay, concurrent builds share
// one cache, OSVB_CACHE_DIR moves it, osvb cache prune empties it.

import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { buildApp } from '../../src/kernel/app.js';
import { cacheRoot } from '../../src/kernel/cache.js';
import { cacheEntries, parseSize, pruneCache } from '../../src/kernel/lru.js';
import { FIXTURE, FIXTURE_APP, tempDir } from './helpers.js';

async function entry(
  root: string,
  sub: 'objects' | 'link',
  key: string,
  ext: string,
  bytes: number,
  ageMin: number,
) {
  const dir = join(root, sub, key.slice(0, 2));
  await mkdir(dir, { recursive: true });
  const main = join(dir, `${key}${ext}`);
  await writeFile(main, Buffer.alloc(bytes));
  await writeFile(join(dir, `${key}.json`), '{}');
  const t = new Date(Date.now() - ageMin * 60_000);
  await utimes(main, t, t);
  return main;
}

describe('cache location and sizes', () => {
  it('OSVB_CACHE_DIR wins over XDG_CACHE_HOME', () => {
    expect(cacheRoot({ OSVB_CACHE_DIR: '/ci/cache', XDG_CACHE_HOME: '/x' })).toBe('/ci/cache');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/osvb');
  });

  it('parses sizes', () => {
    expect(parseSize('512M')).toBe(512 * 1024 ** 2);
    expect(parseSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('lots')).toBeNaN();
    expect(parseSize(undefined)).toBeUndefined();
  });
});

describe('LRU eviction', () => {
  it('removes the least recently used first and keeps what a build may be using', async () => {
    const root = await tempDir('osvb-lru-');
    const old = await entry(root, 'objects', 'aa11', '.o', 4000, 120);
    const mid = await entry(root, 'link', 'bb22', '.elf', 4000, 60);
    const newer = await entry(root, 'objects', 'cc33', '.o', 4000, 30);
    const fresh = await entry(root, 'objects', 'dd44', '.o', 4000, 1); // inside the grace period
    expect(await cacheEntries(root)).toHaveLength(4);
    const r = await pruneCache(root, { maxBytes: 8100 });
    expect(r.removed).toBe(2);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(old.replace(/\.o$/, '.json'))).toBe(false);
    expect(existsSync(mid)).toBe(false);
    expect(existsSync(newer)).toBe(true);
    expect(existsSync(fresh)).toBe(true);
    // Even a cap of 0 keeps the recently used entry; --all (grace 0) does not.
    expect((await pruneCache(root, { maxBytes: 0 })).removed).toBe(1);
    expect(existsSync(fresh)).toBe(true);
    expect((await pruneCache(root, { maxBytes: 0, graceMs: 0 })).removed).toBe(1);
    expect(await cacheEntries(root)).toEqual([]);
  });

  it('lets concurrent builds share one cache under a tiny cap, and osvb cache prune --all empty it', async () => {
    const dir = await tempDir('osvb-lru-build-');
    const cacheDir = join(dir, 'cache');
    const env = { ...process.env, OSVB_CACHE_MAX: '1' };
    const build = (n: number) =>
      buildApp(FIXTURE_APP, { srctree: FIXTURE, outDir: join(dir, `out${n}`), cacheDir, env, jobs: 1 });
    const [a, b, c] = await Promise.all([build(1), build(2), build(3)]);
    const elf = (r: typeof a) => readFile(join(r.outDir, 'kernel.elf'));
    expect((await elf(a)).equals(await elf(b))).toBe(true);
    expect((await elf(a)).equals(await elf(c))).toBe(true);
    // Everything was just used, so the 1-byte cap evicted nothing a build needed: a rebuild is all hits.
    const again = await buildApp(FIXTURE_APP, { srctree: FIXTURE, outDir: join(dir, 'out4'), cacheDir, env });
    expect(again.compiled).toBe(0);
    vi.stubEnv('OSVB_CACHE_DIR', cacheDir);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'osvb', 'cache', 'prune', '--all'])).toBe(0);
    } finally {
      out.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(await cacheEntries(cacheDir)).toEqual([]);
    const cold = await buildApp(FIXTURE_APP, { srctree: FIXTURE, outDir: join(dir, 'out5'), cacheDir });
    expect(cold.compiled).toBeGreaterThan(0);
    expect((await readFile(join(cold.outDir, 'kernel.elf'))).equals(await elf(a))).toBe(true);
  });
});
