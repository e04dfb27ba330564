// Go build info on a real Go binary: examples/hello-go built once per run
// into a temp dir (go build is slow on a loaded machine; the go build cache
// makes the second run quick).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf, readElf, requirementsOf } from '../../src/fs/elf.js';
import { collectRootfs } from '../../src/fs/rootfs.js';
import { tempDir } from './helpers.js';

const example = resolve('examples/hello-go');
let dir: string;
let cleanup: () => void;
let binary: string;
let goVersion: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('go'));
  execFileSync('make', ['-s', '-C', example, `O=${dir}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  binary = join(dir, 'hello-go');
  // "go version go1.19.8 linux/amd64"
  goVersion = execFileSync('go', ['version'], { encoding: 'utf8' }).split(' ')[2]!;
});
afterAll(() => cleanup());

describe('Go build info', () => {
  it('finds the Go version and main module of a static CGO_ENABLED=0 binary', async () => {
    const info = await readElf(binary);
    expect(info.go).toEqual({
      version: goVersion,
      path: 'example.com/hello-go',
      module: 'example.com/hello-go',
    });
    expect(requirementsOf(info)).toEqual({ kind: 'static', needed: [], go: true, python: false });
  });

  it('finds it without section headers, by scanning the data segment', () => {
    const buf = Buffer.from(readFileSync(binary));
    buf.writeBigUInt64LE(0n, 40); // e_shoff
    buf.writeUInt16LE(0, 60); // e_shnum
    buf.writeUInt16LE(0, 62); // e_shstrndx
    expect(parseElf(buf, 'stripped-go').go?.version).toBe(goVersion);
  });

  it('reads the dynamic, cgo-linked go tool too', async () => {
    const info = await readElf(
      execFileSync('sh', ['-c', 'readlink -f "$(command -v go)"'], { encoding: 'utf8' }).trim(),
    );
    expect(info.go?.version).toBe(goVersion);
    expect(info.go?.path).toBe('cmd/go');
  });

  it('does not report C programs as Go', async () => {
    expect((await readElf('/bin/ls')).go).toBeUndefined();
    expect((await readElf('/bin/busybox')).go).toBeUndefined();
  });

  it('collects a Go app as a single static file with runtime go', async () => {
    const r = await collectRootfs({ runtime: 'go', exec: binary });
    expect(r.requirements.go).toBe(true);
    expect(r.command).toEqual(['/app/hello-go']);
    expect(r.closure.libraries).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.entries.filter((e) => e.kind === 'file').map((e) => e.path)).toEqual([
      '/app/hello-go',
      '/etc/group',
      '/etc/hosts',
      '/etc/nsswitch.conf',
      '/etc/passwd',
    ]);
  });
});
