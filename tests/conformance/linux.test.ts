// Conformance: osvb's Kconfig engine must write the same .config as Linux's
// own scripts/kconfig/conf on Linux 6.1's tree (x86_64), line for line apart
// from the header comments. The tree and conf come from prepare-linux.sh
// (Debian's linux-source-6.1, extracted and built once into the cache).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKconfig } from '../../src/cli/kconfig.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
let tree = '';
let work = '';
let env: Record<string, string> = {};
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

function linuxEnv(srctree: string): Record<string, string> {
  const mk = readFileSync(path.join(srctree, 'Makefile'), 'utf8');
  const v = (k: string): string => new RegExp(`^${k} = ?(.*)$`, 'm').exec(mk)?.[1]?.trim() ?? '';
  const kernelversion = `${v('VERSION')}.${v('PATCHLEVEL')}.${v('SUBLEVEL')}${v('EXTRAVERSION')}`;
  const ccVersion = execFileSync('sh', ['-c', 'LC_ALL=C gcc --version 2>/dev/null | head -n 1'], {
    encoding: 'utf8',
  }).trim();
  return {
    srctree,
    SRCARCH: 'x86',
    ARCH: 'x86_64',
    CC: 'gcc',
    LD: 'ld',
    HOSTCC: 'gcc',
    HOSTCXX: 'g++',
    RUSTC: 'rustc',
    BINDGEN: 'bindgen',
    PAHOLE: 'pahole',
    KERNELVERSION: kernelversion,
    CC_VERSION_TEXT: ccVersion,
  };
}

/** Runs Linux's conf in the work directory; returns the .config it wrote. */
function conf(args: string[], extraEnv: Record<string, string> = {}, name = 'linux.config'): string {
  const out = path.join(work, name);
  execFileSync(path.join(tree, 'scripts/kconfig/conf'), ['-s', ...args, 'Kconfig'], {
    cwd: work,
    env: { ...process.env, ...env, KCONFIG_CONFIG: out, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120_000,
  });
  return readFileSync(out, 'latin1');
}

/** Runs `osvb kconfig` (in-process) with the same environment; returns what it wrote. */
async function osvb(target: string, opts: { config?: string; defconfig?: string } = {}, extraEnv = {}) {
  const out = path.join(work, `osvb.${target}`);
  process.env = { ...savedEnv, ...env, ...extraEnv };
  process.chdir(work);
  const status = await runKconfig(target, {
    srctree: tree,
    out,
    shellCache: path.join(work, 'shell-cache.json'),
    silent: true,
    ...opts,
  });
  expect(status).toBe(0);
  return readFileSync(out, 'latin1');
}

function body(config: string): string[] {
  const lines = config.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('#') && lines[i] !== '') i++;
  return lines.slice(i);
}

/** Equal apart from the leading header comment; on mismatch, shows the first differences. */
function expectSameConfig(ours: string, linux: string): void {
  const a = body(ours);
  const b = body(linux);
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && diffs.length < 10; i++) {
    if (a[i] !== b[i]) diffs.push(`line ${i}: osvb ${JSON.stringify(a[i])} / conf ${JSON.stringify(b[i])}`);
  }
  expect(diffs).toEqual([]);
  expect(a.length).toBe(b.length);
}

beforeAll(() => {
  tree = execFileSync(path.join(HERE, 'prepare-linux.sh'), { encoding: 'utf8', timeout: 600_000 }).trim();
  work = mkdtempSync(path.join(tmpdir(), 'osvb-conformance-'));
  env = linuxEnv(tree);
}, 900_000);

afterAll(() => {
  process.env = savedEnv;
  process.chdir(savedCwd);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Linux 6.1 x86_64: osvb kconfig writes the same .config as conf', () => {
  it('defconfig (x86_64_defconfig)', async () => {
    const linux = conf(['--defconfig=arch/x86/configs/x86_64_defconfig']);
    const ours = await osvb('defconfig', { defconfig: 'arch/x86/configs/x86_64_defconfig' });
    expect(linux.split('\n').length).toBeGreaterThan(4000);
    expectSameConfig(ours, linux);
  });

  it('savedefconfig and olddefconfig from that .config', async () => {
    const dot = conf(['--defconfig=arch/x86/configs/x86_64_defconfig'], {}, 'base.config');
    const basePath = path.join(work, 'base.config');
    execFileSync(
      path.join(tree, 'scripts/kconfig/conf'),
      ['-s', '--savedefconfig=linux.defconfig', 'Kconfig'],
      {
        cwd: work,
        env: { ...process.env, ...env, KCONFIG_CONFIG: basePath },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const linuxMin = readFileSync(path.join(work, 'linux.defconfig'), 'latin1');
    const oursMin = await osvb('savedefconfig', { config: basePath });
    expect(oursMin).toBe(linuxMin);
    // A .config edited by hand: olddefconfig must settle it the same way.
    const edited = `${dot.replace('CONFIG_SMP=y', '# CONFIG_SMP is not set')}CONFIG_NR_CPUS=100000\n`;
    writeFileSync(basePath, edited);
    const ours = await osvb('olddefconfig', { config: basePath });
    writeFileSync(basePath, edited);
    const linux = conf(['--olddefconfig'], { KCONFIG_CONFIG: basePath }, 'base.config');
    expectSameConfig(ours, linux);
  });

  for (const target of ['allnoconfig', 'allyesconfig', 'allmodconfig', 'alldefconfig']) {
    it(target, async () => {
      const linux = conf([`--${target}`]);
      const ours = await osvb(target);
      expectSameConfig(ours, linux);
    });
  }

  it('tinyconfig (allnoconfig + tiny-base.config, tiny.config fragments, olddefconfig)', async () => {
    // What Linux's Makefile does for `make tinyconfig`.
    conf(
      ['--allnoconfig'],
      { KCONFIG_ALLCONFIG: path.join(tree, 'kernel/configs/tiny-base.config') },
      'tiny.config',
    );
    const cfg = path.join(work, 'tiny.config');
    execFileSync(
      'bash',
      [
        path.join(tree, 'scripts/kconfig/merge_config.sh'),
        '-m',
        cfg,
        'kernel/configs/tiny.config',
        'arch/x86/configs/tiny.config',
      ],
      {
        cwd: tree,
        env: { ...process.env, ...env, KCONFIG_CONFIG: cfg },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const linux = conf(['--olddefconfig'], { KCONFIG_CONFIG: cfg }, 'tiny.config');
    const ours = await osvb('tinyconfig', { config: path.join(work, 'osvb-tiny.config') });
    expectSameConfig(ours, linux);
  });
});
