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
  id: number;
  cmd: string;
  /** waiting: uses other jobs' output; sent: handed to the helper; done: `result` is set. */
  state: 'waiting' | 'sent' | 'done';
  result?: string;
}

// Each job: "<id>\0<command>\0". The helper writes the output to $dir/<id>,
// then creates $dir/<id>.done and prints the id (for waiters either way).
const HELPER = `exec xargs -0 -n 2 -P "$1" sh -c 'sh -c "$2" </dev/null >"$0/$1"; : >"$0/$1.done"; echo "$1"' "$2"`;

const clean = (raw: string): string => raw.slice(0, 4095).replace(/\n+$/, '').replace(/\n/g, ' ');

export class AsyncShell {
  private child: ChildProcess | null = null;
  private dir = '';
  private failed = false;
  private readonly byCmd = new Map<string, Job>();
  private readonly jobs: Job[] = [];
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private onDone: (() => void) | null = null;

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly cwd: string,
    private readonly cache: ShellCache,
  ) {}

  /** Starts `cmd` (or reuses a job for it) and returns its marker. */
  defer(cmd: string): string {
    const known = this.byCmd.get(cmd);
    if (known) return known.marker;
    const id = this.jobs.length;
    const job: Job = { marker: `${MARK}${id}${MARK}`, id, cmd, state: 'waiting' };
    this.jobs.push(job);
    this.byCmd.set(cmd, job);
    if (!hasMarker(cmd)) this.send(job);
    return job.marker;
  }

  private send(job: Job): void {
    if (!job.cmd.includes('\0') && this.start()) {
      this.child!.stdin!.write(`${job.id}\0${job.cmd}\0`);
      job.state = 'sent';
    }
  }

  private start(): boolean {
    if (this.child) return !this.failed;
    if (this.failed) return false;
    try {
      this.dir = mkdtempSync(path.join(tmpdir(), 'osvb-shell-'));
      const n = String(Math.max(2, availableParallelism()));
      const child = spawn('/bin/sh', ['-c', HELPER, 'osvb-shell', n, this.dir], {
        cwd: this.cwd,
        env: this.env as NodeJS.ProcessEnv,
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      this.child = child;
      child.on('error', () => {
        this.failed = true;
        this.onDone?.();
      });
      // A helper that died makes writes fail with EPIPE; its jobs are then run here.
      child.stdin!.on('error', () => {
        this.failed = true;
      });
      let buf = '';
      child.stdout!.setEncoding('latin1');
      child.stdout!.on('data', (d: string) => {
        buf += d;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          this.collect(Number(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
        this.onDone?.();
      });
      child.on('close', () => {
        this.failed ||= this.jobs.some((j) => j.state === 'sent' && !existsSync(this.donePath(j)));
        this.onDone?.();
      });
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  private donePath(job: Job): string {
    return path.join(this.dir, `${job.id}.done`);
  }

  /** Takes a sent job's output once the helper says it is done. */
  private collect(id: number): void {
    const job = this.jobs[id];
    if (job?.state !== 'sent') return;
    try {
      job.result = clean(readFileSync(path.join(this.dir, String(id)), 'latin1'));
    } catch {
      return;
    }
    job.state = 'done';
    this.cache.entries.set(this.cache.key(job.cmd), job.result);
    this.cache.dirty = true;
  }

  /** Runs a job here and now (its inputs first). */
  private runHere(job: Job): string {
    const cmd = job.cmd.replace(MARKER_RE, (m) => this.waitSync(m));
    job.result = this.cache.run(cmd);
    job.state = 'done';
    return job.result;
  }

  /** The output of a marker's job, waiting for it if needed (for values needed during parsing). */
  waitSync(marker: string): string {
    const job = this.jobs[Number(marker.slice(1, -1))];
    if (!job) return '';
    if (job.state === 'done') return job.result!;
    // Still queued in this process (the pipe was full): it cannot complete while we wait.
    if (job.state === 'waiting' || this.failed || (this.child?.stdin?.writableLength ?? 0) > 0) {
      return this.runHere(job);
    }
    const done = this.donePath(job);
    for (let i = 1; !existsSync(done); i++) {
      Atomics.wait(this.sleeper, 0, 0, i < 100 ? 0.2 : 2);
      if (i % 500 === 0 && !this.alive()) return this.runHere(job);
    }
    this.collect(job.id);
    return job.result ?? this.runHere(job);
  }

  /** Replaces every marker in `s`, waiting for the jobs. */
  resolveSync(s: string): string {
    return hasMarker(s) ? s.replace(MARKER_RE, (m) => this.waitSync(m)) : s;
  }

  private alive(): boolean {
    try {
      process.kill(this.child!.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  get pending(): boolean {
    return this.jobs.length > 0;
  }

  /** Waits for every job (dispatching those that needed others' output); returns marker -> output. */
  async finish(): Promise<Map<string, string>> {
    const ready = (j: Job): boolean =>
      [...j.cmd.matchAll(MARKER_RE)].every((m) => this.jobs[Number(m[1])]?.state === 'done');
    for (;;) {
      if (this.failed) break;
      for (const j of this.jobs) {
        if (j.state === 'waiting' && ready(j)) {
          j.cmd = j.cmd.replace(MARKER_RE, (m) => this.jobs[Number(m.slice(1, -1))]!.result!);
          const known = this.byCmd.get(j.cmd);
          if (known && known !== j && known.state === 'done') {
            j.result = known.result;
            j.state = 'done';
            continue;
          }
          const cached = this.cache.peek(j.cmd);
          if (cached !== undefined) {
            j.result = cached;
            j.state = 'done';
            continue;
          }
          this.send(j);
        }
      }
      for (const j of this.jobs) if (j.state === 'sent' && existsSync(this.donePath(j))) this.collect(j.id);
      const busy = this.jobs.some((j) => j.state === 'sent');
      if (!busy) break;
      await new Promise<void>((resolve) => {
        this.onDone = resolve;
      });
      this.onDone = null;
    }
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('close', () => resolve());
        child.stdin!.end();
      });
    }
    const out = new Map<string, string>();
    for (const j of this.jobs) out.set(j.marker, j.state === 'done' ? j.result! : this.runHere(j));
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
