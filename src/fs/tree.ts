// The guest root filesystem as a typed list of entries, built up from host
// files. Paths are guest paths; nothing here can point outside the guest root:
// `..` that climbs above / and relative symlinks that would are errors, and
// absolute symlink targets mean paths inside the guest.

import { lstat, readlink, realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { InputError, type SourceLocation } from '../errors.js';

export interface RootfsDir {
  kind: 'dir';
  path: string;
  /** Permission bits (0o7777). */
  mode: number;
}

/** Bytes replaced in a host file's content on the way into the archive (same length). */
export interface ContentPatch {
  offset: number;
  bytes: Uint8Array;
}

export interface RootfsFile {
  kind: 'file';
  path: string;
  mode: number;
  size: number;
  /** Host file to copy; exactly one of source and data is set. */
  source?: string;
  /** Generated content. */
  data?: Uint8Array;
  patch?: ContentPatch;
  /** Why it is there (for errors and the manifest): "app", "library libc.so.6 needed by /app/x", ... */
  origin: string;
}

export interface RootfsSymlink {
  kind: 'symlink';
  path: string;
  mode: number;
  target: string;
  origin: string;
}

export type RootfsEntry = RootfsDir | RootfsFile | RootfsSymlink;

const MAX_LINKS = 40;

/** Where an error points: a host path, or a location in app.yaml. */
export type Where = string | SourceLocation;

const locOf = (w: Where): SourceLocation => (typeof w === 'string' ? { file: w } : w);

/** Splits an absolute path into components, resolving "." and ".."; `onEscape` handles ".." at /. */
function components(path: string, onEscape: () => void): string[] {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) onEscape();
      else out.pop();
    } else out.push(c);
  }
  return out;
}

/** Normalizes an absolute guest path; `..` may not climb above /. */
export function normalizeGuestPath(path: string, where: Where): string {
  const loc = locOf(where);
  if (!path.startsWith('/')) throw new InputError(`guest path "${path}" is not absolute`, { loc });
  if (path.includes('\0')) throw new InputError('guest path contains a NUL byte', { loc });
  const parts = components(path, () => {
    throw new InputError(`guest path "${path}" escapes the root filesystem ("..")`, { loc });
  });
  return `/${parts.join('/')}`;
}

/**
 * Where a symlink at `linkPath` with `target` points inside the guest. An
 * absolute target is a path in the guest, where ".." at / stays at / (as in
 * any kernel); a relative target that climbs above / is refused.
 */
export function symlinkTargetPath(linkPath: string, target: string, where: Where): string {
  const loc = locOf(where);
  if (target === '') throw new InputError(`symlink ${linkPath} has an empty target`, { loc });
  if (target.startsWith('/')) return `/${components(target, () => undefined).join('/')}`;
  const base = posix.dirname(linkPath);
  const parts = components(`${base}/${target}`, () => {
    throw new InputError(`symlink ${linkPath} -> ${target} escapes the root filesystem`, {
      loc,
      hint: 'make the link absolute (absolute targets are resolved inside the guest) or drop it',
    });
  });
  return `/${parts.join('/')}`;
}

function describe(e: RootfsEntry): string {
  if (e.kind === 'dir') return 'a directory';
  if (e.kind === 'symlink') return `symlink -> ${e.target} (${e.origin})`;
  return e.source ? `${e.source} (${e.origin})` : `generated file (${e.origin})`;
}

function sameEntry(a: RootfsEntry, b: RootfsEntry): boolean {
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'file' && b.kind === 'file') {
    return (
      a.mode === b.mode &&
      a.size === b.size &&
      a.source !== undefined &&
      a.source === b.source &&
      !a.patch &&
      !b.patch
    );
  }
  return false;
}

export class RootfsTree {
  private readonly entries = new Map<string, RootfsEntry>();
  /** Directories created only because something lives below them (mode may still be set explicitly). */
  private readonly implicit = new Set<string>();

  constructor() {
    this.entries.set('/', { kind: 'dir', path: '/', mode: 0o755 });
  }

  get(path: string): RootfsEntry | undefined {
    return this.entries.get(path);
  }

