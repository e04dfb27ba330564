// The stat-stamp fast path: an unchanged rebuild is answered without the
// pipeline; any change to an input falls through to the full build.

import { rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/kernel/app.js';
import { upToDateImage } from '../../src/kernel/stamp.js';
import { copyFixture, FIXTURE_APP, tempDir } from './helpers.js';

let srctree: string;
let cacheDir: string;
let outDir: string;
let appFile: string;

const req = (env: NodeJS.ProcessEnv = process.env) => ({ appFile, srctree, outDir, cacheDir, env });

async function rebuild(): Promise<void> {
  await buildApp(appFile, { srctree, outDir, cacheDir });
  expect(await upToDateImage(req())).toBe(outDir);
}

beforeAll(async () => {
  const dir = await tempDir();
  srctree = await copyFixture();
  cacheDir = join(dir, 'cache');
  outDir = join(dir, 'img');
  appFile = join(dir, 'app.yaml');
  await writeFile(appFile, (await import('node:fs')).readFileSync(FIXTURE_APP, 'utf8'));
  // Inputs written just now may be newer than the build's start; age them.
  const old = new Date(Date.now() - 60_000);
  await utimes(appFile, old, old);
  await buildApp(appFile, { srctree, outDir, cacheDir });
});

describe('build stamp', () => {
  it('reports the image up to date when nothing changed', async () => {
    expect(await upToDateImage(req())).toBe(outDir);
  });

  it('a touched source falls through to the full build', async () => {
    const f = join(srctree, 'modules/fixture/status.c');
    await utimes(f, new Date(), new Date(Date.now() - 30_000));
    expect(await upToDateImage(req())).toBeUndefined();
    await rebuild();
  });

  it('a new file in a module directory is a change', async () => {
    await writeFile(join(srctree, 'modules/fixture/new.h'), '');
    expect(await upToDateImage(req())).toBeUndefined();
    await rebuild();
  });

  it('a changed app.yaml is a change', async () => {
    await utimes(appFile, new Date(), new Date(Date.now() - 20_000));
    expect(await upToDateImage(req())).toBeUndefined();
    await rebuild();
  });

  it('another PATH or KCONFIG_ variable is a change', async () => {
    expect(
      await upToDateImage(req({ ...process.env, PATH: `/nonexistent:${process.env.PATH}` })),
    ).toBeUndefined();
    expect(await upToDateImage(req({ ...process.env, KCONFIG_X: '1' }))).toBeUndefined();
  });

  it('a damaged image directory is a change', async () => {
    await rm(join(outDir, 'kernel.elf'));
    expect(await upToDateImage(req())).toBeUndefined();
    await rebuild();
    await writeFile(join(outDir, 'manifest.json'), '{}');
    expect(await upToDateImage(req())).toBeUndefined();
  });
});
