// A Linux program in the guest uses /dev/nvme0n1 (and n2) as a raw block
// device on q35: it writes patterns the host then finds in the disk files,
// and hashes a disk the host prepared, the hash checked against the host's.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { nvmeArgs } from '../../src/drivers/nvme.js';
import { prepareRun } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { tempDir } from '../kernel/helpers.js';

const PROGRAM = resolve(import.meta.dirname, 'programs/diskio.c');
/** diskio.c's pattern: byte j of write k. */
const pattern = (k: number, j: number): number => (j * 13 + k * 41 + Math.floor(j / 4096)) & 0xff;
const patternBuf = (k: number, n: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, j) => pattern(k, j)));

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir('osvb-nvme-disk-');
  const exe = join(dir, 'diskio');
  execFileSync('musl-gcc', ['-static', '-O2', '-o', exe, PROGRAM, '-lm'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const app = join(dir, 'app.yaml');
  await writeFile(
    app,
    'name: diskio\napp:\n  exec: ./diskio\nkernel:\n  profile: q35\n  config:\n    NVME: y\n',
  );
  image = join(dir, 'img');
  await buildApp(app, { outDir: image, cacheDir: join(dir, 'cache'), jobs: 2 });
}, 300_000);

/** Run diskio ARGS in the guest with these NVMe disk files. */
async function run(disks: string[], args: string[]): Promise<{ out: string; record: string }> {
  const prep = await prepareRun(image, { machine: 'q35', stdout: () => {}, stderr: () => {} });
  const argv = prep.argv.slice(1);
  const i = argv.indexOf('-append');
  argv[i + 1] = `${argv[i + 1]} ${args.join(' ')}`;
  argv.push(
    ...nvmeArgs(
      disks.map((file) => ({ file, format: 'raw', readonly: false })),
      'q35',
    ),
  );
  const r = await execa(prep.spec.qemuPath, argv, { reject: false, timeout: 120_000, all: true });
  const record = await readFile(prep.spec.exitRecordPath, 'latin1').catch(() => '');
  await rm(prep.spec.exitRecordPath, { force: true });
  return { out: (r.all ?? '').replaceAll('\r', ''), record: record.trim() };
}

describe('/dev/nvme0n1 from a program', () => {
  it('writes patterns the host reads back from the disk file', async () => {
    const disk = join(dir, 'w.img');
    const before = Buffer.alloc(4 << 20, 0x11);
    await writeFile(disk, before);
    const r = await run([disk], ['write', '/dev/nvme0n1']);
    expect(r.out).toContain(`size ${4 << 20}`);
    expect(r.out).toContain('write ok');
    expect(r.record).toBe('osvb-exit: 0');

    const after = await readFile(disk);
    const expected = Buffer.from(before);
    patternBuf(1, 5 * 4096 + 512).copy(expected, 1 << 20); // PRP list
    expected.fill(0xa5, 1536, 2560); // sector, not page, aligned
    expected.fill(0x5a, 5000, 5100); // neither
    patternBuf(3, 1 << 20).copy(expected, 2 << 20); // over the transfer limit
    expect(after.length).toBe(expected.length);
    const firstDiff = after.findIndex((b, i) => b !== expected[i]);
    expect(firstDiff).toBe(-1);
  }, 180_000);

  it('hashes a disk the host prepared, and sees a second namespace', async () => {
    const a = join(dir, 'a.img');
    const b = join(dir, 'b.img');
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    await writeFile(a, Buffer.alloc(1 << 20));
    await writeFile(b, data);
    const r = await run([a, b], ['sha256', '/dev/nvme0n2']);
    const want = createHash('sha256').update(data).digest('hex');
    expect(r.out).toContain(`sha256 ${want} ${data.length}`);
    expect(r.record).toBe('osvb-exit: 0');
  }, 180_000);
});
