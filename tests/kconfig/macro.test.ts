import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KconfigError } from '../../src/errors.js';
import { load } from './helpers.js';

/** Loads a tree whose string symbol S gets `default "<expr>"`, returns S's value. */
async function expand(defs: string, expr: string, env: Record<string, string> = {}) {
  const { kc, diags, dir } = await load(`${defs}\nconfig S\n\tstring "s"\n\tdefault "${expr}"\n`, {
    env: { PATH: process.env.PATH, ...env },
  });
  return { value: kc.resolve({ target: 'olddefconfig' }).get('S'), diags, dir };
}

describe('macro language', () => {
  it('recursive (=) variables expand when used, simple (:=) ones when defined', async () => {
    const { value } = await expand('X = $(Y)\nZ := [$(Y)]\nY = late', '$(X) $(Z)');
    expect(value).toBe('late []');
  });

  it('+= appends with a space and keeps the flavour', async () => {
    const { value } = await expand(
      'A := a\nA += $(B)\nB = b\nR = r\nR += $(B)\nNEW += n',
      '$(A)|$(R)|$(NEW)',
    );
    expect(value).toBe('a |r b|n');
  });

  it('user-defined functions get $(1), $(2)...', async () => {
    const { value } = await expand('pair = <$(1),$(2)>\nswap = $(pair,$(2),$(1))', '$(swap,a,b)');
    expect(value).toBe('<b,a>');
  });

  it('environment variables are the last fallback; unknown references are empty', async () => {
    const { value } = await expand('', '$(HOME_X)-$(UNDEFINED_THING)-$$-$', { HOME_X: 'h' });
    expect(value).toBe('h--$$-$');
  });

  it('$(shell,...) output: trailing newlines dropped, inner newlines become spaces', async () => {
    const { value } = await expand('', "$(shell,printf 'a\\nb\\n\\n')");
    expect(value).toBe('a b');
  });

  it('the same $(shell,...) runs once per load, and can be persisted', async () => {
    const tree =
      'X := $(shell,echo run >> count; echo 1)\nY := $(shell,echo run >> count; echo 1)\nconfig S\n\tstring "s"\n\tdefault "$(X)$(Y)"\n';
    const cache = path.join(process.env.TMPDIR ?? '/tmp', `osvb-shell-cache-${process.pid}.json`);
    const first = await load(tree, { shellCacheFile: cache });
    expect(first.kc.resolve({ target: 'olddefconfig' }).get('S')).toBe('11');
    expect(readFileSync(path.join(first.dir, 'count'), 'utf8')).toBe('run\n');
    // A second load with the cache file does not run it at all (in the same cwd).
    const second = await load(tree, { shellCacheFile: cache, cwd: first.dir });
    expect(second.kc.resolve({ target: 'olddefconfig' }).get('S')).toBe('11');
    expect(readFileSync(path.join(first.dir, 'count'), 'utf8')).toBe('run\n');
  });

  it('$(shell,...) in expressions decides dependencies', async () => {
    const { kc } = await load(
      'config A\n\tdef_bool $(shell,echo y)\nconfig B\n\tdef_bool $(shell,echo n)\nconfig C\n\tbool "c"\n\tdepends on $(shell,true && echo y)\n\tdefault y\n',
    );
    const r = kc.resolve({ target: 'olddefconfig' });
    expect([r.get('A'), r.get('B'), r.get('C')]).toEqual(['y', 'n', 'y']);
  });

  it('background $(shell,...) in expressions: nested calls, quoted strings, comparisons', async () => {
    const tree = [
      'config NESTED',
      '\tdef_bool $(shell,test -n "$(shell,echo x)" && echo y)',
      'config STR',
      '\tstring',
      '\tdefault "v$(shell,echo 42)"',
      'config CMP',
      '\tdef_bool $(shell,echo 7) > 5',
      'config NAMED',
      '\tdef_bool y',
      'config BY_NAME',
      '\tdef_bool $(shell,echo NAMED)',
    ].join('\n');
    const { kc } = await load(`${tree}\n`);
    const r = kc.resolve({ target: 'olddefconfig' });
    expect([r.get('NESTED'), r.get('STR'), r.get('CMP'), r.get('BY_NAME')]).toEqual(['y', 'v42', 'y', 'y']);
  });

  it('background $(shell,...) results where a value is needed at once: statements, paths, prompts, names', async () => {
    const { kc, dir } = await load({
      Kconfig: [
        '$(shell,touch made-by-shell)',
        'info := $(shell,echo GCC 1200)',
        'name := $(shell,set -- $(info) && echo $1)',
        'source "$(shell,echo sub)/Kconfig"',
        'config $(shell,echo DYN)',
        '\tbool "prompt $(name)"',
        '\tdefault $(shell,test "$(name)" = GCC && echo y || echo n)',
        'config N',
        '\tint "n"',
        '\trange $(shell,echo 1) $(shell,echo 3)',
        '\tdefault 9',
        '',
      ].join('\n'),
      'sub/Kconfig': 'config IN_SUB\n\tdef_bool y\n',
    });
    const r = kc.resolve({ target: 'olddefconfig' });
    expect([r.get('DYN'), r.get('IN_SUB'), r.get('N')]).toEqual(['y', 'y', '3']);
    expect(r.explain('DYN').prompt).toBe('prompt GCC');
    expect(readFileSync(path.join(dir, 'made-by-shell'), 'utf8')).toBe('');
  });

  it('a failed $(error-if,...) on a background result wins over a later syntax error', async () => {
    const err = await load('$(error-if,$(shell,echo y),no compiler)\nconfig\n').catch((e: unknown) => e);
    expect((err as KconfigError).message).toBe('no compiler');
    expect((err as KconfigError).loc).toEqual({ file: 'Kconfig', line: 1 });
  });

  it('$(info), $(warning-if), $(filename), $(lineno)', async () => {
    const { diags, value } = await expand(
      '$(info,hello $(filename):$(lineno))\n$(warning-if,y,careful)\n$(warning-if,n,silent)',
      '$(lineno)',
    );
    expect(diags.filter((d) => d.level !== 'warning' || !d.message.includes('never'))).toEqual([
      { level: 'info', message: 'hello Kconfig:1', loc: { file: 'Kconfig', line: 1 } },
      { level: 'warning', message: 'careful', loc: { file: 'Kconfig', line: 2 } },
    ]);
    expect(value).toBe('6');
  });

  it('$(error-if,y,...) stops with file:line', async () => {
    const err = await load('config A\n\tbool\n$(error-if,$(shell,echo y),compiler too old)\n').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KconfigError);
    expect((err as KconfigError).message).toBe('compiler too old');
    expect((err as KconfigError).loc).toEqual({ file: 'Kconfig', line: 3 });
  });

  it('a variable referencing itself is an error', async () => {
    const err = await load('X = $(X)\nconfig S\n\tstring "s"\n\tdefault "$(X)"\n').catch((e: unknown) => e);
    expect((err as KconfigError).message).toBe("Recursive variable 'X' references itself (eventually)");
    expect((err as KconfigError).loc?.line).toBe(4);
  });

  it('an unterminated reference is an error', async () => {
    const err = await load('config S\n\tstring "s"\n\tdefault "$(FOO"\n').catch((e: unknown) => e);
    expect((err as KconfigError).message).toMatch(/unterminated reference to 'FOO"': missing '\)'/);
    expect((err as KconfigError).loc?.line).toBe(3);
  });

  it('built-ins check their argument count', async () => {
    const err = await load('X := $(shell,a,b)\n').catch((e: unknown) => e);
    expect((err as KconfigError).message).toBe("too many function arguments passed to 'shell'");
  });
});
