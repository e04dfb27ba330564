// Malformed inputs: each gives one KconfigError naming file:line (and column where useful).

import { describe, expect, it } from 'vitest';
import { KconfigError } from '../../src/errors.js';
import { load } from './helpers.js';

async function loadError(files: Record<string, string> | string): Promise<KconfigError> {
  const err = await load(files).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof KconfigError)) throw new Error(`expected a KconfigError, got ${String(err)}`);
  return err;
}

describe('Kconfig syntax errors', () => {
  const cases: [
    string,
    string | Record<string, string>,
    RegExp,
    { file: string; line: number; column?: number },
  ][] = [
    [
      'unknown statement',
      'config A\n\tbool "a"\nconfg B\n',
      /^unknown statement "confg"$/,
      { file: 'Kconfig', line: 3, column: 1 },
    ],
    [
      'option outside an entry',
      'menu "m"\nendmenu\n\tdefault y\n',
      /^'default' must follow a config, menuconfig, choice, menu or comment entry$/,
      { file: 'Kconfig', line: 3, column: 2 },
    ],
    [
      'missing endmenu',
      'menu "M"\nconfig A\n\tbool "a"\n',
      /^missing 'endmenu' for this menu$/,
      { file: 'Kconfig', line: 1 },
    ],
    [
      'endif without if',
      'config A\n\tbool "a"\nendif\n',
      /^unexpected 'endif'$/,
      { file: 'Kconfig', line: 3, column: 1 },
    ],
    [
      'mismatched end',
      'if A\nendmenu\n',
      /^unexpected 'endmenu' within if block \(opened at line 1\)$/,
      { file: 'Kconfig', line: 2, column: 1 },
    ],
    [
      'depends without on',
      'config A\n\tbool "a"\n\tdepends B\n',
      /^syntax error: expected 'on' after 'depends', got 'B'$/,
      { file: 'Kconfig', line: 3, column: 10 },
    ],
    [
      'unbalanced parenthesis',
      'config A\n\tbool "a"\n\tdepends on (B || C\n',
      /^syntax error: expected '\)', got end of line$/,
      { file: 'Kconfig', line: 3, column: 20 },
    ],
    [
      'garbage after an expression',
      'config A\n\tbool "a"\n\tdefault y z\n',
      /^syntax error: unexpected 'z'$/,
      { file: 'Kconfig', line: 3, column: 12 },
    ],
    [
      'config without a name',
      'config\n\tbool "a"\n',
      /^syntax error: expected a symbol name, got end of line$/,
      { file: 'Kconfig', line: 1, column: 7 },
    ],
    [
      'string choice',
      'choice\n\tstring "c"\nendchoice\n',
      /^a choice can only be bool or tristate, not string$/,
      { file: 'Kconfig', line: 2, column: 2 },
    ],
    [
      'menu inside a choice',
      'choice\n\tprompt "c"\nmenu "m"\nendmenu\nendchoice\n',
      /^'menu' is not allowed inside a choice$/,
      { file: 'Kconfig', line: 3, column: 1 },
    ],
    [
      'missing source file',
      { Kconfig: 'config A\n\tbool "a"\nsource "nope/Kconfig"\n' },
      /^can't open file "nope\/Kconfig"$/,
      { file: 'Kconfig', line: 3 },
    ],
    [
      'error in a sourced file names that file',
      { Kconfig: 'source "sub/Kconfig"\n', 'sub/Kconfig': '\n\nconfig\n' },
      /^syntax error: expected a symbol name/,
      { file: 'sub/Kconfig', line: 3, column: 7 },
    ],
    [
      'block closed in another file',
      { Kconfig: 'menu "M"\nsource "sub/Kconfig"\n', 'sub/Kconfig': 'endmenu\n' },
      /^unexpected 'endmenu'$/,
      { file: 'sub/Kconfig', line: 1, column: 1 },
    ],
    [
      'second modules symbol',
      'config A\n\tbool\n\tmodules\nconfig B\n\tbool\n\tmodules\n',
      /^symbol 'B' redefines option 'modules' already defined by symbol 'A'$/,
      { file: 'Kconfig', line: 6, column: 2 },
    ],
    [
      'mainmenu not first',
      'config A\n\tbool\nmainmenu "late"\n',
      /^mainmenu must be the first statement/,
      { file: 'Kconfig', line: 3, column: 1 },
    ],
  ];
  for (const [name, files, msg, loc] of cases) {
    it(name, async () => {
      const err = await loadError(files);
      expect(err.message).toMatch(msg);
      expect(err.loc).toEqual(loc.column === undefined ? { file: loc.file, line: loc.line } : loc);
    });
  }

  it('recursive source inclusion', async () => {
    const err = await loadError({ Kconfig: 'source "a"\n', a: 'source "b"\n', b: '\nsource "a"\n' });
    expect(err.message).toBe('recursive inclusion of "a" (Kconfig:1 -> a:1 -> b:2)');
    expect(err.loc).toEqual({ file: 'b', line: 2 });
  });

  it('recursive dependency prints the cycle', async () => {
    const err = await loadError(
      'config A\n\tbool "a"\n\tdepends on B\n\tselect C\nconfig B\n\tbool "b"\n\tdepends on C\nconfig C\n\tbool\n',
    );
    // The cycle starts wherever the search entered it (Linux's symbol order).
    const parts = err.message.replace(/^recursive dependency detected: /, '').split('; ');
    expect(parts.sort()).toEqual([
      'Kconfig:1: symbol A depends on B',
      'Kconfig:5: symbol B depends on C',
      'Kconfig:8: symbol C is selected by A',
    ]);
    expect(err.loc?.file).toBe('Kconfig');
  });

  it('recursive dependency through a default', async () => {
    const err = await loadError('config A\n\tbool "a"\n\tdefault B\nconfig B\n\tbool "b"\n\tdepends on A\n');
    expect(err.message).toMatch(/^recursive dependency detected: /);
    expect(err.message).toContain('Kconfig:3: symbol A default value contains B');
    expect(err.message).toContain('Kconfig:4: symbol B depends on A');
  });
});

