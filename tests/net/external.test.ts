// External sources (lwIP): module.yaml's external: block, and where the tree
// comes from: OSVB_LWIP_SRC, the user's cache, or `apt-get source` (here made
// to fail on purpose with a PATH holding a failing apt-get, so the test never
// downloads anything).

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BuildError, formatError } from '../../src/errors.js';
import { externalCacheDir, resolveExternal } from '../../src/kernel/external.js';
import { type KernelModule, parseModuleYaml } from '../../src/kernel/modules.js';
import { tempDir } from '../kernel/helpers.js';

let dir: string;
const YAML = `enabled-by: LWIP
sources: []
external:
  package: lwip
  version: 2.1.3+dfsg1-2
  sha256:
    lwip_2.1.3+dfsg1-2.dsc: ${'a'.repeat(64)}
  env: OSVB_LWIP_SRC
  check: src/include/lwip/init.h
  include: [src/include]
  sources: [src/core/init.c]
`;

beforeAll(async () => {
  dir = await tempDir();
});

function mod(): KernelModule {
  return parseModuleYaml(YAML, join(dir, 'module.yaml'), dir, 'lwip');
}

async function fakeTree(root: string): Promise<void> {
  await mkdir(join(root, 'src/include/lwip'), { recursive: true });
  await mkdir(join(root, 'src/core'), { recursive: true });
  await writeFile(join(root, 'src/include/lwip/init.h'), '');
  await writeFile(join(root, 'src/core/init.c'), '');
}

/** A PATH whose apt-get fails like one without deb-src entries. */
async function failingApt(): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  const apt = join(bin, 'apt-get');
  await writeFile(apt, '#!/bin/sh\necho "E: Unable to find a source package for lwip" >&2\nexit 100\n');
  await chmod(apt, 0o755);
  return bin;
}

describe('module.yaml external:', () => {
  it('parses package, version, pinned sums, env, include and sources', () => {
    const m = mod();
    expect(m.external).toMatchObject({
      package: 'lwip',
      version: '2.1.3+dfsg1-2',
      env: 'OSVB_LWIP_SRC',
      include: ['src/include'],
      sources: ['src/core/init.c'],
    });
    expect(m.external?.loc.line).toBe(4);
  });

  it('rejects a bad checksum, a path leaving the tree and a missing key, naming the line', () => {
    const bad = (text: string) => {
      try {
        parseModuleYaml(text, 'modules/lwip/module.yaml', dir, 'lwip');
      } catch (err) {
        return formatError(err as BuildError);
      }
      throw new Error('expected an error');
    };
    expect(bad(YAML.replace('a'.repeat(64), 'xyz'))).toMatch(/module\.yaml:7:\d+: .*64 lower-case hex/);
    expect(bad(YAML.replace('[src/core/init.c]', '[../x.c]'))).toMatch(/relative path inside the tree/);
    expect(bad(YAML.replace('  env: OSVB_LWIP_SRC\n', ''))).toMatch(/external needs "env:"/);
  });
});

describe('resolveExternal', () => {
  it('uses OSVB_LWIP_SRC when it holds the tree', async () => {
    const tree = join(dir, 'mine');
    await fakeTree(tree);
    const got = await resolveExternal(mod(), {
      env: { OSVB_LWIP_SRC: tree, PATH: '' },
      cacheDir: join(dir, 'c1'),
    });
    expect(got).toBe(tree);
  });

  it('says what OSVB_LWIP_SRC lacks', async () => {
    await expect(
      resolveExternal(mod(), { env: { OSVB_LWIP_SRC: dir, PATH: '' }, cacheDir: join(dir, 'c1') }),
    ).rejects.toThrow(/OSVB_LWIP_SRC=.* is not a lwip source tree: it has no src\/include\/lwip\/init\.h/);
  });

  it('uses the cached tree without running apt-get', async () => {
    const cache = join(dir, 'c2');
    await fakeTree(externalCacheDir(cache, mod().external!));
    const got = await resolveExternal(mod(), { env: { PATH: await failingApt() }, cacheDir: cache });
    expect(got).toBe(externalCacheDir(cache, mod().external!));
  });

  it('names both ways when neither works', async () => {
    const err = await resolveExternal(mod(), {
      env: { PATH: await failingApt() },
      cacheDir: join(dir, 'c3'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    const text = formatError(err as BuildError);
    expect(text).toMatch(/apt-get source lwip=2\.1\.3\+dfsg1-2 failed: E: Unable to find a source package/);
    expect(text).toMatch(/deb-src/);
    expect(text).toMatch(/OSVB_LWIP_SRC=DIR/);
    expect(text).toMatch(/module\.yaml:4/);
  });
});
