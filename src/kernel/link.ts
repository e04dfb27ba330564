// Linking kernel.elf with GNU ld and the arch module's linker script, cached by
// a key over the objects' keys, the script and ld's identity. The checked result
// (entry, PVH note, sizes) is stored next to the cached ELF.

import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { moveIntoPlace, tempSibling, writeFileAtomic } from './atomic.js';
import { sha256 } from './cache.js';
import { type CompiledObject, exists, readJson } from './compile.js';
import { touch } from './lru.js';
import { checkKernelElf, type KernelElfInfo } from './elf.js';
import { LDFLAGS } from './plan.js';
import { execTool } from './spawn.js';
import type { Tool } from './toolchain.js';

const LINK_KEY_VERSION = 'osvb-link-3'; // 2: objects linked under their source names; 3: platform tags

export interface LinkOptions {
  objects: readonly CompiledObject[];
  linkerScript: string;
  linker: Tool;
  /** <cache>/link */
  linkDir: string;
  env: NodeJS.ProcessEnv;
}

export interface LinkResult {
  key: string;
  /** Cached kernel.elf (read-only: copy it, do not modify). */
  path: string;
  info: KernelElfInfo;
  linked: boolean;
}

export async function linkKey(opts: LinkOptions): Promise<string> {
  let script: string;
  try {
    script = await readFile(opts.linkerScript, 'utf8');
  } catch {
    throw new BuildError('linker script not readable', { loc: { file: opts.linkerScript } });
  }
  return sha256(
    LINK_KEY_VERSION,
    opts.linker.id,
    LDFLAGS.join('\0'),
    opts.linkerScript,
    script,
    ...opts.objects.map((o) => `${o.key}${o.unit.platform ? `:${o.unit.platform}` : ''}`),
  );
}

/** ld's first error line, with cache object paths replaced by their sources. */
function linkError(stderr: string, objects: readonly CompiledObject[], exitCode: number): BuildError {
  let text = stderr;
  for (const o of objects) text = text.split(o.path).join(o.unit.display);
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !/: warning: /.test(l));
  const err = lines.find((l) => /undefined reference|error|cannot|multiple definition/i.test(l)) ?? lines[0];
  return new BuildError(`link failed: ${err?.replace(/^\S*ld: /, '') ?? `ld exited with ${exitCode}`}`);
}

/** The name an object is linked under. kernel.ld sends the sections of files named
 * "*-PLATFORM_<name>-*" to that platform's own page-aligned output sections. */
export function linkName(index: number, display: string, platform?: string): string {
  const tag = platform ? `PLATFORM_${platform}-` : '';
  return `${index}-${tag}${display.replaceAll('/', '_')}.o`;
}

export async function linkKernel(opts: LinkOptions): Promise<LinkResult> {
  const key = await linkKey(opts);
  const dir = join(opts.linkDir, key.slice(0, 2));
  const elfPath = join(dir, `${key}.elf`);
  const metaPath = join(dir, `${key}.json`);
  const meta = await readJson<{ key: string; info: KernelElfInfo }>(metaPath);
  if (meta?.key === key && (await exists(elfPath))) {
    await touch(elfPath); // used now: the LRU cap evicts others first
    return { key, path: elfPath, info: meta.info, linked: false };
  }
  await mkdir(dir, { recursive: true });
  const tmp = tempSibling(elfPath);
  // ld names an object without a file symbol (assembly) after the object file:
  // link through links named after the source, not the cache key (which holds
  // the checkout's path), so the same sources give the same kernel.elf anywhere.
  const named = `${tmp}.objs`;
  try {
    await mkdir(named);
    const inputs = await Promise.all(
      opts.objects.map(async (o, i) => {
        const link = join(named, linkName(i, o.unit.display, o.unit.platform));
        await symlink(o.path, link);
        return link;
      }),
    );
    const args = [...LDFLAGS, '-T', opts.linkerScript, '-o', tmp, ...inputs];
    const r = await execTool(opts.linker.path, args, { ...opts.env, LC_ALL: 'C' });
    if (r.exitCode !== 0) {
      const stderr = inputs.reduce(
        (t, link, i) => t.split(link).join(opts.objects[i]!.unit.display),
        r.stderr,
      );
      throw linkError(stderr, opts.objects, r.exitCode);
    }
    const info = checkKernelElf(await readFile(tmp), 'kernel.elf');
    await moveIntoPlace(tmp, elfPath);
    await writeFileAtomic(metaPath, `${JSON.stringify({ key, info })}\n`);
    return { key, path: elfPath, info, linked: true };
  } finally {
    await rm(tmp, { force: true });
    await rm(named, { recursive: true, force: true });
  }
}