describe('defconfig errors (strict: a person wrote it)', () => {
  const tree =
    'config B\n\tbool "b"\nconfig T\n\ttristate "t"\nconfig I\n\tint "i"\nconfig H\n\thex "h"\nconfig S\n\tstring "s"\n';
  const cases: [string, string, RegExp, number, number][] = [
    ['bad bool', 'CONFIG_B=y\nCONFIG_B=m\n', /^symbol value 'm' invalid for B$/, 2, 10],
    ['bad tristate', 'CONFIG_T=yes\nCONFIG_T=2\n', /^symbol value '2' invalid for T$/, 2, 10],
    ['bad int', '\nCONFIG_I=12a\n', /^symbol value '12a' invalid for I$/, 2, 10],
    ['bad hex', 'CONFIG_H=0xZ\n', /^symbol value '0xZ' invalid for H$/, 1, 10],
    ['unquoted string', 'CONFIG_S=abc\n', /^string value for S must be quoted$/, 1, 10],
    [
      'unterminated string',
      'CONFIG_S="abc\n',
      /^invalid string found: missing closing quote in value of S$/,
      1,
      10,
    ],
  ];
  for (const [name, text, msg, line, column] of cases) {
    it(name, async () => {
      const { kc } = await load(tree);
      let err: unknown;
      try {
        kc.resolve({ target: 'defconfig', base: { text, file: 'my.config' } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KconfigError);
      expect((err as KconfigError).message).toMatch(msg);
      expect((err as KconfigError).loc).toEqual({ file: 'my.config', line, column });
    });
  }

  it('in a .config (olddefconfig) a bad value is a warning and an unmet request, as in Linux', async () => {
    const { kc, diags } = await load(tree);
    const r = kc.resolve({
      target: 'olddefconfig',
      base: { text: 'CONFIG_I=0x10\nCONFIG_B=y\n', file: '.config' },
    });
    expect(diags).toContainEqual({
      level: 'warning',
      message: "symbol value '0x10' invalid for I",
      loc: { file: '.config', line: 1 },
    });
    expect(r.get('B')).toBe('y');
    expect(r.unmet()).toEqual([
      {
        symbol: 'I',
        requested: '0x10',
        got: '',
        reason: "'0x10' is not a valid int value, so it was ignored",
        loc: { file: '.config', line: 1 },
      },
    ]);
  });

  it('other lines are warnings, unknown symbols are unmet requests', async () => {
    const { kc, diags } = await load(tree);
    const r = kc.resolve({
      target: 'defconfig',
      base: { text: 'garbage\nCONFIG_NOPE=y\nCONFIG_B=y\n', file: 'd' },
    });
    expect(diags.map((d) => d.message)).toContain('unexpected data: garbage');
    expect(r.unmet()).toEqual([
      {
        symbol: 'NOPE',
        requested: 'y',
        got: '(undefined)',
        reason: 'no such symbol in this Kconfig tree',
        loc: { file: 'd', line: 2 },
      },
    ]);
  });
});
