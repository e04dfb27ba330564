import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError, InputError } from '../../src/errors.js';
import type { RootfsEntry } from '../../src/fs/tree.js';
import { fletcher4, sealEmbedded, sha256Cksum, verifyEmbedded } from '../../src/fs/zfs/checksum.js';
import { Lz4Error, zfsLz4Compress, zfsLz4Decompress } from '../../src/fs/zfs/lz4.js';
import { type NvList, NvlistError, packNvlist, unpackNvlist } from '../../src/fs/zfs/nvlist.js';
import { writeZfsPool } from '../../src/fs/zfs/pool.js';
import { buildFatZap, buildMicroZap, fitsMicro, ZapError } from '../../src/fs/zfs/zap.js';
import { tempDir } from './helpers.js';
import { zdbCopyOut, zdbListing, zdbVerify } from './zdb.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('zfs'));
});
afterAll(() => cleanup());

const hex = (w: bigint[]): string => w.map((x) => x.toString(16).padStart(16, '0')).join(':');

describe('checksums', () => {
  it('fletcher4 matches what OpenZFS computed for a 512-byte block holding "hello\\n"', () => {
    const b = Buffer.alloc(512);
    b.write('hello\n');
    // zdb -ddddd printed this checksum for such a block and verified it.
    expect(hex(fletcher4(b))).toBe('000000006c6c6fd7:000000363637e111:00000da8a9119e40:00024fe1f337b2c0');
  });

  it('sha256 words are the digest read as big-endian 64-bit groups', () => {
    const w = sha256Cksum(Buffer.from('abc'));
    expect(w[0]!.toString(16)).toBe('ba7816bf8f01cfea');
    expect(w[3]!.toString(16)).toBe('b410ff61f20015ad');
  });

  it('an embedded (label) checksum depends on the block and on its device offset', () => {
    const b = Buffer.alloc(1024, 7);
    sealEmbedded(b, 0x20000);
    expect(verifyEmbedded(b, 0x20000)).toBe(true);
    expect(verifyEmbedded(b, 0x20400)).toBe(false);
    b[3] = b[3]! ^ 1;
    expect(verifyEmbedded(b, 0x20000)).toBe(false);
  });
});

describe('lz4', () => {
  const samples: Buffer[] = [
    Buffer.alloc(4096),
    Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabcabcabc'.repeat(100)),
    Buffer.from(Array.from({ length: 131072 }, (_, i) => (i * 7) & 0xff)),
    Buffer.from(Array.from({ length: 70000 }, (_, i) => ((i * 2654435761) >>> 11) & 0xff)),
  ];
  it('round-trips through its own decoder, and skips what does not compress', () => {
    for (const s of samples) {
      const c = zfsLz4Compress(s, s.length - (s.length >> 3));
      if (!c) {
        expect(s).toBe(samples[3]); // the pseudo-random one
        continue;
      }
      expect(c.length).toBeLessThan(s.length);
      expect(Buffer.from(zfsLz4Decompress(c, s.length)).equals(s)).toBe(true);
    }
  });

  it('refuses corrupt blocks instead of reading or writing out of bounds', () => {
    const c = Buffer.from(zfsLz4Compress(samples[1]!, 4000)!);
    expect(() => zfsLz4Decompress(c.subarray(0, 3), 100)).toThrow(Lz4Error);
    const longer = Buffer.from(c);
    longer.writeUInt32BE(c.length + 10, 0);
    expect(() => zfsLz4Decompress(longer, samples[1]!.length)).toThrow(/exceeds/);
    expect(() => zfsLz4Decompress(c, 10)).toThrow(Lz4Error);
    // a match pointing before the start of the output
    expect(() => zfsLz4Decompress(Buffer.from([0, 0, 0, 3, 0x0f, 0x10, 0x00]), 100)).toThrow(/offset/);
  });
});

