// Where osvb keeps state shared between builds: ${XDG_CACHE_HOME:-~/.cache}/osvb.

import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg?.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache');
  return join(base, 'osvb');
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  return sha256Of(parts);
}

/** sha256 over a list of any length (a spread of 100,000 parts would overflow the stack). */
export function sha256Of(parts: Iterable<string | Uint8Array>): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    // A separator so that ("ab","c") and ("a","bc") hash differently.
    h.update('\0');
  }
  return h.digest('hex');
}
