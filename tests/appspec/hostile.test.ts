// Inputs a careless or hostile user can hand the builder: each is one clean
// error naming the file (and app.yaml line), or it works; never an internal
// error (exit 70), a stack overflow or a hang.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAppSpec } from '../../src/config/appspec.js';
import { readInputFile } from '../../src/config/inputfile.js';
import { ConfigError, InputError, KconfigError, OsvbError } from '../../src/errors.js';
import { planRootfs } from '../../src/kernel/rootfs.js';
import { load } from '../kconfig/helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/osvb.js');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osvb-hostile-'));
  copyFileSync('/bin/true', path.join(dir, 'hello'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app(name: string, text: string): string {
  const f = path.join(dir, `${name}.yaml`);
  writeFileSync(f, text);
  return f;
}

async function errorOf(p: Promise<unknown>): Promise<OsvbError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OsvbError)) throw new Error(`expected an OsvbError, got ${String(err)}`);
  return err;
}

/** osvb build as a user runs it: the exit status and stderr, bounded in time. */
function osvb(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('what --config may be', () => {
  it('refuses /dev/zero and a FIFO at once, and a file over 8 MiB', () => {
    const fifo = path.join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, Buffer.alloc(9 << 20, 0x23));
    for (const [file, want] of [
      ['/dev/zero', /^osvb: \/dev\/zero: a character device, not a regular file$/],
      [fifo, /fifo\.yaml: a FIFO, not a regular file$/],
      [big, /big\.yaml: larger than 8 MiB, more than any input osvb reads$/],
    ] as const) {
      const r = osvb('build', '--config', file);
      expect(r.status, file).toBe(1);
      expect(r.stderr.trim(), file).toMatch(want);
    }
  });

  it('reads at most the cap from a "regular" file that never ends (/proc)', () => {
    expect(() => readInputFile('/proc/self/maps', { max: 16 })).toThrow(/larger than 0 MiB/);
  });
});

