// The examples/ apps on the osvb kernel: each app.yaml's program, args, env
// and files go through the fs stage into a newc archive, and the kernel built
// by the pipeline boots it under QEMU with the command line osvb build is to
// write (osvb.exec=PROGRAM NAME=VALUE... -- ARGS...). Asserts on the guest's
// output and exit status, as the app.yaml comments promise.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RootfsInput } from '../../src/fs/rootfs.js';
import { boot, buildKernel, execCmdline, packRootfs, tempDir } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir('osvb-userland-examples-');
  image = await buildKernel(dir);
  execFileSync('make', ['-s', '-C', join(EXAMPLES, 'hello-c'), `O=${join(dir, 'hello-c')}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (existsSync('/usr/bin/go')) {
    execFileSync('make', ['-s', '-C', join(EXAMPLES, 'hello-go'), `O=${join(dir, 'hello-go')}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}, 600_000);

interface Example {
  input: RootfsInput;
  args: string[];
  env: string[];
  memory: string;
}

/** An example's app.yaml as osvb build reads it; build/ outputs come from the temp build dir. */
function loadExample(name: string, yamlFile = 'app.yaml'): Example {
  const exDir = join(EXAMPLES, name);
  const doc = parse(readFileSync(join(exDir, yamlFile), 'utf8')) as {
    app: {
      exec?: string;
      args?: string[];
      env?: Record<string, string>;
      runtime?: 'elf' | 'go' | 'python';
      script?: string;
    };
    files?: Record<string, string>;
    run?: { memory?: string };
  };
  const hostPath = (p: string): string =>
    isAbsolute(p) ? p : p.startsWith('build/') ? join(dir, name, p.slice('build/'.length)) : join(exDir, p);
  const input: RootfsInput = {
    runtime: doc.app.runtime ?? 'elf',
    files: new Map(Object.entries(doc.files ?? {}).map(([g, h]) => [g, hostPath(h)])),
    specFile: join(exDir, yamlFile),
  };
  if (doc.app.exec) input.exec = hostPath(doc.app.exec);
  if (doc.app.script) input.script = hostPath(doc.app.script);
  const env = Object.entries(doc.app.env ?? {}).map(([k, v]) => `${k}=${v}`);
  return { input, args: doc.app.args ?? [], env, memory: doc.run?.memory ?? '128M' };
}

async function run(name: string, yamlFile?: string) {
  const ex = loadExample(name, yamlFile);
  const fs = await packRootfs(dir, `${name}-${yamlFile ?? 'app'}`, ex.input);
  return boot(image, fs.archive, execCmdline(fs.command, ex.args, ex.env), { memory: ex.memory });
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
