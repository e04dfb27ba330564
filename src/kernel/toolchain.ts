// Host tools: finding them on PATH, checking they suit an x86-64 kernel build,
// and their versions. Versions are cached by the binary's identity (path, size,
// mtime) so an unchanged rebuild spawns no process at all.

import { constants } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ToolMissingError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { sha256 } from './cache.js';
import { runTool } from './spawn.js';

/** The Debian package that provides each tool osvb runs. */
export const TOOL_PACKAGES: Record<string, string> = {
  gcc: 'gcc',
  ld: 'binutils',
  nm: 'binutils',
  addr2line: 'binutils',
  strip: 'binutils',
  'qemu-system-x86_64': 'qemu-system-x86',
};

export interface ToolEnv {
  /** Environment used to look tools up (PATH) and run them. */
  env: NodeJS.ProcessEnv;
  /** Cache directory (for the tool version cache). */
  cacheDir: string;
}

export interface Tool {
  name: string;
  /** Absolute path of the binary found on PATH. */
  path: string;
  /** One-line version string, e.g. "gcc 12.2.0". */
  version: string;
  /** Identity used in cache keys: real path, size, mtime and version. */
  id: string;
}

export interface Compiler extends Tool {
  /** gcc -print-file-name=include, for -isystem. */
  includeDir: string;
}

/** Finds `name` on the PATH of `env`; throws ToolMissingError naming the package. */
export async function findTool(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      const st = await stat(candidate);
      if (st.isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  throw new ToolMissingError(name, TOOL_PACKAGES[name], 'not on PATH');
}

interface CachedProbe {
  path: string;
  size: number;
  mtimeMs: number;
  data: Record<string, string>;
}

async function readCachedProbe(file: string): Promise<CachedProbe | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as CachedProbe) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `probe` for the binary at `path` unless a cached answer exists for the
 * same file (real path, size, mtime). Returns the probe's data and the identity.
 */
async function probeCached(
  path: string,
  te: ToolEnv,
  probe: (path: string) => Promise<Record<string, string>>,
): Promise<{ data: Record<string, string>; id: string }> {
  const real = await realpath(path);
  const st = await stat(real);
  // One file per binary, so concurrent probes of different tools never race.
  const file = join(te.cacheDir, 'tools', `${sha256(real).slice(0, 32)}.json`);
  const hit = await readCachedProbe(file);
  const id = `${real}:${st.size}:${Math.trunc(st.mtimeMs)}`;
  if (hit && hit.path === real && hit.size === st.size && hit.mtimeMs === Math.trunc(st.mtimeMs)) {
    return { data: hit.data, id: `${id}:${hit.data.version ?? ''}` };
  }
  const data = await probe(path);
  const entry: CachedProbe = { path: real, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), data };
  try {
    await writeFileAtomic(file, `${JSON.stringify(entry)}\n`);
  } catch {
    // A read-only cache only costs speed.
  }
  return { data, id: `${id}:${data.version ?? ''}` };
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]?.trim() ?? '';
}

export async function findCompiler(te: ToolEnv): Promise<Compiler> {
  const path = await findTool('gcc', te.env);
  const { data, id } = await probeCached(path, te, async (p) => {
    const [machine, version, include] = await Promise.all([
      runTool(p, ['-dumpmachine'], te.env),
      runTool(p, ['-dumpfullversion'], te.env),
      runTool(p, ['-print-file-name=include'], te.env),
    ]);
    return { machine: machine.trim(), version: `gcc ${version.trim()}`, includeDir: include.trim() };
  });
  if (!data.machine?.startsWith('x86_64-')) {
    throw new ToolMissingError('gcc', 'gcc', `${path} targets ${data.machine}, not x86_64`);
  }
  return { name: 'gcc', path, version: data.version ?? 'gcc', id, includeDir: data.includeDir ?? '' };
}

export async function findLinker(te: ToolEnv): Promise<Tool> {
  const path = await findTool('ld', te.env);
  const { data, id } = await probeCached(path, te, async (p) => {
    const out = await runTool(p, ['-V'], te.env);
    return { version: firstLine(out), x86_64: String(/\belf_x86_64\b/.test(out)) };
  });
  if (data.x86_64 !== 'true') {
    throw new ToolMissingError('ld', 'binutils', `${path} cannot link elf_x86_64`);
  }
  return { name: 'ld', path, version: data.version ?? 'ld', id };
}

export async function findBinutil(name: 'nm' | 'addr2line' | 'strip', te: ToolEnv): Promise<Tool> {
  const path = await findTool(name, te.env);
  const { data, id } = await probeCached(path, te, async (p) => ({
    version: firstLine(await runTool(p, ['--version'], te.env)),
  }));
  return { name, path, version: data.version ?? name, id };
}

export const QEMU_MIN_MAJOR = 7;

export interface Qemu extends Tool {
  major: number;
}

export async function findQemu(te: ToolEnv): Promise<Qemu> {
  const name = 'qemu-system-x86_64';
  const path = await findTool(name, te.env);
  const { data, id } = await probeCached(path, te, async (p) => ({
    version: firstLine(await runTool(p, ['--version'], te.env)),
  }));
  const version = data.version ?? '';
  const m = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  const major = m ? Number(m[1]) : 0;
  if (major < QEMU_MIN_MAJOR) {
    throw new ToolMissingError(
      name,
      TOOL_PACKAGES[name],
      `${path} is "${version || 'unknown version'}", need ${QEMU_MIN_MAJOR} or later (bookworm-backports)`,
    );
  }
  return { name, path, version: m ? `QEMU ${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}` : version, id, major };
}
