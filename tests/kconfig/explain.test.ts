import { describe, expect, it } from 'vitest';
import { load } from './helpers.js';

const TREE = `
config MODULES
	bool "modules"
	default y
	modules
config PCI
	bool "PCI support"
config X86
	def_bool y
config NET_DRV
	tristate "net driver"
	depends on PCI && X86
	help
	  A driver.
config LIB
	tristate
config USER
	tristate "library user"
	select LIB
config HINT
	bool "hint"
	default y
	imply OPTIONAL_THING
config OPTIONAL_THING
	bool "optional thing"
config N
	int "n"
	default 4 if PCI
	default 8
choice
	prompt "Flavour"
config SWEET
	bool "sweet"
config SOUR
	bool "sour"
endchoice
`;

async function resolve(base: string, target: 'olddefconfig' | 'defconfig' = 'olddefconfig') {
  const { kc } = await load(TREE);
  return kc.resolve({ target, base: { text: base, file: 'app.defconfig' } });
}

describe('explain', () => {
  it('n because of a failed dependency, with the values', async () => {
    const r = await resolve('# CONFIG_PCI is not set\nCONFIG_NET_DRV=y\n');
    const e = r.explain('NET_DRV');
    expect(e.value).toBe('n');
    expect(e.type).toBe('tristate');
    expect(e.prompt).toBe('net driver');
    expect(e.definedAt).toEqual([{ file: 'Kconfig', line: 10 }]);
    expect(e.dependsOn).toEqual({ expr: 'PCI && X86', value: 'n' });
    expect(e.reason).toBe('n because it depends on PCI (=n)');
    expect(e.text()).toContain('Depends on: PCI (=n) && X86 (=y) => n');
    expect(e.text()).toContain('\nHelp:\n  A driver.\n');
  });

  it('set by user, with the file and line', async () => {
    const r = await resolve('CONFIG_PCI=y\nCONFIG_NET_DRV=m\n');
    expect(r.explain('NET_DRV').reason).toBe('m: set by user in app.defconfig:2');
  });

  it('selected by another symbol', async () => {
    const r = await resolve('CONFIG_USER=m\n');
    const e = r.explain('LIB');
    expect(e.reason).toBe('m because selected by USER (=m)');
    expect(e.selectedBy).toEqual([{ expr: 'USER', value: 'm' }]);
  });

  it('implied by another symbol', async () => {
    const r = await resolve('');
    const e = r.explain('OPTIONAL_THING');
    expect(e.reason).toBe('y because implied by HINT (=y)');
    expect(e.impliedBy).toEqual([{ expr: 'HINT', value: 'y' }]);
  });

  it('defaults, with their conditions', async () => {
    expect((await resolve('CONFIG_PCI=y\n')).explain('N').reason).toBe('4: default 4 if PCI (=y)');
    expect((await resolve('')).explain('N').reason).toBe('8: default 8');
    expect((await resolve('')).explain('PCI').reason).toBe('n: no default applies and nothing selects it');
  });

  it('choices', async () => {
    expect((await resolve('')).explain('SWEET').reason).toBe(
      'y: the default of choice "Flavour" (no other value was chosen)',
    );
    expect((await resolve('CONFIG_SOUR=y\n')).explain('SWEET').reason).toBe(
      'n because SOUR is chosen in "Flavour"',
    );
  });

  it('target answers', async () => {
    const { kc } = await load(TREE);
    expect(kc.resolve({ target: 'allnoconfig' }).explain('PCI').reason).toBe('n: the allnoconfig answer');
  });

  it('unknown symbols are an error with a suggestion', async () => {
    const r = await resolve('');
    expect(() => r.explain('PCII')).toThrow(/unknown symbol PCII/);
    try {
      r.explain('pci');
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe('did you mean PCI?');
    }
  });

  it('unmet: requests that did not take, with the reason and where they came from', async () => {
    const r = await resolve(
      'CONFIG_NET_DRV=y\n# CONFIG_LIB is not set\nCONFIG_USER=y\nCONFIG_NOPE=y\nCONFIG_PCI=y\n',
      'defconfig',
    );
    expect(r.unmet()).toEqual([
      {
        symbol: 'LIB',
        requested: 'n',
        got: 'y',
        reason: 'selected by USER (=y)',
        loc: { file: 'app.defconfig', line: 2 },
      },
      {
        symbol: 'NOPE',
        requested: 'y',
        got: '(undefined)',
        reason: 'no such symbol in this Kconfig tree',
        loc: { file: 'app.defconfig', line: 4 },
      },
    ]);
    const r2 = await resolve('# CONFIG_PCI is not set\nCONFIG_NET_DRV=y\n', 'defconfig');
    expect(r2.unmet()).toEqual([
      {
        symbol: 'NET_DRV',
        requested: 'y',
        got: 'n',
        reason: 'it depends on PCI (=n)',
        loc: { file: 'app.defconfig', line: 2 },
      },
    ]);
  });
});
