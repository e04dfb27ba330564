// Errors found by trying osvb as a new user (issue 7): each is one line that
// names the place and what to do, with a non-zero exit and nothing half-written.

import { existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../kernel/helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('osvb-errors-');
  writeFileSync(join(dir, 'p.c'), 'int main(void) { return 0; }\n');
  execFileSync('musl-gcc', ['-static', '-O1', '-o', join(dir, 'prog'), join(dir, 'p.c')]);
});

afterEach(() => vi.restoreAllMocks());

/** Runs the CLI in-process; returns its status and what it printed on stderr. */
async function osvb(...args: string[]): Promise<{ status: number; err: string }> {
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  const status = await main(['node', 'osvb', ...args]);
  vi.restoreAllMocks();
  return { status, err };
}

function app(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\napp:\n  exec: prog\n${body}`);
  return file;
}

describe('errors found by trying it', () => {
  it('--out where nothing can be written: one line, exit 1', async () => {
    const file = app('out', '');
    for (const [out, line] of [
      ['/proc/osvb-nope/img', 'osvb: /proc/osvb-nope: cannot create this directory (ENOENT)\n'],
      ['/dev/null/img', 'osvb: /dev/null: is not a directory\n'],
    ]) {
      const r = await osvb('build', '--config', file, '--out', out!);
      expect(r.err).toBe(line);
      expect(r.status).toBe(1);
    }
  }, 120_000);

  it('did-you-mean suggests only symbols that exist', async () => {
    const lower = await osvb('build', '--config', app('lower', 'kernel:\n  config: { log_level: 7 }\n'));
    expect(lower.err).toMatch(
      /"log_level" is not a Kconfig symbol name .*\(did you mean LOG_DEFAULT_LEVEL\?\)\n$/,
    );
    expect(lower.err).not.toContain('LOG_LEVEL?');
    expect(lower.status).toBe(1);
    const upper = await osvb('build', '--config', app('upper', 'kernel:\n  config: { LOG_LEVEL: 7 }\n'));
    expect(upper.err).toMatch(
      /LOG_LEVEL is not defined in the Kconfig tree \(did you mean LOG_DEFAULT_LEVEL\?\)\n$/,
    );
  }, 120_000);

  it('exec: main.py suggests runtime: python', async () => {
    writeFileSync(join(dir, 'main.py'), 'print("hi")\n');
    const file = join(dir, 'py.yaml');
    writeFileSync(file, 'name: py\napp:\n  exec: main.py\n');
    const r = await osvb('build', '--config', file);
    expect(r.err).toContain('`runtime: python` and `script: main.py`');
    expect(r.status).toBe(1);
  });

  it('an int out of range names the range', async () => {
    const r = await osvb('build', '--config', app('range', 'kernel:\n  config: { LOG_DEFAULT_LEVEL: 9 }\n'));
    expect(r.err).toMatch(
      /:5:13: LOG_DEFAULT_LEVEL=9 requested, got 5: 9 is outside its range 0 to 7, so it was ignored\n$/,
    );
    expect(r.status).toBe(1);
  }, 120_000);

  it('run.cpus beyond what the kernel runs is said in user terms', async () => {
    // SMP turned off by hand: the warning says what the program gets, at the line that did it.
    const r = await osvb(
      'config',
      'show',
      '--config',
      app('cpus', 'kernel:\n  config: { SMP: n }\nrun:\n  cpus: 4\n'),
    );
    expect(r.err).toMatch(
      /cpus\.yaml:5:13: run\.cpus is 4, but the kernel will use one CPU \(kernel\.config sets SMP=n\)\n$/,
    );
    expect(r.err).not.toContain('requested because');
  }, 120_000);

  it('a rootfs larger than the memory allows is refused at build time with the numbers', async () => {
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(100 * 1024 * 1024));
    const file = app('big', 'files:\n  /data/big.bin: big.bin\nrun:\n  memory: 128M\n');
    const r = await osvb('build', '--config', file);
    expect(r.err).toMatch(
      /^osvb: \S+big\.yaml:7:11: rootfs is 101 MiB; run\.memory 128M leaves nothing for the program .*; use at least 256M\n$/,
    );
    expect(r.status).toBe(1);
    expect(existsSync(join(dir, '.osvb/big'))).toBe(false);
    // Enough memory, and the same files build; a smaller -m at run time is refused the same way.
    const ok = app('big2', 'files:\n  /data/big.bin: big.bin\nrun:\n  memory: 256M\n');
    expect((await osvb('build', '--config', ok)).status).toBe(0);
    const run = await osvb('run', join(dir, '.osvb/big2'), '-m', '128M');
    expect(run.err).toMatch(/-m 128M leaves nothing .*; use at least 256M\n$/);
    expect(run.status).toBe(1);
  }, 300_000);
});
