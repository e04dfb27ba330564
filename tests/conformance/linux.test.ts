// Conformance: osvb's Kconfig engine must write the same .config as Linux's
// own scripts/kconfig/conf on Linux 6.1's tree (x86_64), line for line apart
// from the header comments. The tree and conf come from prepare-linux.sh
// (Debian's linux-source-6.1, extracted and built once into the cache).
// conf runs two at a time in the background while osvb works, to keep the
// file within a few minutes on a 2-core machine.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKconfig } from '../../src/cli/kconfig.js';

const run = promisify(execFile);
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

// ---- Linux's side: conf jobs, at most two at a time ----

let slots = 2;
const queue: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => queue.push(r));
  slots--;
  try {
    return await fn();
  } finally {
    slots++;
    queue.shift()?.();
  }
}

/** Runs conf in the work directory with `config` as KCONFIG_CONFIG; returns what it wrote. */
function conf(args: string[], config: string, extraEnv: Record<string, string> = {}): Promise<string> {
  return limited(async () => {
    const out = path.join(work, config);
    await run(path.join(tree, 'scripts/kconfig/conf'), ['-s', ...args, 'Kconfig'], {
      cwd: work,
      env: { ...savedEnv, ...env, KCONFIG_CONFIG: out, ...extraEnv },
      timeout: 300_000,
    });
    return readFileSync(out, 'latin1');
  });
}

const EDIT = (dot: string): string =>
  `${dot.replace('CONFIG_SMP=y', '# CONFIG_SMP is not set')}CONFIG_NR_CPUS=100000\n`;

/** Every Linux result the tests compare with, started in beforeAll. */
let linux: Record<string, Promise<string>> = {};

function startLinuxJobs(): void {
  const defconfig = conf(['--defconfig=arch/x86/configs/x86_64_defconfig'], 'linux.defconfig.config');
  const fromDefconfig = defconfig.then(async (dot) => {
    writeFileSync(path.join(work, 'base.config'), dot);
    await limited(() =>
      run(path.join(tree, 'scripts/kconfig/conf'), ['-s', '--savedefconfig=linux.defconfig', 'Kconfig'], {
        cwd: work,
        env: { ...savedEnv, ...env, KCONFIG_CONFIG: path.join(work, 'base.config') },
      }),
    );
    writeFileSync(path.join(work, 'edited.config'), EDIT(dot));
    return readFileSync(path.join(work, 'linux.defconfig'), 'latin1');
  });
  const tiny = (async () => {
    // What Linux's Makefile does for `make tinyconfig`.
    const allnoBase = { KCONFIG_ALLCONFIG: path.join(tree, 'kernel/configs/tiny-base.config') };
    await conf(['--allnoconfig'], 'tiny.config', allnoBase);
    const cfg = path.join(work, 'tiny.config');
    await run(
      'bash',
      [
        path.join(tree, 'scripts/kconfig/merge_config.sh'),
        '-m',
        cfg,
        'kernel/configs/tiny.config',
        'arch/x86/configs/tiny.config',
      ],
      { cwd: tree, env: { ...savedEnv, ...env, KCONFIG_CONFIG: cfg } },
    );
    return conf(['--olddefconfig'], 'tiny.config');
  })();
  linux = {
    defconfig,
    savedefconfig: fromDefconfig,
    olddefconfig: fromDefconfig.then(() => conf(['--olddefconfig'], 'edited.config')),
    allnoconfig: conf(['--allnoconfig'], 'linux.allno.config'),
    allyesconfig: conf(['--allyesconfig'], 'linux.allyes.config'),
    allmodconfig: conf(['--allmodconfig'], 'linux.allmod.config'),
    alldefconfig: conf(['--alldefconfig'], 'linux.alldef.config'),
    tinyconfig: tiny,
  };
  // Failures surface in the test that awaits them.
  for (const p of Object.values(linux)) p.catch(() => {});
}

// ---- osvb's side ----

/** Runs `osvb kconfig` (in-process) with the same environment; returns what it wrote. */
async function osvb(target: string, opts: { config?: string; defconfig?: string } = {}) {
  const out = path.join(work, `osvb.${target}`);
  process.env = { ...savedEnv, ...env };
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
function expectSameConfig(ours: string, theirs: string): void {
  const a = body(ours);
  const b = body(theirs);
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
  startLinuxJobs();
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(Object.values(linux));
  process.env = savedEnv;
  process.chdir(savedCwd);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Linux 6.1 x86_64: osvb kconfig writes the same .config as conf', () => {
  it('defconfig (x86_64_defconfig)', async () => {
    const ours = await osvb('defconfig', { defconfig: 'arch/x86/configs/x86_64_defconfig' });
    const theirs = await linux.defconfig!;
    expect(theirs.split('\n').length).toBeGreaterThan(4000);
    expectSameConfig(ours, theirs);
  });

  it('savedefconfig from that .config', async () => {
    const theirs = await linux.savedefconfig!;
    expect(await osvb('savedefconfig', { config: path.join(work, 'base.config') })).toBe(theirs);
  });

  it('olddefconfig on a hand-edited .config', async () => {
    await linux.savedefconfig;
    const edited = path.join(work, 'osvb-edited.config');
    writeFileSync(edited, EDIT(readFileSync(path.join(work, 'base.config'), 'latin1')));
    expectSameConfig(await osvb('olddefconfig', { config: edited }), await linux.olddefconfig!);
  });

  for (const target of ['allnoconfig', 'allyesconfig', 'allmodconfig', 'alldefconfig']) {
    it(target, async () => {
      expectSameConfig(await osvb(target), await linux[target]!);
    });
  }

  it('tinyconfig (allnoconfig + tiny-base.config, tiny.config fragments, olddefconfig)', async () => {
    const ours = await osvb('tinyconfig', { config: path.join(work, 'osvb-tiny.config') });
    expectSameConfig(ours, await linux.tinyconfig!);
  });
});
