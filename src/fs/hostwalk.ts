// Walks a host directory tree without following symlinks, with many lstat
// calls in flight at once (the Python standard library is ~1,500 entries;
// one stat at a time would dominate the build).

import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { InputError } from '../errors.js';

export interface HostEntry {
  /** Path relative to the walk's root, '/'-separated, never empty. */
  rel: string;
  /** Absolute host path. */
  host: string;
  kind: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  size: number;
  mtimeMs: number;
  /** Symlink target, as stored. */
  target?: string;
}

/** Runs `fn` over `items` with at most `limit` promises pending. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const CONCURRENCY = 64;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A directory entry's name, which must be UTF-8 (the archive, the manifest and the guest use text paths). */
function utf8Name(raw: Buffer, dir: string): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    const shown = [...raw]
      .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
      .join('');
    throw new InputError(`file name "${shown}" is not valid UTF-8`, {
      loc: { file: dir },
      hint: 'rename it, or leave it out of the files: directory',
    });
  }
}

/** An lstat/readlink failure (a file gone meanwhile, a /proc link we may not read) as one line. */
function unreadable(host: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    throw new InputError(`cannot read (${err.code ?? String(err)})`, { loc: { file: host } });
  };
}

/**
 * All entries below `root` (not including it), sorted by `rel`. `skip(rel,
 * isDir)` prunes entries (and whole directories) before they are stat'ed.
 */
export async function walkHostDir(
  root: string,
  skip: (rel: string, isDir: boolean) => boolean = () => false,
): Promise<HostEntry[]> {
  const result: HostEntry[] = [];
  let dirs = [''];
  while (dirs.length > 0) {
    const listings = await mapLimit(dirs, CONCURRENCY, async (rel) => {
      const abs = rel === '' ? root : posix.join(root, rel);
      try {
        // As bytes: a name that is not UTF-8 would otherwise come back mangled
        // (U+FFFD) and name no file.
        return (await readdir(abs, { withFileTypes: true, encoding: 'buffer' })).map((d) => {
          const name = utf8Name(d.name as unknown as Buffer, abs);
          return { rel: rel === '' ? name : `${rel}/${name}`, isDir: d.isDirectory() };
        });
      } catch (err) {
        if (err instanceof InputError) throw err;
        throw new InputError(
          `cannot read directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          {
            loc: { file: abs },
          },
        );
      }
    });
    const todo = listings.flat().filter((d) => !skip(d.rel, d.isDir));
    const entries = await mapLimit(todo, CONCURRENCY, async (d): Promise<HostEntry> => {
      const host = posix.join(root, d.rel);
      const st = await lstat(host).catch(unreadable(host));
      const kind = st.isDirectory()
        ? 'dir'
        : st.isFile()
          ? 'file'
          : st.isSymbolicLink()
            ? 'symlink'
            : 'other';
      const e: HostEntry = {
        rel: d.rel,
        host,
        kind,
        mode: st.mode & 0o7777,
        size: st.size,
        mtimeMs: st.mtimeMs,
      };
      if (kind === 'symlink') e.target = await readlink(host).catch(unreadable(host));
      return e;
    });
    for (const e of entries) result.push(e); // push(...entries) overflows the stack at ~100,000
    dirs = entries.filter((e) => e.kind === 'dir').map((e) => e.rel);
  }
  return result.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
