// Atomic file and directory writes: write under a temporary name in the same
// directory, then rename. A build killed half way leaves only temp names, which
// nothing trusts and the next build overwrites or removes.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

function fsError(what: string, path: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new InputError(`${what} (${code})`, { loc: { file: path } });
}

/** mkdir -p one component at a time: Node's recursive mkdir never returns
 * under /proc, and a failure here is the user's place, named in one line. */
export async function makeDirs(dir: string): Promise<void> {
  const abs = resolve(dir);
  const st = await stat(abs).catch(() => undefined);
  if (st?.isDirectory()) return;
  if (st) throw new InputError('is not a directory', { loc: { file: abs } });
  const parent = dirname(abs);
  if (parent !== abs) await makeDirs(parent);
  try {
    await mkdir(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(abs)).isDirectory()) return;
    throw fsError('cannot create this directory', abs, err);
  }
}

/** Fails early, in one line, when `dir`'s parent cannot receive a new directory. */
export async function checkWritableParent(dir: string): Promise<void> {
  const parent = dirname(resolve(dir));
  await makeDirs(parent);
  const probe = tempSibling(resolve(dir), 'probe');
  try {
    await mkdir(probe);
  } catch (err) {
    throw fsError('cannot write here', parent, err);
  }
  await rm(probe, { recursive: true, force: true });
}

/** A unique sibling path of `path` for a temporary file or directory. */
export function tempSibling(path: string, tag = 'tmp'): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await makeDirs(dirname(path));
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Moves an already written file into place (same filesystem). */
export async function moveIntoPlace(tmp: string, path: string): Promise<void> {
  await makeDirs(dirname(path));
  await rename(tmp, path);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporaries of `path` left by killed processes (their pid is gone). */
export async function removeStaleTemps(path: string): Promise<void> {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\.${base}\\.(?:tmp|old)-(\\d+)-[0-9a-f]+(?:\\.\\w+)?$`);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const n of names) {
    const m = re.exec(n);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      await rm(join(dirname(path), n), { recursive: true, force: true });
    }
  }
}

/**
 * Fills a fresh temporary directory with `fill`, then swaps it in place of `dir`.
 * If `fill` throws, the temporary directory is removed and `dir` is untouched.
 */
export async function replaceDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  await makeDirs(dirname(dir));
  await removeStaleTemps(dir);
  const tmp = tempSibling(dir);
  await mkdir(tmp).catch((err) => {
    throw fsError('cannot write here', dirname(resolve(dir)), err);
  });
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  // rename() cannot replace a non-empty directory: move the old one aside first.
  const old = tempSibling(dir, 'old');
  let moved = false;
  try {
    await rename(dir, old);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (moved) await rename(old, dir);
    throw err;
  }
  if (moved) await rm(old, { recursive: true, force: true });
}
