// A Linux program in the guest uses /dev/nvme0n1 (and n2) as a raw block
// device on q35, run the way a user runs it (`osvb run --config app.yaml`, with
// `disks:` in app.yaml or `--disk FILE,if=nvme`): it writes patterns the host
// then finds in the disk file, and hashes a disk the host prepared.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../kernel/helpers.js';

const PROGRAM = resolve(import.meta.dirname, 'programs/diskio.c');
/** diskio.c's pattern: byte j of write k. */
const pattern = (k: number, j: number): number => (j * 13 + k * 41 + Math.floor(j / 4096)) & 0xff;
const patternBuf = (k: number, n: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, j) => pattern(k, j)));

let dir: string;

beforeAll(async () => {
  dir = await tempDir('osvb-nvme-disk-');
  execFileSync('musl-gcc', ['-static', '-O2', '-o', join(dir, 'diskio'), PROGRAM, '-lm'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.env.XDG_CACHE_HOME = join(dir, 'xdg');
});
afterEach(() => vi.restoreAllMocks());

/** `osvb ARGS...` in-process; the guest console and the status. */
async function osvb(...args: string[]): Promise<{ out: string; status: number }> {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const status = await main(['node', 'osvb', ...args]);
  vi.restoreAllMocks();
  return { out: out.join('').replaceAll('\r', ''), status };
}

describe('/dev/nvme0n1 from a program', () => {
  it('writes patterns the host reads back from the disk file (app.yaml disks:)', async () => {
    const disk = join(dir, 'w.img');
    const before = Buffer.alloc(4 << 20, 0x11);
    await writeFile(disk, before);
    const app = join(dir, 'write.yaml');
    await writeFile(
      app,
      'name: nvme-write\napp:\n  exec: ./diskio\n  args: [write, /dev/nvme0n1]\nkernel:\n  profile: q35\ndisks:\n  - { file: w.img, interface: nvme }\n',
    );
    // The nvme disk is what asks for the driver.
    const explain = await osvb('config', 'explain', 'NVME', '--config', app);
    expect(explain.out).toContain('requested because disks: has 1 nvme disk');
    const r = await osvb('run', '--config', app, '--timeout', '150');
    expect(r.out).toContain(`size ${4 << 20}`);
    expect(r.out).toContain('write ok');
    expect(r.status).toBe(0);

    const after = await readFile(disk);
    const expected = Buffer.from(before);
    patternBuf(1, 5 * 4096 + 512).copy(expected, 1 << 20); // more than two pages: a PRP list
    expected.fill(0xa5, 1536, 2560); // sector, not page, aligned
    expected.fill(0x5a, 5000, 5100); // neither: read-modify-write
    patternBuf(3, 1 << 20).copy(expected, 2 << 20); // over the controller's transfer limit
    expect(after.length).toBe(expected.length);
    expect(after.findIndex((b, i) => b !== expected[i])).toBe(-1);
  }, 300_000);

  it('hashes a disk the host prepared on the second namespace (--disk FILE,if=nvme twice)', async () => {
    const a = join(dir, 'a.img');
    const b = join(dir, 'b.img');
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await writeFile(a, Buffer.alloc(1 << 20));
    await writeFile(b, data);
    const app = join(dir, 'hash.yaml');
    await writeFile(
      app,
      'name: nvme-hash\napp:\n  exec: ./diskio\n  args: [sha256, /dev/nvme0n2]\nkernel:\n  profile: q35\n',
    );
    const r = await osvb(
      'run',
      '--config',
      app,
      '--disk',
      `${a},if=nvme`,
      '--disk',
      `${b},if=nvme`,
      '--timeout',
      '150',
    );
    const want = createHash('sha256').update(data).digest('hex');
    expect(r.out).toContain(`sha256 ${want} ${data.length}`);
    expect(r.status).toBe(0);
  }, 300_000);

  it('refuses an NVMe disk on microvm with one line naming the disk', async () => {
    const disk = join(dir, 'm.img');
    await writeFile(disk, Buffer.alloc(1 << 20));
    const app = join(dir, 'micro.yaml');
    await writeFile(app, 'name: nvme-micro\napp:\n  exec: ./diskio\n  args: [sha256, /dev/nvme0n1]\n');
    const r = await osvb('run', '--config', app, '--disk', `${disk},if=nvme`, '--timeout', '60');
    expect(r.status).toBe(2);
    expect(r.out).toContain(
      `disk ${disk}: interface nvme needs a PCI machine (q35 or pc), and this image runs on microvm`,
    );
    expect(r.out).not.toContain('osvb: booting');
  }, 300_000);
});
