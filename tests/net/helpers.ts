// Shared by the network tests: a free local port for -p, an HTTP GET retried
// while the guest boots, sha256 in hex, osvb's output captured (in-process
// runs), and `osvb run` as a child process (stopped like a user's Ctrl-C).

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { vi } from 'vitest';

const OSVB = resolve(import.meta.dirname, '../../bin/osvb.js');

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
}

/** fetch, retried while the guest boots. */
export async function get(url: string, deadline: number): Promise<Buffer> {
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(20_000) });
      return Buffer.from(await r.arrayBuffer());
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Everything osvb writes to stdout and stderr from now until restore(). */
export function captureOutput(): { text: () => string; restore: () => void } {
  let out = '';
  const capture = (s: unknown) => {
    out += String(s);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return { text: () => out.replaceAll('\r', ''), restore: () => vi.restoreAllMocks() };
}

export interface Guest {
  child: ChildProcess;
  /** Everything osvb printed so far (the guest's stdout and stderr, kernel warnings). */
  output(): string;
  /** SIGINT (a user's Ctrl-C), SIGKILL after `graceMs`; resolves with osvb's exit status. */
  stop(graceMs?: number): Promise<number | null>;
  /** Resolves when osvb exits by itself. */
  exited: Promise<number | null>;
}

/** `node bin/osvb.js ARGS...` as a child process, output collected. */
export function startOsvb(args: string[]): Guest {
  const child = spawn(process.execPath, [OSVB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b) => (out += String(b)));
  child.stderr?.on('data', (b) => (out += String(b)));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return {
    child,
    exited,
    output: () => out.replaceAll('\r', ''),
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null) child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
