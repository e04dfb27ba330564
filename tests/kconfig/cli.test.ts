// `osvb kconfig`: targets, environment variables, atomic output, errors.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { makeTree } from './helpers.js';

const TREE = {
  Kconfig: `mainmenu "CLI test"
config MODULES
	bool "modules"
	default y
	modules
config A
	bool "a"
config B
	tristate "b"
	depends on A
config C
	bool "c"
	default y
source "arch/$(SRCARCH)/Kconfig"
`,
  'arch/toy/Kconfig': 'config TOY\n\tdef_bool y\n',
  'arch/toy/configs/toy_defconfig': 'CONFIG_A=y\nCONFIG_B=m\n',
  'arch/toy/configs/tiny.config': '# CONFIG_C is not set\n',
};

let dir = '';
let stderr = '';
let stdout = '';
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

beforeEach(() => {
  dir = makeTree(TREE);
  process.chdir(dir);
  process.env = { PATH: savedEnv.PATH, SRCARCH: 'toy', ARCH: 'toy' };
  stderr = '';
  stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  process.exitCode = undefined;
});

afterEach(() => {
  vi.restoreAllMocks();
  process.chdir(savedCwd);
  process.env = savedEnv;
  process.exitCode = undefined;
});

const run = (...args: string[]) => main(['node', 'osvb', 'kconfig', ...args]);

describe('osvb kconfig', () => {
  it('defconfig: arch/$SRCARCH/configs/$ARCH_defconfig by default, writes ./.config', async () => {
    expect(await run('defconfig')).toBe(0);
    const cfg = readFileSync(path.join(dir, '.config'), 'utf8');
    expect(cfg).toContain('\nCONFIG_A=y\nCONFIG_B=m\nCONFIG_C=y\nCONFIG_TOY=y\n');
    // No temporary files are left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('olddefconfig reads KCONFIG_CONFIG and writes it back; --autoconf writes the header', async () => {
    writeFileSync(path.join(dir, 'my.config'), 'CONFIG_A=y\n');
    process.env.KCONFIG_CONFIG = 'my.config';
    expect(await run('olddefconfig', '--autoconf', 'include/autoconf.h')).toBe(0);
    expect(readFileSync(path.join(dir, 'my.config'), 'utf8')).toContain(
      '\nCONFIG_A=y\n# CONFIG_B is not set\n',
    );
    expect(readFileSync(path.join(dir, 'include/autoconf.h'), 'utf8')).toContain('#define CONFIG_A 1\n');
  });

  it('savedefconfig writes ./defconfig', async () => {
    writeFileSync(path.join(dir, '.config'), 'CONFIG_A=y\nCONFIG_B=y\n');
    expect(await run('savedefconfig')).toBe(0);
    expect(readFileSync(path.join(dir, 'defconfig'), 'utf8')).toBe('CONFIG_A=y\nCONFIG_B=y\n');
  });

  it('allyesconfig honours KCONFIG_ALLCONFIG', async () => {
    writeFileSync(path.join(dir, 'keep.config'), '# CONFIG_C is not set\n');
    process.env.KCONFIG_ALLCONFIG = 'keep.config';
    expect(await run('allyesconfig', '--out', 'out/all.config')).toBe(0);
    const cfg = readFileSync(path.join(dir, 'out/all.config'), 'utf8');
    expect(cfg).toContain('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n');
  });

  it('tinyconfig: allnoconfig plus the tiny.config fragments', async () => {
    expect(await run('tinyconfig')).toBe(0);
    expect(readFileSync(path.join(dir, '.config'), 'utf8')).toContain(
      '# CONFIG_A is not set\n# CONFIG_C is not set\n',
    );
  });

  it('prints requests that did not take, with the reason', async () => {
    writeFileSync(path.join(dir, 'd.config'), '# CONFIG_A is not set\nCONFIG_B=y\n');
    expect(await run('defconfig', '--defconfig', 'd.config')).toBe(0);
    expect(stderr).toContain('osvb: warning: d.config:2: B=y requested, got n: it depends on A (=n)\n');
  });

  it('--json prints a summary', async () => {
    writeFileSync(path.join(dir, 'd.config'), 'CONFIG_NOPE=y\n');
    expect(await run('defconfig', '--defconfig', 'd.config', '--json')).toBe(0);
    const summary = JSON.parse(stdout) as { target: string; unmet: { symbol: string }[] };
    expect(summary.target).toBe('defconfig');
    expect(summary.unmet.map((u) => u.symbol)).toEqual(['NOPE']);
  });

  it('an unknown target is a usage error (exit 2)', async () => {
    expect(await run('menuconfig')).toBe(2);
    expect(stderr).toMatch(/^osvb: unknown target 'menuconfig'; use one of: olddefconfig, /);
  });

  it('a bad defconfig line fails with file:line:col and writes nothing', async () => {
    writeFileSync(path.join(dir, '.config'), 'CONFIG_A=y\n');
    writeFileSync(path.join(dir, 'bad.defconfig'), 'CONFIG_A=y\nCONFIG_C=maybe\n');
    const before = readFileSync(path.join(dir, '.config'), 'utf8');
    expect(await run('defconfig', '--defconfig', 'bad.defconfig', '--autoconf', 'autoconf.h')).toBe(1);
    expect(stderr).toContain(
      "osvb: bad.defconfig:2:10: symbol value 'maybe' invalid for C; C is a bool: use y or n\n",
    );
    expect(readFileSync(path.join(dir, '.config'), 'utf8')).toBe(before);
    expect(existsSync(path.join(dir, 'autoconf.h'))).toBe(false);
  });

  it('a bad value in a .config is a warning, like Linux', async () => {
    writeFileSync(path.join(dir, '.config'), 'CONFIG_A=y\nCONFIG_C=maybe\n');
    expect(await run('olddefconfig', '--verbose')).toBe(0);
    expect(stderr).toContain("osvb: .config:2: warning: symbol value 'maybe' invalid for C\n");
    expect(stderr).toContain(
      "osvb: warning: .config:2: C=maybe requested, got y: 'maybe' is not a valid bool value, so it was ignored\n",
    );
  });

  it('a Kconfig syntax error fails with file:line:col', async () => {
    writeFileSync(path.join(dir, 'arch/toy/Kconfig'), 'config TOY\n\tdef_bool y\n\tdepends (\n');
    expect(await run('defconfig')).toBe(1);
    expect(stderr).toContain(
      "osvb: arch/toy/Kconfig:3:10: syntax error: expected 'on' after 'depends', got '('\n",
    );
    expect(existsSync(path.join(dir, '.config'))).toBe(false);
  });

  it('a missing defconfig is named', async () => {
    expect(await run('defconfig', '--defconfig', 'nope.config')).toBe(1);
    expect(stderr).toContain('osvb: nope.config: defconfig file nope.config not found\n');
  });
});
