import { describe, expect, it } from 'vitest';
import { load, resolve, symbolLines } from './helpers.js';

const MODULES = 'config MODULES\n\tbool "modules"\n\tdefault y\n\tmodules\n';

describe('visibility and user values', () => {
  it('a user value is clamped by the prompt visibility', async () => {
    const { r } = await resolve(
      `${MODULES}config A\n\ttristate "A"\n\tdefault m\nconfig B\n\ttristate "B"\n\tdepends on A\n`,
      'CONFIG_A=m\nCONFIG_B=y\n',
    );
    expect(r.get('A')).toBe('m');
    expect(r.get('B')).toBe('m');
  });

  it('an invisible symbol ignores the user value and takes its default', async () => {
    const { r } = await resolve(
      'config A\n\tbool\n\tdefault y\nconfig B\n\tbool "B"\n\tdepends on !A\n',
      'CONFIG_A=n\nCONFIG_B=y\n',
    );
    expect(r.get('A')).toBe('y');
    expect(r.get('B')).toBe('n');
  });

  it('defaults apply in order, the first active one wins', async () => {
    const kc = `config X\n\tbool "X"\nconfig N\n\tint "N"\n\tdefault 1 if X\n\tdefault 2\n`;
    expect((await resolve(kc, 'CONFIG_X=y\n')).r.get('N')).toBe('1');
    expect((await resolve(kc, '# CONFIG_X is not set\n')).r.get('N')).toBe('2');
  });

  it('menu and if-block dependencies reach every child', async () => {
    const kc = `config GATE\n\tbool "gate"\nmenu "M"\n\tdepends on GATE\nconfig IN_MENU\n\tbool "in menu"\n\tdefault y\nendmenu\nif GATE\nconfig IN_IF\n\tbool "in if"\n\tdefault y\nendif\n`;
    const off = (await resolve(kc, '# CONFIG_GATE is not set\n')).r;
    expect(off.get('IN_MENU')).toBe('n');
    expect(off.get('IN_IF')).toBe('n');
    expect(off.dotconfig()).not.toContain('IN_MENU');
    const on = (await resolve(kc, 'CONFIG_GATE=y\n')).r;
    expect(on.get('IN_MENU')).toBe('y');
    expect(on.get('IN_IF')).toBe('y');
  });

  it('visible if hides prompts but keeps defaults', async () => {
    const kc = `menu "Hidden"\n\tvisible if n\nconfig H\n\tbool "h"\n\tdefault y\nconfig H2\n\tbool "h2"\nendmenu\n`;
    const { r } = await resolve(kc, 'CONFIG_H2=y\n# CONFIG_H is not set\n');
    expect(r.get('H')).toBe('y');
    expect(r.get('H2')).toBe('n');
  });
});

describe('select and imply', () => {
  it('select forces a value even against direct dependencies, with a warning', async () => {
    const { r, diags } = await resolve(
      'config DEP\n\tbool "dep"\nconfig T\n\tbool "t"\n\tdepends on DEP\nconfig S\n\tbool "s"\n\tselect T\n',
      'CONFIG_S=y\n# CONFIG_DEP is not set\n',
    );
    expect(r.get('T')).toBe('y');
    const w = diags.find((d) => d.message.includes('unmet direct dependencies'));
    expect(w?.message).toContain('T');
    expect(r.explain('T').reason).toBe('y because selected by S (=y)');
  });

  it('select with an if condition only applies when it holds', async () => {
    const kc = 'config C\n\tbool "c"\nconfig T\n\tbool\nconfig S\n\tbool "s"\n\tdefault y\n\tselect T if C\n';
    expect((await resolve(kc, '# CONFIG_C is not set\n')).r.get('T')).toBe('n');
    expect((await resolve(kc, 'CONFIG_C=y\n')).r.get('T')).toBe('y');
  });

  it('a tristate selected by m is at least m, and can still be y', async () => {
    const kc = `${MODULES}config T\n\ttristate "t"\nconfig S\n\ttristate "s"\n\tselect T\n`;
    expect((await resolve(kc, 'CONFIG_S=m\n# CONFIG_T is not set\n')).r.get('T')).toBe('m');
    expect((await resolve(kc, 'CONFIG_S=m\nCONFIG_T=y\n')).r.get('T')).toBe('y');
  });

  it('imply sets the default but the user can still say n', async () => {
    const kc = 'config T\n\tbool "t"\nconfig S\n\tbool "s"\n\tdefault y\n\timply T\n';
    expect((await resolve(kc, 'CONFIG_S=y\n')).r.get('T')).toBe('y');
    expect((await resolve(kc, 'CONFIG_S=y\n# CONFIG_T is not set\n')).r.get('T')).toBe('n');
  });

  it('imply does not override unmet direct dependencies', async () => {
    const kc =
      'config D\n\tbool "d"\nconfig T\n\tbool "t"\n\tdepends on D\nconfig S\n\tbool "s"\n\tdefault y\n\timply T\n';
    expect((await resolve(kc, '# CONFIG_D is not set\n')).r.get('T')).toBe('n');
  });
});

