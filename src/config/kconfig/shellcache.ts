// Persisting $(shell,...) results between runs (opt-in: LoadOptions.shellCacheFile).
// The file is JSON, written atomically; a damaged or foreign file is ignored.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ShellCache } from './preprocess.js';

interface CacheFile {
  version: 1;
  entries: Record<string, string>;
}

export function loadShellCache(file: string, cache: ShellCache): void {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  if (typeof data !== 'object' || data === null) return;
  const d = data as Partial<CacheFile>;
  if (d.version !== 1 || typeof d.entries !== 'object' || d.entries === null) return;
  for (const [k, v] of Object.entries(d.entries)) {
    if (typeof v === 'string') cache.entries.set(k, v);
  }
}

export function saveShellCache(file: string, cache: ShellCache): void {
  const data: CacheFile = { version: 1, entries: Object.fromEntries(cache.entries) };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data));
  renameSync(tmp, file);
}
