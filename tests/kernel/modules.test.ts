import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BuildError, formatError } from '../../src/errors.js';
import { fixedConfig } from '../../src/kernel/config.js';
import { discoverModules, parseModuleYaml } from '../../src/kernel/modules.js';
import { planBuild } from '../../src/kernel/plan.js';
import { FIXTURE, fixtureConfig, tempDir } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir, 'a.c'), '');
  await writeFile(join(dir, 'b.S'), '');
  await writeFile(join(dir, 'kernel.ld'), '');
});

function parseErr(text: string): string {
  try {
    parseModuleYaml(text, 'modules/x/module.yaml', dir, 'x');
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    return formatError(err as BuildError);
  }
  throw new Error('expected a BuildError');
}

describe('module.yaml schema', () => {
  it('accepts plain and conditional sources, cflags and a linker script', () => {
    const m = parseModuleYaml(
      'enabled-by: FOO\nsources:\n  - a.c\n  - { file: b.S, if: "!BAR" }\ncflags: [-DX=1]\nlinker-script: kernel.ld\n',
      'm.yaml',
      dir,
      'x',
    );
    expect(m.enabledBy).toBe('FOO');
    expect(m.sources.map((s) => s.file)).toEqual(['a.c', 'b.S']);
    expect(m.sources[1]?.if).toEqual({ symbol: 'BAR', negate: true });
    expect(m.cflags).toEqual(['-DX=1']);
    expect(m.linkerScript).toBe(join(dir, 'kernel.ld'));
  });

  it('rejects an unknown key with a did-you-mean at its line', () => {
    expect(parseErr('enabled-by: FOO\nsources: [a.c]\ncflag: []\n')).toBe(
      'osvb: modules/x/module.yaml:3:1: unknown key "cflag" in module.yaml; did you mean "cflags"?',
    );
  });

  it('rejects an unknown key in a source entry', () => {
    expect(parseErr('enabled-by: FOO\nsources:\n  - { file: a.c, when: BAR }\n')).toBe(
      'osvb: modules/x/module.yaml:3:18: unknown key "when" in a sources entry; allowed keys: file, if, platform',
    );
  });

  it('takes a platform for the module or one source, and only a known one', () => {
    const m = parseModuleYaml(
      'enabled-by: FOO\nplatform: xen\nsources:\n  - { file: a.c, platform: kvm }\n',
      'modules/x/module.yaml',
      dir,
      'x',
    );
    expect(m.platform).toBe('xen');
    expect(m.sources[0]?.platform).toBe('kvm');
    expect(parseErr('enabled-by: FOO\nplatform: bhyve\nsources: []\n')).toBe(
      'osvb: modules/x/module.yaml:2:11: platform "bhyve" is not one of kvm, xen, hyperv, vmware; a new platform needs its sections in modules/arch/kernel.ld and its signature in modules/hypervisor',
    );
  });

  it('requires enabled-by and sources', () => {
    expect(parseErr('sources: [a.c]\n')).toMatch(/module\.yaml:1:1: module\.yaml needs "enabled-by: SYMBOL"/);
    expect(parseErr('enabled-by: FOO\n')).toMatch(/module\.yaml:1:1: module\.yaml needs a "sources" list/);
  });

  it('rejects CONFIG_-prefixed and malformed symbols', () => {
    expect(parseErr('enabled-by: CONFIG_FOO\nsources: []\n')).toMatch(
      /:1:13: enabled-by "CONFIG_FOO" must not/,
    );
    expect(parseErr('enabled-by: foo-bar\nsources: []\n')).toMatch(
      /:1:13: enabled-by "foo-bar" is not a Kconfig symbol/,
    );
    expect(parseErr('enabled-by: FOO\nsources:\n  - { file: a.c, if: "A && B" }\n')).toMatch(
      /:3:22: if: "A && B" is not a Kconfig symbol name/,
    );
  });

  it('names a missing source file at its line', () => {
    expect(parseErr('enabled-by: FOO\nsources:\n  - a.c\n  - missing.c\n')).toMatch(
      /module\.yaml:4:5: source "missing\.c" does not exist/,
    );
  });

  it('rejects sources outside the module, other languages and duplicates', () => {
    expect(parseErr('enabled-by: FOO\nsources: [../a.c]\n')).toMatch(
      /:2:11: source "\.\.\/a\.c" must be a path inside/,
    );
    expect(parseErr('enabled-by: FOO\nsources: [a.cc]\n')).toMatch(
      /:2:11: source "a\.cc" must be a \.c or \.S file/,
    );
    expect(parseErr('enabled-by: FOO\nsources: [a.c, a.c]\n')).toMatch(
      /:2:16: source "a\.c" listed twice \(first at line 2\)/,
    );
  });

  it('rejects wrong shapes', () => {
    expect(parseErr('- a\n')).toMatch(/:1:1: module\.yaml must be a mapping/);
    expect(parseErr('enabled-by: FOO\nsources: a.c\n')).toMatch(/:2:10: sources must be a list/);
    expect(parseErr('enabled-by: FOO\nsources: []\ncflags: [O2]\n')).toMatch(
      /:3:10: cflags entry "O2" is not a flag/,
    );
    expect(parseErr('enabled-by: [FOO]\nsources: []\n')).toMatch(
      /:1:13: enabled-by must be a non-empty string/,
    );
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(parseErr('enabled-by: FOO\nsources: [a.c\n')).toMatch(/module\.yaml:\d+:\d+: /);
    expect(parseErr('enabled-by: FOO\nenabled-by: BAR\nsources: []\n')).toMatch(/module\.yaml:2:1: /);
  });
});