describe('nvlist (XDR)', () => {
  const nv: NvList = {
    version: 5000n,
    name: 'tank',
    vdev_tree: { type: 'file', children: [{ id: 0n }, { id: 1n, path: '/dev/vda' }] },
    empty: {},
  };
  it('round-trips', () => {
    expect(unpackNvlist(packNvlist(nv))).toEqual(nv);
  });

  it('encodes a uint64 pair byte for byte as libnvpair does', () => {
    // The "txg" pair of a label OpenZFS wrote (ztest, txg 261): encoded size 32,
    // decoded size 32, name "txg", type 8 (uint64), 1 element, the value.
    const b = packNvlist({ txg: 261n });
    expect(b.subarray(12, 44).toString('hex')).toBe(
      '000000200000002000000003747867000000000800000001' + '0000000000000105',
    );
    expect(b.subarray(0, 12).toString('hex')).toBe('010100000000000000000001');
  });

  it('refuses truncated and inconsistent input with a clear error', () => {
    const b = packNvlist(nv);
    expect(() => unpackNvlist(b.subarray(0, b.length - 9))).toThrow(NvlistError);
    expect(() => unpackNvlist(Buffer.from([0, 1, 0, 0]))).toThrow(/not XDR/);
    const bad = Buffer.from(b);
    bad.writeInt32BE(0x7fffffff, 12); // first pair's encoded size
    expect(() => unpackNvlist(bad)).toThrow(/bad pair size/);
    const hugeCount = Buffer.from(packNvlist({ a: [1n, 2n] }));
    hugeCount.writeInt32BE(0x10000000, 32); // element count of the array
    expect(() => unpackNvlist(hugeCount)).toThrow(NvlistError);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(() => unpackNvlist(packNvlist(deep as never))).toThrow(/deeper/);
  });
});

describe('ZAP', () => {
  it('uses a micro ZAP only for short names with one uint64 each', () => {
    expect(fitsMicro([{ name: 'a'.repeat(49), value: [1n] }])).toBe(true);
    expect(fitsMicro([{ name: 'a'.repeat(50), value: [1n] }])).toBe(false);
    expect(fitsMicro([{ name: 'a', value: Buffer.from('x\0') }])).toBe(false);
    expect(fitsMicro(Array.from({ length: 2048 }, (_, i) => ({ name: `f${i}`, value: [1n] })))).toBe(false);
    expect(buildMicroZap(1n, [{ name: 'x', value: [1n] }]).length).toBe(512);
    expect(() =>
      buildMicroZap(1n, [
        { name: 'x', value: [1n] },
        { name: 'x', value: [2n] },
      ]),
    ).toThrow(ZapError);
  });

  it('splits a fat ZAP into leaves by hash prefix', () => {
    const blocks = buildFatZap(
      5n,
      Array.from({ length: 3000 }, (_, i) => ({ name: `file-${i}`, value: [BigInt(i)] })),
    );
    expect(blocks.length).toBeGreaterThan(8);
    expect(blocks.every((b) => b.length === 16384)).toBe(true);
    expect(blocks[0]!.readBigUInt64LE(72)).toBe(3000n); // zap_num_entries
    let n = 0;
    for (const leaf of blocks.slice(1)) n += leaf.readUInt16LE(30);
    expect(n).toBe(3000);
  });
});

/** A tree with what a real root has: nested dirs, modes, symlinks, empty/small/large/sparse files, big dirs. */
function sampleTree(hostFile: string): { entries: RootfsEntry[]; content: Map<string, Buffer> } {
  const content = new Map<string, Buffer>();
  const entries: RootfsEntry[] = [];
  const file = (path: string, data: Buffer, mode = 0o644): void => {
    content.set(path, data);
    entries.push({ kind: 'file', path, mode, size: data.length, data, origin: 'test' });
  };
  const dirEntry = (path: string, mode = 0o755): void => {
    entries.push({ kind: 'dir', path, mode });
  };
  dirEntry('/app');
  dirEntry('/tmp', 0o1777);
  dirEntry('/etc');
  dirEntry('/usr');
  dirEntry('/usr/lib');
  dirEntry('/many');
  file('/app/hello.txt', Buffer.from('hello\n'));
  file('/app/empty', Buffer.alloc(0));
  file('/app/setuid', Buffer.from('#!/bin/sh\n'), 0o4755);
  file('/etc/records', Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff)));
  file('/etc/noise', Buffer.from(Array.from({ length: 50_000 }, (_, i) => ((i * 2654435761) >>> 13) & 0xff)));
  // > 1024 records of 128 KiB: three levels of block pointers, mostly holes.
  const sparse = Buffer.alloc(129 * 1024 * 1024 + 5);
  sparse[1] = 1;
  sparse[100 * 1024 * 1024] = 2;
  sparse[sparse.length - 1] = 3;
  file('/sparse', sparse);
  const fromHost = readFileSync(hostFile);
  content.set('/app/from-host', fromHost);
  entries.push({
    kind: 'file',
    path: '/app/from-host',
    mode: 0o600,
    size: fromHost.length,
    source: hostFile,
    origin: 'test',
  });
  for (let i = 0; i < 2500; i++) file(`/many/entry-${i}`, Buffer.from(String(i)));
  file(`/many/${'long-name-'.repeat(20)}é`, Buffer.from('long\n'));
  entries.push({ kind: 'symlink', path: '/lib', mode: 0o777, target: 'usr/lib', origin: 'test' });
  entries.push({
    kind: 'symlink',
    path: '/app/far',
    mode: 0o777,
    target: `/${'deep/'.repeat(20)}x`,
    origin: 'test',
  });
  return { entries, content };
}