  /** All entries sorted by path (parents before children), without the root. */
  list(): RootfsEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.path !== '/')
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * Resolves the directory part of a guest path through symlinks already in
   * the tree, creating missing directories; returns the final path.
   */
  private place(path: string, what: string): string {
    let links = 0;
    let todo = path.split('/').filter((c) => c !== '');
    const last = todo.pop();
    if (last === undefined) return '/';
    let cur = '/';
    while (todo.length > 0) {
      const c = todo.shift()!;
      const next = posix.join(cur, c);
      const e = this.entries.get(next);
      if (!e) {
        this.entries.set(next, { kind: 'dir', path: next, mode: 0o755 });
        this.implicit.add(next);
        cur = next;
      } else if (e.kind === 'dir') {
        cur = next;
      } else if (e.kind === 'symlink') {
        if (++links > MAX_LINKS)
          throw new InputError(`too many levels of symlinks resolving ${path}`, { loc: { file: what } });
        const t = symlinkTargetPath(next, e.target, what);
        todo = [...t.split('/').filter((x) => x !== ''), ...todo];
        cur = '/';
      } else {
        throw new InputError(`cannot place ${path}: ${next} is a file (${e.origin})`, {
          loc: { file: what },
        });
      }
    }
    return posix.join(cur, last);
  }

  /** Is something at this guest path (following symlinks in its directories)? */
  has(path: string): boolean {
    try {
      return this.entries.has(this.place(normalizeGuestPath(path, path), path));
    } catch {
      return true; // a path that cannot be placed is not ours to fill
    }
  }

  add(entry: RootfsEntry, what: string): void {
    const norm = normalizeGuestPath(entry.path, what);
    if (norm === '/') {
      if (entry.kind !== 'dir')
        throw new InputError('the guest root must be a directory', { loc: { file: what } });
      return;
    }
    const path = this.place(norm, what);
    const e = { ...entry, path } as RootfsEntry;
    const old = this.entries.get(path);
    if (!old) {
      this.entries.set(path, e);
      return;
    }
    if (old.kind === 'dir' && e.kind === 'dir') {
      if (this.implicit.has(path)) {
        this.implicit.delete(path);
        this.entries.set(path, e);
      }
      return;
    }
    if (sameEntry(old, e)) return;
    // A directory over a symlink to a directory merges into it (a files: entry
    // for /lib on a merged-/usr guest fills /usr/lib), as `cp -r` would.
    if (old.kind === 'symlink' && e.kind === 'dir') {
      const inside = this.place(posix.join(path, '.probe'), what);
      if (this.entries.get(posix.dirname(inside))?.kind === 'dir') return;
    }
    throw new InputError(`guest path ${path} is provided twice: ${describe(old)} and ${describe(e)}`, {
      loc: { file: what },
    });
  }

  addDir(path: string, mode: number, what: string): void {
    this.add({ kind: 'dir', path, mode: mode & 0o7777 }, what);
  }

  /**
   * Copies a host path into the guest, keeping every symlink met on the way
   * (in directory components too: /lib -> usr/lib on merged-/usr hosts), so
   * the guest sees the same names. With hostPath === guestPath the guest gets
   * the host's layout; otherwise the last component is placed at guestPath
   * and relative links are followed alongside.
   */
  async addHostPath(hostPath: string, guestPath: string, origin: string): Promise<void> {
    let links = 0;
    let host = hostPath;
    let guest = guestPath;
    for (;;) {
      if (++links > MAX_LINKS)
        throw new InputError(`too many levels of symlinks`, { loc: { file: hostPath } });
      if (host === guest) {
        const next = await this.walkIdentity(host, origin);
        if (next === undefined) return;
        host = next;
        guest = next;
        continue;
      }
      const dir = await realpath(posix.dirname(host)).catch(() => {
        throw new InputError('no such directory', { loc: { file: posix.dirname(host) } });
      });
      const h = posix.join(dir, posix.basename(host));
      const st = await lstat(h).catch(() => {
        throw new InputError('no such file', { loc: { file: h } });
      });
      if (st.isSymbolicLink()) {
        const target = await readlink(h);
        this.add({ kind: 'symlink', path: guest, mode: 0o777, target, origin }, h);
        if (target.startsWith('/')) {
          host = target;
          guest = normalizeGuestPath(target, h);
        } else {
          host = posix.resolve(dir, target);
          guest = symlinkTargetPath(guest, target, h);
        }
        continue;
      }
      if (!st.isFile()) throw new InputError('not a regular file', { loc: { file: h } });
      this.add({ kind: 'file', path: guest, mode: st.mode & 0o7777, size: st.size, source: h, origin }, h);
      return;
    }
  }

  /**
   * Walks an absolute host path component by component, adding symlinks met
   * on the way; returns the path to continue with after a symlink, or
   * undefined once the file itself was added.
   */
  private async walkIdentity(path: string, origin: string): Promise<string | undefined> {
    const parts = path.split('/').filter((c) => c !== '');
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const p = posix.join(cur, parts[i]!);
      const st = await lstat(p).catch(() => {
        throw new InputError('no such file', { loc: { file: path } });
      });
      if (st.isSymbolicLink()) {
        const target = await readlink(p);
        this.add({ kind: 'symlink', path: p, mode: 0o777, target, origin }, p);
        const resolved = symlinkTargetPath(p, target, p);
        return posix.join(resolved, ...parts.slice(i + 1));
      }
      if (i === parts.length - 1) {
        if (!st.isFile()) throw new InputError('not a regular file', { loc: { file: path } });
        this.add({ kind: 'file', path: p, mode: st.mode & 0o7777, size: st.size, source: p, origin }, p);
        return undefined;
      }
      if (!st.isDirectory()) throw new InputError(`${p} is not a directory`, { loc: { file: path } });
      cur = p;
    }
    return undefined;
  }
}
