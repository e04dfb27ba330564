// Reproducible images: the same app built from two copies of the source tree
// (in two temporary directories, each with its own cache) gives byte-identical
// kernel.elf, rootfs.cpio and manifest.json. And what an image promises is
// checked: run.memory below what it needs is refused at build time with the
// number, a changed rootfs is refused by osvb run before booting.

import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OsvbError, RunError } from '../../src/errors.js';
import { prepareRun } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';

const REPO = resolve(import.meta.dirname, '../..');
let work: string;

/** A copy of the source tree (modules/, kconfig/) and of the app, under work/name. */
async function checkout(name: string, hello: string): Promise<{ srctree: string; app: string }> {
  const root = join(work, name);
  await cp(join(REPO, 'modules'), join(root, 'modules'), { recursive: true });
  await cp(join(REPO, 'kconfig'), join(root, 'kconfig'), { recursive: true });
  const appDir = join(root, 'app');
  await mkdir(join(appDir, 'www'), { recursive: true });
  await cp(hello, join(appDir, 'hello'));
  await writeFile(join(appDir, 'www', 'index.html'), '<p>hi</p>\n');
  // Shipped files keep their host modification times: the same inputs have the same ones.
  for (const p of [join(appDir, 'hello'), join(appDir, 'www', 'index.html'), join(appDir, 'www')]) {
    await utimes(p, 1_700_000_000, 1_700_000_000);
  }
  const app = join(appDir, 'app.yaml');
  await writeFile(
    app,
    'name: repro\napp:\n  exec: ./hello\n  args: [a, "b c"]\nfiles:\n  /srv/www: ./www\nrun:\n  memory: 64M\n',
  );
  return { srctree: root, app };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'osvb-repro-'));
  execFileSync('musl-gcc', [
    '-static',
    '-O1',
    '-o',
    join(work, 'hello'),
    join(REPO, 'examples/hello-c/hello.c'),
  ]);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('reproducible builds', () => {
  it('two checkouts, two caches: byte-identical kernel.elf, rootfs.cpio and manifest.json', async () => {
    const out: string[] = [];
    for (const name of ['one', 'two-with-a-longer-path']) {
      const c = await checkout(name, join(work, 'hello'));
      const r = await buildApp(c.app, { srctree: c.srctree, cacheDir: join(c.srctree, 'cache'), jobs: 2 });
      out.push(r.outDir);
    }
    for (const f of ['kernel.elf', 'rootfs.cpio', 'manifest.json']) {
      const [a, b] = await Promise.all(out.map((d) => readFile(join(d, f))));
      expect(a!.equals(b!), f).toBe(true);
    }
    const manifest = await readFile(join(out[0]!, 'manifest.json'), 'utf8');
    expect(manifest).not.toContain(work);
    expect(manifest).not.toMatch(/builtAt|buildSeconds/);
    // No path of either checkout inside the kernel (debug info included).
    const elf = await readFile(join(out[0]!, 'kernel.elf'), 'latin1');
    expect(elf).not.toContain(work);
  }, 600_000);

  it('SOURCE_DATE_EPOCH is the only time a manifest records', async () => {
    const c = await checkout('one', join(work, 'hello'));
    const r = await buildApp(c.app, {
      srctree: c.srctree,
      cacheDir: join(c.srctree, 'cache'),
      env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
      outDir: join(work, 'dated'),
    });
    expect(r.manifest.builtAt).toBe('2023-11-14T22:13:20.000Z');
  }, 300_000);
});

describe('what an image needs and holds', () => {
  it('run.memory: 1M is refused at build time with the memory needed, and no image is written', async () => {
    const c = await checkout('one', join(work, 'hello'));
    const app = join(c.srctree, 'app', 'small.yaml');
    await writeFile(app, 'name: small\napp:\n  exec: ./hello\nrun:\n  memory: 1M\n');
    const outDir = join(work, 'small');
    const err = await buildApp(app, { srctree: c.srctree, cacheDir: join(c.srctree, 'cache'), outDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The memory check names the setting, what is left and the size to use.
    expect(err).toBeInstanceOf(OsvbError);
    expect((err as OsvbError).message).toMatch(/run\.memory 1M leaves (nothing|0 MiB) for the program/);
    expect((err as OsvbError).hint).toMatch(/^use at least \d+M$/);
    expect((err as OsvbError).loc).toMatchObject({ file: app, line: 5 });
    expect(existsSync(outDir)).toBe(false);
  }, 300_000);

  it('osvb run refuses a rootfs that does not match the manifest, and -m below the need', async () => {
    const c = await checkout('one', join(work, 'hello'));
    const r = await buildApp(c.app, {
      srctree: c.srctree,
      cacheDir: join(c.srctree, 'cache'),
      outDir: join(work, 'img'),
    });
    const opts = { stdout: () => {}, stderr: () => {} };
    await expect(prepareRun(r.outDir, opts)).resolves.toBeDefined();
    await expect(prepareRun(r.outDir, { ...opts, memory: '1M' })).rejects.toThrow(
      /^rootfs is \d+ MiB; -m 1M leaves 0 MiB for the program/,
    );
    const cpio = join(r.outDir, 'rootfs.cpio');
    const bytes = await readFile(cpio);
    bytes[bytes.length >> 1]! ^= 1;
    await writeFile(cpio, bytes);
    const err = await prepareRun(r.outDir, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).message).toBe(
      'the root filesystem does not match the checksum in manifest.json',
    );
  }, 300_000);
});