describe('writeZfsPool, checked by zdb', () => {
  let tree: ReturnType<typeof sampleTree>;
  let poolDir: string;
  let sha: string;

  beforeAll(async () => {
    const hostFile = join(dir, 'host.bin');
    writeFileSync(hostFile, Buffer.from('bytes from a host file\n'.repeat(1000)));
    tree = sampleTree(hostFile);
    poolDir = join(dir, 'pool');
    mkdirSync(poolDir);
    sha = (await writeZfsPool(tree.entries, join(poolDir, 'root.zfs'), { poolName: 'osvbtest' })).sha256;
  }, 120_000);

  it('zdb -cc verifies every block checksum and finds no leaked space', () => {
    const out = zdbVerify(poolDir, 'osvbtest');
    expect(out).toMatch(/bp count:\s+\d+/);
  }, 300_000);

  it("zdb's listing of the dataset is exactly the input tree", () => {
    const listing = zdbListing(poolDir, 'osvbtest');
    const want = new Map<string, { mode: number; size: number }>();
    const dirs = new Map<string, number>([['/', 0]]);
    for (const e of tree.entries) if (e.kind === 'dir') dirs.set(e.path, 0);
    for (const e of tree.entries) {
      const parent = e.path.slice(0, e.path.lastIndexOf('/')) || '/';
      dirs.set(parent, (dirs.get(parent) ?? 0) + 1);
    }
    want.set('/', { mode: 0o40755, size: 2 + dirs.get('/')! });
    for (const e of tree.entries) {
      if (e.kind === 'dir') want.set(e.path, { mode: 0o40000 | e.mode, size: 2 + dirs.get(e.path)! });
      else if (e.kind === 'file') want.set(e.path, { mode: 0o100000 | e.mode, size: e.size });
      else want.set(e.path, { mode: 0o120000 | e.mode, size: Buffer.byteLength(e.target) });
    }
    expect(listing.size).toBe(want.size);
    expect(new Map([...listing].sort())).toEqual(new Map([...want].sort()));
  }, 300_000);

  it('zdb reads back file contents byte for byte (compressed, sparse, multi-level)', () => {
    for (const p of ['/etc/records', '/etc/noise', '/app/from-host', '/sparse']) {
      const out = join(dir, `out-${p.replaceAll('/', '_')}`);
      zdbCopyOut(poolDir, 'osvbtest', p, out);
      expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(
        createHash('sha256').update(tree.content.get(p)!).digest('hex'),
      );
    }
  }, 300_000);

  it('writes the same bytes for the same input', async () => {
    const again = join(dir, 'again.zfs');
    const r = await writeZfsPool(tree.entries, again, { poolName: 'osvbtest' });
    expect(r.sha256).toBe(sha);
  }, 120_000);

  it('refuses bad input with one error and leaves no file behind', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    await expect(writeZfsPool([], join(bad, 'x.zfs'), { poolName: '1bad' })).rejects.toThrow(InputError);
    await expect(
      writeZfsPool(
        [{ kind: 'file', path: '/no/parent', mode: 0o644, size: 1, data: Buffer.from('x'), origin: 't' }],
        join(bad, 'y.zfs'),
      ),
    ).rejects.toThrow(BuildError);
    await expect(
      writeZfsPool(
        [
          {
            kind: 'file',
            path: `/${'n'.repeat(256)}`,
            mode: 0o644,
            size: 1,
            data: Buffer.from('x'),
            origin: 't',
          },
        ],
        join(bad, 'z.zfs'),
      ),
    ).rejects.toThrow(/longer than 255/);
    expect(readdirSync(bad)).toEqual([]);
    expect(existsSync(join(bad, 'x.zfs'))).toBe(false);
  });
});