describe('files: and app.exec pointing at the host itself', () => {
  it('refuses /proc, /sys and / in files:, and /proc/self/mem as app.exec, naming the app.yaml line', async () => {
    const cases: [string, string, RegExp][] = [
      ['proc', 'files:\n  /x: /proc\n', /files\.\/x: \/proc is on the host's proc filesystem/],
      ['sys', 'files:\n  /x: /sys/kernel\n', /files\.\/x: \/sys\/kernel is on the host's sysfs filesystem/],
      ['root', 'files:\n  /x: /\n', /files\.\/x: \/ is the whole host filesystem/],
    ];
    for (const [name, files, want] of cases) {
      const f = app(name, `name: t\napp:\n  exec: ./hello\n${files}`);
      const err = await errorOf(loadAppSpec(f));
      expect(err, name).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(want);
      expect(err.loc).toMatchObject({ file: f, line: 5 });
    }
    const mem = app('mem', 'name: t\napp:\n  exec: /proc/self/mem\n');
    const err = await errorOf(loadAppSpec(mem));
    expect(err.message).toMatch(/app\.exec: \/proc\/self\/mem is on the host's proc filesystem/);
    expect(err.loc).toMatchObject({ file: mem, line: 3 });
  });

  it('a file name that is not UTF-8 is one error naming the directory and the bytes', async () => {
    const d = path.join(dir, 'nonutf');
    mkdirSync(d);
    writeFileSync(Buffer.from(`${d}/a\xffb`, 'latin1'), 'x');
    const spec = await loadAppSpec(app('nonutf', `name: t\napp:\n  exec: ./hello\nfiles:\n  /x: ./nonutf\n`));
    const err = await errorOf(planRootfs(spec));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('file name "a\\xffb" is not valid UTF-8');
    expect(err.loc?.file).toBe(d);
  });

  it('a files: directory of 100,000 files is planned (no recursion or spread the input controls)', async () => {
    const d = path.join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 100_000; i++) writeFileSync(path.join(d, `f${i}`), '');
    const spec = await loadAppSpec(app('many', `name: t\napp:\n  exec: ./hello\nfiles:\n  /many: ./many\n`));
    const plan = await planRootfs(spec);
    expect(plan?.files.filter((f) => f.path.startsWith('/many/'))).toHaveLength(100_000);
  }, 300_000);

  it('app.workdir: a missing directory is created with its parents; a file there is refused at its line', async () => {
    const spec = await loadAppSpec(app('wd', 'name: t\napp:\n  exec: ./hello\n  workdir: /srv/www\n'));
    const plan = await planRootfs(spec);
    expect(plan?.files.filter((f) => f.path === '/srv' || f.path === '/srv/www').map((f) => f.kind)).toEqual([
      'dir',
      'dir',
    ]);
    const bad = app('wdfile', 'name: t\napp:\n  exec: ./hello\n  workdir: /app/hello/sub\n');
    const err = await errorOf(planRootfs(await loadAppSpec(bad)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      'app.workdir "/app/hello/sub": /app/hello is a file in the image, not a directory',
    );
    expect(err.loc).toMatchObject({ file: bad, line: 4 });
  });
});

describe('kernel.cmdline', () => {
  it('an unpaired " is refused: it would swallow osvb.exec= and run nothing', async () => {
    const f = app('quote', 'name: t\napp:\n  exec: ./hello\nkernel:\n  cmdline: osvb.loglevel=7 "oops\n');
    const err = await errorOf(loadAppSpec(f));
    expect(err.message).toMatch(/^kernel\.cmdline: unpaired '"'/);
    expect(err.loc).toMatchObject({ file: f, line: 5 });
  });

  it('a list item with a space stays one kernel argument', async () => {
    const f = app('list', 'name: t\napp:\n  exec: ./hello\nkernel:\n  cmdline: ["osvb.loglevel=7", "a b"]\n');
    expect((await loadAppSpec(f)).kernel.cmdline).toBe('osvb.loglevel=7 "a b"');
  });
});

describe('Kconfig inputs', () => {
  const dep = (expr: string): string =>
    `config A\n\tbool "a"\n\tdefault y\nconfig B\n\tbool "b"\n\tdepends on ${expr}\n`;

  const cases: [string, string, RegExp, number][] = [
    [
      'parentheses',
      dep(`${'('.repeat(2000)}A${')'.repeat(2000)}`),
      /^expression nested more than 1000 levels deep$/,
      6,
    ],
    [
      '100,000 parentheses',
      dep(`${'('.repeat(100_000)}A${')'.repeat(100_000)}`),
      /^expression nested more/,
      6,
    ],
    ['negations', dep(`${'!'.repeat(100_000)}A`), /^expression nested more/, 6],
    ['a chain of &&', dep(Array(100_000).fill('A').join(' && ')), /^expression nested more/, 6],
    [
      '2000 depends on lines',
      `config A\n\tbool "a"\nconfig B\n\tbool "b"\n${'\tdepends on A\n'.repeat(2000)}`,
      /^expression nested more/,
      1005,
    ],
    [
      'nested if blocks',
      `config A\n\tbool "a"\n${'if A\n'.repeat(2000)}config B\n\tbool "b"\n${'endif\n'.repeat(2000)}`,
      /^menus, if blocks and dependency chains nested more than 1000 levels deep$/,
      1002,
    ],
    [
      'nested menus',
      `${'menu "m"\n'.repeat(2000)}config B\n\tbool "b"\n${'endmenu\n'.repeat(2000)}`,
      /^menus, if blocks and dependency chains nested more/,
      1001,
    ],
    [
      'a dependency chain',
      `config S0\n\tbool "s"\n${Array.from({ length: 2000 }, (_, i) => `config S${i + 1}\n\tbool "s"\n\tdepends on S${i}\n`).join('')}`,
      /^menus, if blocks and dependency chains nested more/,
      3000,
    ],
    [
      '2000 selects of one symbol',
      `config A\n\tbool "a"\n${Array.from({ length: 2000 }, (_, i) => `config S${i}\n\tbool "s"\n\tselect A\n`).join('')}`,
      /^A is selected or implied by more than 1000 symbols/,
      3005,
    ],
  ];
  for (const [name, text, want, line] of cases) {
    it(`${name}: a clean error naming the line`, async () => {
      const err = await errorOf(load(text));
      expect(err).toBeInstanceOf(KconfigError);
      expect(err.message).toMatch(want);
      expect(err.loc?.line).toBe(line);
    });
  }

  it('1000 levels deep still loads', async () => {
    const text = `config A\n\tbool "a"\n\tdefault y\nconfig B\n\tbool "b"\n\tdepends on ${'('.repeat(990)}A${')'.repeat(990)} && ${Array(990).fill('A').join(' && ')}\n`;
    await expect(load(text)).resolves.toBeDefined();
  });

  it('a FIFO or a device as a sourced Kconfig file is refused', async () => {
    const err = await errorOf(load('config A\n\tbool "a"\nsource "/dev/zero"\n'));
    expect(err.message).toBe('"/dev/zero": a character device, not a regular file');
    expect(err.loc?.line).toBe(3);
  });
});
