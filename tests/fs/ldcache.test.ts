import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputError } from '../../src/errors.js';
import {
  buildLdSoCache,
  cacheLookup,
  libcmp,
  parseLdSoCache,
  readLdSoConf,
  X86_64_LIBC6,
} from '../../src/fs/ldcache.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('ldcache'));
});
afterAll(() => cleanup());

describe('ld.so.cache', () => {
  it('reads the host cache exactly as `ldconfig -p` lists it', () => {
    const cache = parseLdSoCache(readFileSync('/etc/ld.so.cache'), '/etc/ld.so.cache');
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n');
    const count = Number(/^(\d+) libs found/.exec(out[0]!)?.[1]);
    const listed = out
      .slice(1)
      .map((l) => /^\t(\S+) \(([^)]*)\) => (.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1], type: m[2], path: m[3] }));
    expect(cache.entries.length).toBe(count);
    expect(cache.entries.map((e) => ({ name: e.name, path: e.path }))).toEqual(
      listed.map((l) => ({ name: l.name, path: l.path })),
    );
    // Our flag decoding agrees with ldconfig's "(libc6,x86-64)" labels.
    cache.entries.forEach((e, i) => {
      expect(e.flags === X86_64_LIBC6, e.name).toBe(listed[i]!.type!.startsWith('libc6,x86-64'));
    });
    expect(cache.generator).toMatch(/ldconfig/);
  });

  it('looks up libc.so.6 where ld.so finds it', () => {
    const cache = parseLdSoCache(readFileSync('/etc/ld.so.cache'), '/etc/ld.so.cache');
    expect(cacheLookup(cache, 'libc.so.6')?.path).toBe('/lib/x86_64-linux-gnu/libc.so.6');
    expect(cacheLookup(cache, 'libdoes-not-exist.so.9')).toBeUndefined();
  });

  it('is sorted the way ld.so binary-searches it (descending _dl_cache_libcmp)', () => {
    const cache = parseLdSoCache(readFileSync('/etc/ld.so.cache'), '/etc/ld.so.cache');
    for (let i = 1; i < cache.entries.length; i++) {
      expect(libcmp(cache.entries[i - 1]!.name, cache.entries[i]!.name)).toBeGreaterThanOrEqual(0);
    }
    expect(libcmp('libfoo.so.10', 'libfoo.so.9')).toBeGreaterThan(0);
    expect(libcmp('libfoo.so', 'libfoo.so.1')).toBeLessThan(0);
    expect(libcmp('liba.so', 'liba.so')).toBe(0);
  });

  it('writes a cache that reads back and that ldconfig -p accepts', () => {
    const libs = [
      { name: 'libzed.so.1', path: '/opt/z/libzed.so.1' },
      { name: 'libfoo.so.2', path: '/opt/lib/libfoo.so.2' },
      { name: 'libfoo.so.10', path: '/opt/lib/libfoo.so.10' },
    ];
    const buf = buildLdSoCache(libs);
    const back = parseLdSoCache(buf, 'gen');
    expect(back.entries.map((e) => e.name)).toEqual(['libzed.so.1', 'libfoo.so.10', 'libfoo.so.2']);
    const file = join(dir, 'ld.so.cache');
    writeFileSync(file, buf);
    const out = execFileSync('ldconfig', ['-p', '-C', file], { encoding: 'utf8' });
    expect(out).toContain('3 libs found');
    expect(out).toContain('libfoo.so.10 (libc6,x86-64) => /opt/lib/libfoo.so.10');
  });

  it('rejects malformed caches with one error naming the file', () => {
    const good = buildLdSoCache([{ name: 'liba.so.1', path: '/a/liba.so.1' }]);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['bad magic', Buffer.from('glibc-ld.so.cacheX.Y and more bytes to fill the header.....')],
      ['truncated entries', good.subarray(0, 60)],
    ];
    const badKey = Buffer.from(good);
    badKey.writeUInt32LE(0x7fffffff, 48 + 4);
    cases.push(['key offset out of range', badKey]);
    const noNul = Buffer.from(good.subarray(0, good.length - 1));
    cases.push(['unterminated string', noNul]);
    for (const [what, buf] of cases) {
      let err: unknown;
      try {
        parseLdSoCache(buf, `/c/${what}`);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(InputError);
      expect(formatError(err as InputError)).toContain(`/c/${what}`);
    }
  });
});

describe('ld.so.conf', () => {
  it('follows include globs in order, relative to the including file, and skips hwcap lines', async () => {
    const etc = join(dir, 'etc');
    mkdirSync(join(etc, 'ld.so.conf.d'), { recursive: true });
    writeFileSync(
      join(etc, 'ld.so.conf'),
      '# comment\n/first\ninclude ld.so.conf.d/*.conf\nhwcap 1 nosegneg\n/last\n',
    );
    writeFileSync(join(etc, 'ld.so.conf.d', 'b.conf'), '/b1:/b2\n');
    writeFileSync(join(etc, 'ld.so.conf.d', 'a.conf'), '/a # trailing comment\ninclude ../ld.so.conf\n');
    writeFileSync(join(etc, 'ld.so.conf.d', 'skip.txt'), '/never\n');
    expect(await readLdSoConf(join(etc, 'ld.so.conf'))).toEqual(['/first', '/a', '/b1', '/b2', '/last']);
  });

  it('reads the host configuration', async () => {
    const dirs = await readLdSoConf('/etc/ld.so.conf');
    expect(dirs).toContain('/usr/lib/x86_64-linux-gnu');
  });
});