describe('choices', () => {
  const choice = `choice\n\tprompt "pick"\n\tdefault B\nconfig A\n\tbool "a"\nconfig B\n\tbool "b"\nconfig C\n\tbool "c"\n\tdepends on X\nendchoice\nconfig X\n\tbool "x"\n`;

  it('takes the default, then the user choice', async () => {
    expect((await resolve(choice, '')).r.get('B')).toBe('y');
    const { r } = await resolve(choice, 'CONFIG_A=y\n');
    expect([r.get('A'), r.get('B'), r.get('C')]).toEqual(['y', 'n', 'n']);
  });

  it('an invisible user choice falls back to the default', async () => {
    const { r } = await resolve(choice, 'CONFIG_C=y\n# CONFIG_X is not set\n');
    expect(r.get('C')).toBe('n');
    expect(r.get('B')).toBe('y');
  });

  it('writes every visible value, exactly one y', async () => {
    const { r } = await resolve(choice, 'CONFIG_X=y\nCONFIG_C=y\n');
    expect(symbolLines(r.dotconfig())).toEqual([
      '# CONFIG_A is not set',
      '# CONFIG_B is not set',
      'CONFIG_C=y',
      'CONFIG_X=y',
    ]);
  });

  it('an optional choice can be n', async () => {
    const kc = `choice\n\tprompt "opt"\n\toptional\nconfig A\n\tbool "a"\nendchoice\n`;
    const { r } = await resolve(kc, '# CONFIG_A is not set\n');
    expect(r.get('A')).toBe('n');
  });

  it('a tristate choice in m mode allows several m values', async () => {
    const kc = `${MODULES}choice\n\tprompt "t"\n\ttristate\nconfig A\n\ttristate "a"\nconfig B\n\ttristate "b"\nendchoice\n`;
    const { kc: k } = await load(kc);
    const r = k.resolve({ target: 'allmodconfig' });
    expect([r.get('A'), r.get('B')]).toEqual(['m', 'm']);
    const y = k.resolve({ target: 'allyesconfig' });
    expect([y.get('A'), y.get('B')]).toEqual(['y', 'n']);
  });

  it("an entry whose dependencies include all of the previous value's is nested under it (Linux menu rule)", async () => {
    // Checked against Linux's conf: A2 is not a choice value, so A and A2 are both y.
    const kc =
      'choice\n\tprompt "p"\nconfig A\n\tbool "a"\nconfig A2\n\tbool "a2"\n\tdepends on A || Q\n\tdepends on X\nconfig B\n\tbool "b"\nendchoice\nconfig Q\n\tbool "q"\nconfig X\n\tdef_bool y\n';
    const { r } = await resolve(kc, 'CONFIG_A=y\nCONFIG_A2=y\n');
    expect([r.get('A'), r.get('A2'), r.get('B')]).toEqual(['y', 'y', 'n']);
  });

  it('a symbol right after a choice value that depends on it is not part of the choice', async () => {
    const kc = `choice\n\tprompt "p"\nconfig A\n\tbool "a"\nconfig A_OPT\n\tbool "a option"\n\tdepends on A\n\tdefault y\nconfig B\n\tbool "b"\nendchoice\n`;
    const { r } = await resolve(kc, '');
    expect(r.get('A')).toBe('y');
    expect(r.get('A_OPT')).toBe('y');
    expect(r.get('B')).toBe('n');
  });
});

describe('tristate collapse', () => {
  it('m becomes y for bool symbols', async () => {
    const { r } = await resolve(
      `${MODULES}config T\n\ttristate "t"\n\tdefault m\nconfig B\n\tbool "b"\n\tdefault T\n`,
      '',
    );
    expect(r.get('T')).toBe('m');
    expect(r.get('B')).toBe('y');
  });

  it('m becomes y when MODULES is n, and `depends on m` becomes n', async () => {
    const kc = `${MODULES}config T\n\ttristate "t"\n\tdefault m\nconfig ONLY_M\n\ttristate "only m"\n\tdepends on m\n\tdefault y\n`;
    const { r } = await resolve(kc, '# CONFIG_MODULES is not set\n');
    expect(r.get('T')).toBe('y');
    expect(r.get('ONLY_M')).toBe('n');
    const on = (await resolve(kc, 'CONFIG_MODULES=y\n')).r;
    expect(on.get('ONLY_M')).toBe('m');
  });

  it('without a `modules` symbol, tristates are bool', async () => {
    const { r } = await resolve('config T\n\ttristate "t"\n\tdefault m\n', '');
    expect(r.get('T')).toBe('y');
  });
});

