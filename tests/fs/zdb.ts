// OpenZFS's own zdb as the independent reader of the pools osvb writes
// (zfsutils-linux; no kernel module needed). Every test that writes a pool
// checks it here: all block checksums, no leaked or doubly used space, and the
// file listing the ZPL dataset holds.

import { spawnSync } from 'node:child_process';

export interface ZdbFile {
  /** S_IFMT and permission bits, as zdb prints them (octal). */
  mode: number;
  size: number;
}

function zdb(args: string[], timeoutMs = 240_000): string {
  const r = spawnSync('zdb', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
  if (r.error)
    throw new Error(`zdb ${args.join(' ')}: ${r.error.message} (install zfsutils-linux: scripts/setup)`);
  if (r.status !== 0) throw new Error(`zdb ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `zdb -e -p DIR -cc POOL`: traverses every block, verifies every checksum and the space maps. */
export function zdbVerify(dir: string, pool: string): string {
  const out = zdb(['-e', '-p', dir, '-cc', pool]);
  if (!out.includes('No leaks (block sum matches space maps exactly)'))
    throw new Error(`zdb -cc found problems:\n${out}`);
  return out;
}

/** Path -> mode and size for every file, directory and symlink of the pool's root dataset. */
export function zdbListing(dir: string, pool: string): Map<string, ZdbFile> {
  const out = zdb(['-e', '-p', dir, '-ddddd', `${pool}/`]);
  const files = new Map<string, ZdbFile>();
  let path: string | undefined;
  let mode: number | undefined;
  for (const line of out.split('\n')) {
    const m = /^\t(path|mode|size)\t(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'path') path = m[2];
    else if (m[1] === 'mode') mode = Number.parseInt(m[2]!, 8);
    else if (path !== undefined && mode !== undefined) {
      files.set(path, { mode, size: Number(m[2]) });
      path = undefined;
      mode = undefined;
    }
  }
  return files;
}

/** Copies one file out of the pool through the DMU (`zdb -r`); `path` is relative to the root. */
export function zdbCopyOut(dir: string, pool: string, path: string, dest: string): void {
  zdb(['-e', '-p', dir, '-r', pool, path.replace(/^\/+/, ''), dest]);
}
