// Test helpers: build a Kconfig tree in a temporary directory and load it.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import {
  type Diagnostic,
  type Kconfig,
  type LoadOptions,
  loadKconfig,
} from '../../src/config/kconfig/index.js';

// Every tree of a test file lives under one directory, removed after the file.
let root: string | undefined;
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

export function makeTree(files: Record<string, string>): string {
  if (!root) {
    root = mkdtempSync(path.join(tmpdir(), 'osvb-kconfig-'));
  }
  const dir = mkdtempSync(path.join(root, 't-'));
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export interface Loaded {
  kc: Kconfig;
  diags: Diagnostic[];
  dir: string;
}

export async function load(
  files: Record<string, string> | string,
  opts: Partial<LoadOptions> = {},
): Promise<Loaded> {
  const dir = makeTree(typeof files === 'string' ? { Kconfig: files } : files);
  const diags: Diagnostic[] = [];
  const kc = await loadKconfig({
    srctree: dir,
    env: { PATH: process.env.PATH },
    cwd: dir,
    onDiagnostic: (d) => diags.push(d),
    ...opts,
  });
  return { kc, diags, dir };
}

/** Resolves olddefconfig with an optional .config text and returns the resolved config. */
export async function resolve(
  kconfig: string,
  base?: string,
  target: 'olddefconfig' | 'defconfig' = 'olddefconfig',
) {
  const { kc, diags } = await load(kconfig);
  const r = kc.resolve({
    target,
    base: base === undefined ? undefined : { text: base, file: 'test.config' },
  });
  return { r, diags };
}

/** The symbol lines of a .config (no header, no menu comments, no blank lines). */
export function symbolLines(dotconfig: string): string[] {
  return dotconfig.split('\n').filter((l) => l.startsWith('CONFIG_') || / is not set$/.test(l));
}
