// The examples/ apps as a user runs them: each example is copied to a temp
// directory, built with its Makefile, and booted with `osvb run --config
// app.yaml` (which builds the kernel and the root filesystem from the
// app.yaml). Asserts on the guest's output and on the exit status the CLI
// returns, as the app.yaml comments promise.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let dir: string;

beforeAll(async () => {
  dir = await tempDir('osvb-userland-examples-');
}, 600_000);

afterEach(() => vi.restoreAllMocks());

/** Copies examples/NAME, builds it (make) and runs `osvb run --config YAML` on it. */
async function run(name: string, yamlFile = 'app.yaml') {
  const copy = join(dir, `${name}-${yamlFile}`);
  cpSync(join(EXAMPLES, name), copy, {
    recursive: true,
    filter: (src) => !/\/(build|\.osvb)$/.test(src),
  });
  if (existsSync(join(copy, 'Makefile'))) {
    execFileSync('make', ['-s', '-C', copy], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const status = await main(['node', 'osvb', 'run', '--config', join(copy, yamlFile), '--timeout', '200']);
  vi.restoreAllMocks();
  out = out.replaceAll('\r', '');
  return { status, out, lines: out.split('\n') };
}

describe('examples on the kernel', () => {
  it('hello-c static (musl): argv, env, status 7', async () => {
    const b = await run('hello-c', 'app.static.yaml');
    expect(b.lines).toContain('argv[1]=7');
    expect(b.lines).toContain('argv[2]=two words');
    expect(b.lines).toContain('env: GREETING=hello from the host');
    expect(b.status).toBe(7);
  }, 120_000);

  it('hello-c dynamic (glibc): argv, env, status 3', async () => {
    const b = await run('hello-c', 'app.dynamic.yaml');
    expect(b.lines).toContain('argv[2]=dynamic');
    expect(b.lines).toContain('env: GREETING=hello from the host');
    expect(b.status).toBe(3);
  }, 120_000);

  it.skipIf(!existsSync('/bin/busybox'))(
    'busybox: the applet script runs to the end',
    async () => {
      const b = await run('busybox');
      expect(b.lines, b.out).toContain('busybox: all applets ran');
      expect(b.out).toContain('--- sha256sum /data/words.txt');
      expect(b.status).toBe(0);
    },
    120_000,
  );

  it.skipIf(!existsSync('/usr/bin/go'))(
    'hello-go: every check passes',
    async () => {
      const b = await run('hello-go');
      expect(b.lines).toContain('hello-go: all checks passed');
      expect(b.status).toBe(0);
    },
    180_000,
  );

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'python: every check passes',
    async () => {
      const b = await run('python');
      expect(b.lines).toContain('python: all checks passed');
      expect(b.status).toBe(0);
    },
    240_000,
  );
});
