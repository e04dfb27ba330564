// Runs $(shell,...) commands in the background while the parser goes on.
// Commands met inside expressions (`depends on $(cc-option,...)`, the bulk of
// Linux's calls) do not need their output until the whole tree is parsed, so
// they are handed to one helper process (`xargs -0 -P N`) that runs them
// concurrently; the parser gets a placeholder marker and patches it later.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { ShellCache } from './preprocess.js';

export const MARK = '\u0001';
const MARKER_RE = new RegExp(`${MARK}(\\d+)${MARK}`, 'g');

export function hasMarker(s: string): boolean {
  return s.includes(MARK);
}

interface Job {
  marker: string;
  cmd: string;
  /** Sent to the helper (no markers inside); otherwise run after the others. */
  sent: boolean;
}

// Each job: "<id>\0<command>\0"; the helper writes the output to $dir/<id>.
const HELPER = `exec xargs -0 -n 2 -P "$1" sh -c 'exec sh -c "$2" </dev/null >"$0/$1"' "$2"`;

export class AsyncShell {
  private child: ChildProcess | null = null;
  private dir = '';
  private failed = false;
  private readonly byCmd = new Map<string, Job>();
  private readonly jobs: Job[] = [];

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly cwd: string,
    private readonly cache: ShellCache,
  ) {}

  /** Starts `cmd` (or reuses a job for it) and returns its marker. */
  defer(cmd: string): string {
    const known = this.byCmd.get(cmd);
    if (known) return known.marker;
    const job: Job = { marker: `${MARK}${this.jobs.length}${MARK}`, cmd, sent: false };
    this.jobs.push(job);
    this.byCmd.set(cmd, job);
    if (!hasMarker(cmd) && !cmd.includes('\0') && this.start()) {
      this.child!.stdin!.write(`${this.jobs.length - 1}\0${cmd}\0`);
      job.sent = true;
    }
    return job.marker;
  }

  private start(): boolean {
    if (this.child) return true;
    if (this.failed) return false;
    try {
      this.dir = mkdtempSync(path.join(tmpdir(), 'osvb-shell-'));
      const n = String(Math.max(2, availableParallelism()));
      this.child = spawn('/bin/sh', ['-c', HELPER, 'osvb-shell', n, this.dir], {
        cwd: this.cwd,
        env: this.env as NodeJS.ProcessEnv,
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      this.child.on('error', () => {
        this.failed = true;
      });
      // A helper that died makes writes fail with EPIPE; finish() then runs what is left itself.
      this.child.stdin!.on('error', () => {
        this.failed = true;
      });
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  get pending(): boolean {
    return this.jobs.length > 0;
  }

  /** Waits for every job; returns marker -> output, and fills the shell cache. */
  async finish(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const child = this.child;
    if (child) {
      await new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.once('error', () => resolve());
        child.stdin!.end();
      });
    }
    const clean = (raw: string): string => raw.slice(0, 4095).replace(/\n+$/, '').replace(/\n/g, ' ');
    const subst = (s: string): string => s.replace(MARKER_RE, (m) => out.get(m) ?? '');
    this.jobs.forEach((job, id) => {
      let result: string | undefined;
      if (job.sent && !this.failed) {
        try {
          result = clean(readFileSync(path.join(this.dir, String(id)), 'latin1'));
          this.cache.entries.set(this.cache.key(job.cmd), result);
          this.cache.dirty = true;
        } catch {
          result = undefined;
        }
      }
      // Unsent (it used another job's output) or lost: run it now, synchronously.
      out.set(job.marker, result ?? this.cache.run(subst(job.cmd)));
    });
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    return out;
  }
}

/** Replaces every marker in `s` by its job's output. */
export function substitute(s: string, results: Map<string, string>): string {
  return s.replace(MARKER_RE, (m) => results.get(m) ?? '');
}

// Runs one command at a time for callers that need the output now. A small
// shell process does the forking: forking node itself costs ~10 ms of CPU per
// command once the heap is large, a shell costs well under one.
const SYNC_HELPER = `while IFS= read -r id && IFS= read -r cmd; do sh -c "$cmd" </dev/null >"$1/$id"; : >"$1/$id.done"; done`;

export class SyncShellHelper {
  private child: ChildProcess | null = null;
  private dir = '';
  private next = 0;
  private broken = false;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly cwd: string,
  ) {}

  /** The raw output of `cmd`, or undefined when the helper cannot run it (the caller runs it itself). */
  run(cmd: string): string | undefined {
    if (this.broken || cmd.includes('\n') || cmd.includes('\0')) return undefined;
    if (!this.child && !this.start()) return undefined;
    const child = this.child!;
    const id = this.next++;
    child.stdin!.write(`${id}\n${cmd}\n`);
    if (child.stdin!.writableLength > 0) {
      // Not written through at once: waiting here would never see it run.
      this.broken = true;
      return undefined;
    }
    const done = path.join(this.dir, `${id}.done`);
    for (let i = 1; !existsSync(done); i++) {
      Atomics.wait(this.sleeper, 0, 0, i < 100 ? 0.2 : 2);
      if (i % 500 === 0 && !this.alive()) {
        this.broken = true;
        return undefined;
      }
    }
    return readFileSync(path.join(this.dir, String(id)), 'latin1');
  }

  private alive(): boolean {
    try {
      process.kill(this.child!.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  private start(): boolean {
    try {
      this.dir = mkdtempSync(path.join(tmpdir(), 'osvb-shell-'));
      this.child = spawn('/bin/sh', ['-c', SYNC_HELPER, 'osvb-shell', this.dir], {
        cwd: this.cwd,
        env: this.env as NodeJS.ProcessEnv,
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      this.child.on('error', () => {
        this.broken = true;
      });
      this.child.stdin!.on('error', () => {
        this.broken = true;
      });
      if (this.child.pid === undefined) throw new Error('no pid');
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  close(): void {
    if (this.child) {
      this.child.stdin!.end();
      this.child.unref();
      this.child = null;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }
}
