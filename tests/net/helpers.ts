// Shared by the network tests: a free local port for -p, an HTTP GET retried
// while the guest boots, sha256 in hex, and osvb's output captured.

import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { vi } from 'vitest';

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

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

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
