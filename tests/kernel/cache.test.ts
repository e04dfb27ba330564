// The object cache: what a change recompiles, and that an unchanged rebuild
// runs no compiler at all (counted through a logging gcc wrapper on PATH).

import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, compiledUnits, copyFixture, fixtureConfig, tempDir } from './helpers.js';

const ALL = [
  'modules/arch/head.S',
  'modules/arch/io.c',
  'modules/fixture/main.c',
  'modules/fixture/status.c',
  'modules/fixture/banner.c',
];

let cacheDir: string;
let outDir: string;
let srctree: string;
let env: NodeJS.ProcessEnv;
let gccLog: string;

async function gccCalls(): Promise<number> {
  const text = await readFile(gccLog, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').length;
}

beforeAll(async () => {
  const dir = await tempDir();
  cacheDir = join(dir, 'cache');
  outDir = join(dir, 'img');
  srctree = await copyFixture();
  const bin = join(dir, 'bin');
  gccLog = join(dir, 'gcc.log');
  await writeFile(join(dir, 'placeholder'), '');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(bin);
  await writeFile(join(bin, 'gcc'), `#!/bin/sh\necho "$*" >> ${gccLog}\nexec /usr/bin/gcc "$@"\n`);
  await chmod(join(bin, 'gcc'), 0o755);
  env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
});

describe('object cache', () => {
  it('a clean build compiles every enabled source and links', async () => {
    const r = await buildFixture({ cacheDir, outDir, srctree, env });
    expect(compiledUnits(r)).toEqual(ALL);
    expect(r.linked).toBe(true);
    expect(r.upToDate).toBe(false);
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
    expect(manifest.modules.map((m: { name: string }) => m.name)).toEqual(['arch', 'fixture']);
    expect(manifest.kernel.pvhEntry).toBe('0x100000');
  });

  it('an unchanged rebuild runs no compiler and no linker, and writes nothing', async () => {
    const before = await gccCalls();
    const st = (await import('node:fs')).statSync(join(outDir, 'manifest.json')).mtimeMs;
    const r = await buildFixture({ cacheDir, outDir, srctree, env });
    expect(compiledUnits(r)).toEqual([]);
    expect(r.cached).toBe(ALL.length);
    expect(r.linked).toBe(false);
    expect(r.upToDate).toBe(true);
    expect(await gccCalls()).toBe(before);
    expect((await import('node:fs')).statSync(join(outDir, 'manifest.json')).mtimeMs).toBe(st);
  });

  it('an int symbol recompiles only the source that names it', async () => {
    const r = await buildFixture({
      cacheDir,
      outDir,
      srctree,
      env,
      config: fixtureConfig({ FIX_STATUS: '7' }),
    });
    expect(compiledUnits(r)).toEqual(['modules/fixture/status.c']);
    expect(r.linked).toBe(true);
  });

  it('a string symbol recompiles only banner.c; switching back is all cache hits', async () => {
    const r = await buildFixture({
      cacheDir,
      outDir,
      srctree,
      env,
      config: fixtureConfig({ FIX_BANNER_TEXT: 'another banner' }),
    });
    expect(compiledUnits(r)).toEqual(['modules/fixture/banner.c']);
    const back = await buildFixture({ cacheDir, outDir, srctree, env });
    expect(compiledUnits(back)).toEqual([]);
    expect(back.linked).toBe(false); // the first link is still cached
    expect(back.upToDate).toBe(false); // but the image dir held the other kernel
  });

  it('a choice symbol recompiles only main.c', async () => {
    const r = await buildFixture({ cacheDir, outDir, srctree, env, config: fixtureConfig({}, 'HANG') });
    expect(compiledUnits(r)).toEqual(['modules/fixture/main.c']);
  });

  it('turning off a conditional source drops it without recompiling the rest', async () => {
    const r = await buildFixture({
      cacheDir,
      outDir,
      srctree,
      env,
      config: fixtureConfig({ FIX_BANNER: 'n' }),
    });
    expect(compiledUnits(r)).toEqual([]);
    expect(r.objects.map((o) => o.unit.display)).not.toContain('modules/fixture/banner.c');
    expect(r.linked).toBe(true);
    expect(r.manifest.modules.find((m) => m.name === 'fixture')?.objects).toBe(2);
  });

  it('a header edit recompiles exactly the sources that include it', async () => {
    const h = join(srctree, 'modules/fixture/include/fixture/fixture.h');
    await writeFile(h, `${await readFile(h, 'utf8')}/* edited */\n`);
    const r = await buildFixture({ cacheDir, outDir, srctree, env });
    expect(compiledUnits(r)).toEqual([
      'modules/fixture/main.c',
      'modules/fixture/status.c',
      'modules/fixture/banner.c',
    ]);
  });

  it('a symbol named only in a header recompiles the sources including that header', async () => {
    const h = join(srctree, 'modules/arch/include/arch/io.h');
    const text = await readFile(h, 'utf8');
    await writeFile(
      h,
      text.replace('#define COM1 0x3f8', '#define COM1 0x3f8\n#ifdef CONFIG_FIX_EXTRA\n#endif'),
    );
    await buildFixture({ cacheDir, outDir, srctree, env });
    const r = await buildFixture({
      cacheDir,
      outDir,
      srctree,
      env,
      config: fixtureConfig({ FIX_EXTRA: 'y' }),
    });
    expect(compiledUnits(r)).toEqual(['modules/arch/io.c', 'modules/fixture/main.c']);
  });

  it('a source edit recompiles that source only', async () => {
    const s = join(srctree, 'modules/arch/io.c');
    await writeFile(s, `${await readFile(s, 'utf8')}\n/* edited */\n`);
    const r = await buildFixture({ cacheDir, outDir, srctree, env });
    expect(compiledUnits(r)).toEqual(['modules/arch/io.c']);
  });
});
