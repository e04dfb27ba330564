import { describe, expect, it } from 'vitest';
import { load, symbolLines } from './helpers.js';

describe('parser: every construct', () => {
  it('config, menuconfig, types, prompts, defaults, help, comments, menus', async () => {
    const { kc, diags } = await load(`
mainmenu "Test tree"

config B
	bool "a bool" if T
	default y
	help
	  Help text, indented.
	    More indented.

	  After a blank line.

config T
	def_bool y

config TRI
	def_tristate m if B
	prompt "tri"

menuconfig MC
	bool "menuconfig"
	default y

if MC
config UNDER_MC
	int "int under menuconfig"
	default 3
	range 1 5 if B
	range 10 20
endif

config H
	hex
	prompt "hex"
	default 0xff

config S
	string "string" # trailing comment
	default "x y"

comment "just a comment"
	depends on B

menu "Sub menu"
	depends on B || \\
		T
	visible if T
config IN
	bool "in"
	depends on B
	depends on T
	default B && T
endmenu
`);
    expect(diags.filter((d) => d.level !== 'info')).toEqual([]);
    const r = kc.resolve({ target: 'olddefconfig' });
    expect(r.dotconfig()).toBe(
      [
        '#',
        '# Automatically generated file; DO NOT EDIT.',
        '# Test tree',
        '#',
        'CONFIG_B=y',
        'CONFIG_T=y',
        'CONFIG_TRI=y',
        'CONFIG_MC=y',
        'CONFIG_UNDER_MC=3',
        'CONFIG_H=0xff',
        'CONFIG_S="x y"',
        '',
        '#',
        '# just a comment',
        '#',
        '',
        '#',
        '# Sub menu',
        '#',
        'CONFIG_IN=y',
        '# end of Sub menu',
        '',
      ].join('\n'),
    );
    expect(kc.symbolNames().sort()).toEqual(['B', 'H', 'IN', 'MC', 'S', 'T', 'TRI', 'UNDER_MC']);
    const e = r.explain('B');
    expect(e.prompt).toBe('a bool');
    expect(e.definedAt).toEqual([expect.objectContaining({ line: 4 })]);
  });

  it('help text ends at the first line indented less', async () => {
    const { kc } = await load(
      'config A\n\tbool "a"\n\thelp\n\t  line one\n\n\t    two\nconfig B\n\tbool "b"\n\tdefault y\n',
    );
    expect(kc.resolve({ target: 'olddefconfig' }).get('B')).toBe('y');
  });

  it('choice: named, optional, tristate, default with condition, if inside a choice', async () => {
    const { kc, diags } = await load(`
config MODULES
	def_bool y
	modules
config X
	bool "x"
choice CH
	prompt "choice" if y
	default C2 if X
	default C1
config C1
	bool "one"
if X
config C2
	bool "two"
endif
comment "inside"
endchoice
`);
    expect(diags.filter((d) => d.level === 'warning')).toEqual([]);
    const r = kc.resolve({ target: 'olddefconfig', base: { text: 'CONFIG_X=y\n', file: 'c' } });
    expect(symbolLines(r.dotconfig())).toEqual([
      'CONFIG_MODULES=y',
      'CONFIG_X=y',
      '# CONFIG_C1 is not set',
      'CONFIG_C2=y',
    ]);
  });

  it('select/imply with conditions, transitional symbols', async () => {
    const { kc } = await load(`
config OLD_NAME
	bool
	transitional
config NEW_NAME
	bool "new"
	default OLD_NAME
config S
	bool "s"
	default y
	select T1 if NEW_NAME
	imply T2 if !NEW_NAME
config T1
	bool
config T2
	bool "t2"
`);
    const r = kc.resolve({ target: 'olddefconfig', base: { text: 'CONFIG_OLD_NAME=y\n', file: 'old' } });
    expect(r.get('NEW_NAME')).toBe('y');
    expect(r.get('T1')).toBe('y');
    expect(r.get('T2')).toBe('n');
    expect(r.dotconfig()).not.toContain('OLD_NAME');
  });

  it('source, rsource, osource, orsource and globs, with $(VAR) in paths', async () => {
    const { kc } = await load(
      {
        Kconfig: 'source "sub/$(SUBDIR)/Kconfig"\nosource "missing/Kconfig"\nsource "mods/*/Kconfig"\n',
        'sub/real/Kconfig': 'config FROM_SUB\n\tdef_bool y\nrsource "rel.kconfig"\norsource "nope"\n',
        'sub/real/rel.kconfig': 'config FROM_REL\n\tdef_bool y\n',
        'mods/b/Kconfig': 'config MOD_B\n\tdef_bool y\n',
        'mods/a/Kconfig': 'config MOD_A\n\tdef_bool y\n',
      },
      { env: { SUBDIR: 'real' } },
    );
    const r = kc.resolve({ target: 'olddefconfig' });
    expect(symbolLines(r.dotconfig())).toEqual([
      'CONFIG_FROM_SUB=y',
      'CONFIG_FROM_REL=y',
      'CONFIG_MOD_A=y',
      'CONFIG_MOD_B=y',
    ]);
    expect(r.explain('FROM_REL').definedAt[0]).toEqual({ file: 'sub/real/rel.kconfig', line: 1 });
  });

  it('expressions: precedence, negation, comparisons, parentheses, quoted constants', async () => {
    const { kc } = await load(`
config A
	def_bool y
config B
	def_bool n
config C
	def_bool A || B && B
config D
	def_bool !(A || B)
config E
	def_bool !A = B
config F
	def_bool (A || B) && !B
config G
	def_bool A != B && A = y && "y" = A
config N
	int
	default 5
config CMP
	def_bool N >= 5 && N <= 5 && N > 4 && N < 6 && !(N < 5)
`);
    const r = kc.resolve({ target: 'olddefconfig' });
    expect(['C', 'D', 'E', 'F', 'G', 'CMP'].map((s) => r.get(s))).toEqual(['y', 'n', 'y', 'y', 'y', 'y']);
  });

  it('warns about symbols used but never defined (not numbers)', async () => {
    const { diags } = await load('config A\n\tbool "a"\n\tdepends on NOPE || 64\n');
    const w = diags.filter((d) => d.message.includes('never defined'));
    expect(w).toEqual([
      {
        level: 'warning',
        message: 'symbol NOPE is used but never defined',
        loc: expect.objectContaining({ file: 'Kconfig', line: 3, column: 13 }),
      },
    ]);
  });

  it('warns like Linux about suspicious definitions', async () => {
    const { diags } = await load(
      'config A\n\tint "a"\n\tselect B\nconfig B\n\tbool\nconfig C\nchoice\n\tprompt "c"\nconfig D\n\tbool "d"\n\tdefault y\nendchoice\n',
    );
    const msgs = diags.map((d) => `${d.loc?.line}: ${d.message}`);
    expect(msgs).toContain("3: config symbol 'A' uses select, but is not bool or tristate");
    expect(msgs).toContain('6: config symbol defined without type');
    expect(msgs).toContain('11: defaults for choice values not supported');
  });
});
