// Per-run files (the COM2 exit record) live in one private directory per run,
// under one parent per user: $TMPDIR/osvb-runs-UID/PID-RANDOM. A run removes
// its directory when it ends; one killed with SIGKILL cannot, so every run
// first removes the directories of processes that no longer exist.

import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunError } from '../errors.js';

export function runsRoot(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(tmpdir(), `osvb-runs-${uid}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the run directories whose osvb process is gone. */
export function removeStaleRuns(root = runsRoot()): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A fresh private directory for this run's files (created, mode 0700). */
export function newRunDir(root = runsRoot()): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    // Someone else's directory in a shared /tmp must not receive our records.
    throw new RunError(`${root} is not a private directory of this user`, {
      hint: 'remove it, or set TMPDIR to a private directory',
    });
  }
  removeStaleRuns(root);
  const dir = join(root, `${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}
