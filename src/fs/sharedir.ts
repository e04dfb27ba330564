// The root filesystem as a plain host directory (app.yaml `rootfs: 9p`): the
// entries are written out as real files, directories and symlinks, which QEMU
// then serves to the guest over 9p as its root (the novm way: no archive;
// edit a file in IMAGE_DIR/rootfs and run again).

import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contentOf } from './archive.js';
import type { RootfsEntry } from './tree.js';

export interface ShareDirResult {
  path: string;
  /** Sum of file sizes. */
  bytes: number;
  entries: number;
}

/** Writes `entries` (sorted, parents first) under `dir`, which must not exist yet. */
export async function writeShareDir(entries: readonly RootfsEntry[], dir: string): Promise<ShareDirResult> {
  await mkdir(dir, { mode: 0o755 });
  let bytes = 0;
  const dirs: RootfsEntry[] = [];
  for (const e of entries) {
    const at = join(dir, e.path);
    if (e.kind === 'dir') {
      await mkdir(at, { recursive: true });
      dirs.push(e);
    } else if (e.kind === 'symlink') {
      await symlink(e.target, at);
    } else {
      const data = await contentOf(e);
      await writeFile(at, data, { mode: e.mode & 0o7777 });
      await chmod(at, e.mode & 0o7777); // the umask applied at creation
      bytes += data.length;
    }
  }
  // Directory modes last: a read-only directory would refuse its own children.
  for (const d of dirs) await chmod(join(dir, d.path), d.mode & 0o7777);
  return { path: dir, bytes, entries: entries.length };
}
