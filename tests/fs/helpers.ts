// Shared by the src/fs tests: temp dirs, compiling small C programs, running
// things in a chroot of an unpacked archive.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `osvb-fs-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles C source text with gcc (or musl-gcc); returns the output path. */
export function compileC(dir: string, name: string, source: string, args: string[] = [], cc = 'gcc'): string {
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  execFileSync(cc, ['-O1', '-o', out, src, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

/** Unpacks a newc archive with the host's cpio (an independent reader). */
export function unpackWithCpio(archive: string, dest: string): void {
  execFileSync('sh', [
    '-c',
    `cd "$1" && cpio -idm --quiet --no-absolute-filenames < "$2"`,
    'sh',
    dest,
    archive,
  ]);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv inside `root` with an empty environment plus `env`. Needs root. */
export function runChroot(root: string, argv: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync('/usr/sbin/chroot', [root, ...argv], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** ldd's view of a binary: needed name -> resolved path (the oracle for closure tests). */
export function ldd(binary: string): Map<string, string> {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+) => (\/\S+) \(0x/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

/** A small deterministic PRNG (mulberry32) so fuzz cases are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
