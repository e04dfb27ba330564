import { describe, expect, it } from 'vitest';
import { mergeConfigs } from '../../src/config/kconfig/index.js';
import { load } from './helpers.js';

const TREE = `mainmenu "Writers test"
config MODULES
	bool "modules"
	default y
	modules
menu "Drivers"
config BUS
	bool "bus"
	default y
comment "Bus drivers"
	depends on BUS
config DRV
	tristate "drv"
	depends on BUS
	default m
config OFF
	bool "off"
menu "Hidden menu"
	depends on OFF
config INSIDE
	bool "inside"
endmenu
endmenu
config N
	int "n"
	default 42
config H
	hex "h"
	default 1f
config S
	string "s"
	default "say \\"hi\\" \\\\o/"
config NOPROMPT
	bool
	default y
config SILENT
	bool
`;

describe('writers', () => {
  it('.config: menus, comments, end-of markers, n as "is not set", invisible n symbols left out', async () => {
    const { kc } = await load(TREE);
    const r = kc.resolve({ target: 'olddefconfig' });
    expect(r.dotconfig()).toBe(`#
# Automatically generated file; DO NOT EDIT.
# Writers test
#
CONFIG_MODULES=y

#
# Drivers
#
CONFIG_BUS=y

#
# Bus drivers
#
CONFIG_DRV=m
# CONFIG_OFF is not set
# end of Drivers

CONFIG_N=42
CONFIG_H=1f
CONFIG_S="say \\"hi\\" \\\\o/"
CONFIG_NOPROMPT=y
`);
  });

  it('autoconf.h: 1 / _MODULE / 0x-prefixed hex / escaped strings, nothing for n', async () => {
    const { kc } = await load(TREE);
    const h = kc.resolve({ target: 'olddefconfig' }).autoconfH();
    expect(h.startsWith('/*\n * Automatically generated file; DO NOT EDIT.\n * Writers test\n */\n')).toBe(
      true,
    );
    const defines = h
      .split('\n')
      .filter((l) => l.startsWith('#define'))
      .sort();
    expect(defines).toEqual([
      '#define CONFIG_BUS 1',
      '#define CONFIG_DRV_MODULE 1',
      '#define CONFIG_H 0x1f',
      '#define CONFIG_MODULES 1',
      '#define CONFIG_N 42',
      '#define CONFIG_NOPROMPT 1',
      '#define CONFIG_S "say \\"hi\\" \\\\o/"',
    ]);
  });

  it('savedefconfig keeps only what differs from the defaults, in menu order', async () => {
    const { kc } = await load(TREE);
    const r = kc.resolve({
      target: 'olddefconfig',
      base: {
        text: 'CONFIG_DRV=y\nCONFIG_OFF=y\nCONFIG_INSIDE=y\nCONFIG_N=42\nCONFIG_S="x"\n',
        file: '.config',
      },
    });
    expect(r.savedefconfig()).toBe('CONFIG_DRV=y\nCONFIG_OFF=y\nCONFIG_INSIDE=y\nCONFIG_S="x"\n');
    // Resolving the minimal defconfig gives the same .config back.
    const again = kc.resolve({ target: 'defconfig', base: { text: r.savedefconfig(), file: 'defconfig' } });
    expect(again.dotconfig()).toBe(r.dotconfig());
  });

  it('a symbol defined twice is written once, at its first place', async () => {
    const { kc } = await load('config A\n\tbool "a"\n\tdefault y\nconfig B\n\tbool "b"\nconfig A\n\tbool\n');
    const lines = kc
      .resolve({ target: 'olddefconfig' })
      .dotconfig()
      .split('\n')
      .filter((l) => l.includes('CONFIG_'));
    expect(lines).toEqual(['CONFIG_A=y', '# CONFIG_B is not set']);
  });

  it('the CONFIG_ prefix comes from the environment', async () => {
    const { kc } = await load('config A\n\tbool "a"\n', { env: { CONFIG_: 'OSVB_' } });
    const r = kc.resolve({ target: 'olddefconfig', base: { text: 'OSVB_A=y\n', file: 'c' } });
    expect(r.dotconfig()).toContain('\nOSVB_A=y\n');
    expect(r.autoconfH()).toContain('#define OSVB_A 1\n');
  });

  it('mergeConfigs replaces what a fragment sets and appends the fragment', () => {
    const merged = mergeConfigs(
      { text: 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=3\n', file: '.config' },
      [
        { text: 'CONFIG_B=y\n', file: 'one.config' },
        { text: '# CONFIG_A is not set\n', file: 'two.config' },
      ],
    );
    expect(merged.text).toBe('CONFIG_C=3\n\nCONFIG_B=y\n\n# CONFIG_A is not set\n');
  });
});