describe('discovery and planning', () => {
  it('finds the fixture modules in name order', async () => {
    const mods = await discoverModules(FIXTURE);
    expect(mods.map((m) => [m.name, m.enabledBy])).toEqual([
      ['arch', 'FIX_ARCH'],
      ['fixture', 'FIX_MAIN'],
    ]);
  });

  it('plans only enabled modules and the sources whose condition holds', async () => {
    const mods = await discoverModules(FIXTURE);
    const plan = planBuild(FIXTURE, mods, fixtureConfig({ FIX_BANNER: 'n' }));
    expect(plan.units.map((u) => u.display)).toEqual([
      'modules/arch/head.S',
      'modules/arch/io.c',
      'modules/fixture/main.c',
      'modules/fixture/status.c',
    ]);
    expect(plan.units[0]?.lang).toBe('asm');
    expect(plan.linkerScript).toBe(join(FIXTURE, 'modules/arch/kernel.ld'));
    expect(plan.includeDirs).toEqual([
      join(FIXTURE, 'modules/arch/include'),
      join(FIXTURE, 'modules/fixture/include'),
    ]);
    expect(plan.configHeader).toContain('#define CONFIG_FIX_STATUS 0\n');
    expect(plan.configHeader).toContain('#define CONFIG_FIX_BANNER_TEXT "hello from the fixture kernel"\n');
  });

  it('needs exactly one enabled module with a linker script', async () => {
    const mods = await discoverModules(FIXTURE);
    expect(() => planBuild(FIXTURE, mods, fixedConfig({ FIX_MAIN: 'y' }))).toThrow(
      /no enabled module provides a linker script/,
    );
    expect(() => planBuild(FIXTURE, mods, fixedConfig({}))).toThrow(
      /the configuration enables no kernel module/,
    );
  });

  it('names module.yaml when a module in the tree is malformed', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'modules/bad'), { recursive: true });
    await writeFile(join(root, 'modules/bad/module.yaml'), 'enabled-by: BAD\nsource: []\n');
    await expect(discoverModules(root)).rejects.toThrow(/unknown key "source" in module\.yaml/);
    await expect(discoverModules(root)).rejects.toMatchObject({
      loc: { file: join(root, 'modules/bad/module.yaml'), line: 2, column: 1 },
    });
  });
});

describe('conditional sources', () => {
  it('a missing conditional source is an error only when its symbol selects it', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'modules/m'), { recursive: true });
    await writeFile(join(root, 'modules/m/a.c'), '');
    await writeFile(join(root, 'modules/m/kernel.ld'), '');
    await writeFile(
      join(root, 'modules/m/module.yaml'),
      'enabled-by: M\nsources:\n  - a.c\n  - { file: later.c, if: LATER }\nlinker-script: kernel.ld\n',
    );
    const mods = await discoverModules(root);
    expect(planBuild(root, mods, fixedConfig({ M: 'y' })).units.map((u) => u.display)).toEqual([
      'modules/m/a.c',
    ]);
    expect(() => planBuild(root, mods, fixedConfig({ M: 'y', LATER: 'y' }))).toThrow(
      'source "later.c" does not exist (needed because LATER)',
    );
    try {
      planBuild(root, mods, fixedConfig({ M: 'y', LATER: 'y' }));
    } catch (err) {
      expect((err as BuildError).loc).toMatchObject({ line: 4, column: 13 });
    }
  });
});