describe('int, hex and string', () => {
  it('ranges clamp defaults; out-of-range user values are dropped (as Linux does)', async () => {
    const kc =
      'config N\n\tint "n"\n\trange 2 8\n\tdefault 20\nconfig H\n\thex "h"\n\trange 0x10 0x20\n\tdefault 0x18\nconfig M\n\tint "m"\n\trange 2 8\n';
    const d = (await resolve(kc, '')).r;
    expect(d.get('N')).toBe('8');
    expect(d.get('H')).toBe('0x18');
    expect(d.get('M')).toBe('2');
    const u = (await resolve(kc, 'CONFIG_N=1\nCONFIG_H=0x40\nCONFIG_M=1\n')).r;
    expect(u.get('N')).toBe('8');
    expect(u.get('H')).toBe('0x18');
    expect(u.get('M')).toBe('2');
    expect(u.unmet().map((x) => `${x.symbol}=${x.requested}->${x.got}`)).toEqual([
      'N=1->8',
      'H=0x40->0x18',
      'M=1->2',
    ]);
  });

  it('range bounds may be symbols', async () => {
    const kc = 'config MAX\n\tint\n\tdefault 4\nconfig N\n\tint "n"\n\trange 1 MAX\n\tdefault 3\n';
    expect((await resolve(kc, 'CONFIG_N=9\n')).r.get('N')).toBe('3');
  });

  it('compares numbers numerically and strings as strings', async () => {
    const kc = `config N\n\tint "n"\n\tdefault 10\nconfig BIG\n\tdef_bool N > 9\nconfig HEXCMP\n\tdef_bool 0x10 = 16\nconfig HEXLT\n\tdef_bool 0x10 < 9\nconfig S\n\tstring "s"\n\tdefault "abc"\nconfig SEQ\n\tdef_bool S = "abc"\n`;
    const { r } = await resolve(kc, '');
    expect(r.get('BIG')).toBe('y');
    expect(r.get('HEXCMP')).toBe('y');
    expect(r.get('HEXLT')).toBe('n');
    expect(r.get('SEQ')).toBe('y');
  });

  it('reads and writes escaped strings', async () => {
    const kc = 'config S\n\tstring "s"\n';
    const { r } = await resolve(kc, 'CONFIG_S="a \\"q\\" \\\\ b"\n');
    expect(r.get('S')).toBe('a "q" \\ b');
    expect(r.dotconfig()).toContain('CONFIG_S="a \\"q\\" \\\\ b"\n');
  });
});

describe('targets', () => {
  const kc = `${MODULES}config A\n\tbool "a"\nconfig T\n\ttristate "t"\nconfig D\n\tbool "d"\n\tdefault y\nconfig N\n\tint "n"\n\tdefault 5\n`;

  it('allno/allyes/allmod/alldef', async () => {
    const { kc: k } = await load(kc);
    const no = k.resolve({ target: 'allnoconfig' });
    expect([no.get('MODULES'), no.get('A'), no.get('T'), no.get('D'), no.get('N')]).toEqual([
      'n',
      'n',
      'n',
      'n',
      '5',
    ]);
    const yes = k.resolve({ target: 'allyesconfig' });
    expect([yes.get('A'), yes.get('T'), yes.get('D')]).toEqual(['y', 'y', 'y']);
    const mod = k.resolve({ target: 'allmodconfig' });
    expect([mod.get('A'), mod.get('T')]).toEqual(['y', 'm']);
    const def = k.resolve({ target: 'alldefconfig' });
    expect([def.get('A'), def.get('T'), def.get('D')]).toEqual(['n', 'n', 'y']);
  });

  it('allconfig (KCONFIG_ALLCONFIG) values win over the all* answer', async () => {
    const { kc: k } = await load(kc);
    const r = k.resolve({
      target: 'allyesconfig',
      allconfig: { text: '# CONFIG_A is not set\n', file: 'all.config' },
    });
    expect(r.get('A')).toBe('n');
    expect(r.get('D')).toBe('y');
  });

  it('defconfig from a defconfig file; savedefconfig gives it back minimal', async () => {
    const { kc: k } = await load(kc);
    const r = k.resolve({
      target: 'defconfig',
      base: { text: 'CONFIG_A=y\nCONFIG_D=y\nCONFIG_N=7\n', file: 'x' },
    });
    expect(r.get('A')).toBe('y');
    expect(r.savedefconfig()).toBe('CONFIG_A=y\nCONFIG_N=7\n');
  });
});
