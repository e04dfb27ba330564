// Compiling with the object cache. An object's key is a hash of what went into
// it: compiler identity, flags, source path and content, the path, content and
// reachability of every header the previous compile of this source read (from
// gcc's depfile), and the values of only those CONFIG_ symbols that the source
// and its headers mention. So one changed symbol recompiles only the objects
// whose text names it, and an unchanged rebuild runs no compiler at all.
//
// Layout under <cache>/objects: <key>.o + <key>.json (meta) and
// deps/<unit id>.json (header list of the last compile of a source + flags).

import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { BuildError } from '../errors.js';
import { moveIntoPlace, removeStaleTemps, tempSibling, writeFileAtomic } from './atomic.js';
import { sha256 } from './cache.js';
import type { BuildConfig } from './config.js';
import { objectSizes, type SectionSizes } from './elf.js';
import { baseCflags, type BuildPlan, type CompileUnit } from './plan.js';
import { execTool } from './spawn.js';
import type { Compiler } from './toolchain.js';

const KEY_VERSION = 'osvb-object-2'; // 2: paths in debug info relative (reproducible builds)
const CONFIG_TOKEN_RE = /\bCONFIG_[A-Za-z0-9_]+/g;

export interface CompileOptions {
  plan: BuildPlan;
  config: BuildConfig;
  compiler: Compiler;
  /** <cache>/objects */
  objectDir: string;
  /** Absolute path of the generated config header (force-included). */
  configHeaderPath: string;
  env: NodeJS.ProcessEnv;
  jobs?: number;
  /** Called after each unit finished (hit or compiled). */
  onUnit?: (obj: CompiledObject) => void;
  /** Compiler warnings, as gcc printed them. */
  onWarning?: (text: string) => void;
}

export interface CompiledObject {
  unit: CompileUnit;
  key: string;
  path: string;
  /** false when the object came from the cache. */
  compiled: boolean;
  sizes: SectionSizes;
}

interface ObjectMeta {
  key: string;
  source: string;
  headers: string[];
  symbols: string[];
  sizes: SectionSizes;
}

/** Flags that identify a unit's compile, without per-build paths (include dirs, config header). */
export function unitFlags(unit: CompileUnit, compiler: Compiler): string[] {
  return [
    ...baseCflags(compiler.includeDir),
    ...unit.cflags,
    ...(unit.lang === 'asm' ? ['-D__ASSEMBLY__'] : []),
  ];
}

/**
 * Paths as the object records them (debug info, __FILE__): relative to the
 * source tree, and the generated config header as osvb/config.h, so that the
 * same sources give the same kernel.elf in any checkout and any cache.
 */
function reproducibleFlags(opts: CompileOptions): string[] {
  const genDir = dirname(dirname(opts.configHeaderPath));
  // The last matching map wins: the tree itself (the compile directory) is ".", paths below it relative.
  return [
    `-ffile-prefix-map=${opts.plan.srctree}=.`,
    `-ffile-prefix-map=${opts.plan.srctree}/=`,
    `-ffile-prefix-map=${genDir}/=`,
  ];
}

/** Every CONFIG_ symbol named in `text`, without the prefix. */
export function configTokens(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(CONFIG_TOKEN_RE)) {
    const name = m[0].slice('CONFIG_'.length);
    names.add(name);
    // IS_ENABLED-style macros paste _MODULE onto a name; the base symbol decides both.
    if (name.endsWith('_MODULE')) names.add(name.slice(0, -'_MODULE'.length));
  }
  return names;
}

/** Parses a make-style depfile into its prerequisites. */
export function parseDepfile(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const colon = joined.search(/:(\s|$)/);
  const rest = colon >= 0 ? joined.slice(colon + 1) : '';
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\' && rest[i + 1] === ' ') {
      cur += ' ';
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (cur) out.push(cur);
      cur = '';
    } else if (c === '$' && rest[i + 1] === '$') {
      cur += '$';
      i++;
    } else {
      cur += c;
    }
  }
  if (cur) out.push(cur);
  return out;
}

interface FileInfo {
  hash: string;
  tokens: Set<string>;
}

/** Reads and hashes files once per build; missing files are recorded as such. */
class FileHasher {
  private readonly memo = new Map<string, Promise<FileInfo | undefined>>();
  get(path: string): Promise<FileInfo | undefined> {
    let p = this.memo.get(path);
    if (!p) {
      p = readFile(path, 'latin1').then(
        (text) => ({ hash: sha256(text), tokens: configTokens(text) }),
        () => undefined,
      );
      this.memo.set(path, p);
    }
    return p;
  }
}

function under(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

interface KeyResult {
  key: string;
  symbols: string[];
}

async function computeKey(
  unit: CompileUnit,
  flags: readonly string[],
  headers: readonly string[],
  opts: CompileOptions,
  files: FileHasher,
): Promise<KeyResult | undefined> {
  const src = await files.get(unit.source);
  if (!src) throw new BuildError('source file disappeared', { loc: { file: unit.source } });
  const parts: string[] = [KEY_VERSION, opts.compiler.id, flags.join('\0'), unit.source, src.hash];
  const tokens = new Set(src.tokens);
  const roots = [...opts.plan.includeDirs, dirname(unit.source)];
  for (const h of headers) {
    // The compiler's own headers are covered by the compiler identity.
    if (under(h, opts.compiler.includeDir)) continue;
    const info = await files.get(h);
    if (!info) return undefined; // a header went away: must recompile
    // A header is only usable if its include root is still on the path.
    const root = roots.find((r) => under(h, r)) ?? '(other)';
    parts.push(h, root, info.hash);
    for (const t of info.tokens) tokens.add(t);
  }
  const symbols = [...tokens].sort();
  for (const s of symbols) parts.push(`${s}=${opts.config.get(s) ?? '(undefined)'}`);
  return { key: sha256(...parts), symbols };
}

function unitId(unit: CompileUnit, flags: readonly string[]): string {
  return sha256(unit.source, ...flags);
}

function objectPaths(objectDir: string, key: string): { obj: string; meta: string } {
  const dir = join(objectDir, key.slice(0, 2));
  return { obj: join(dir, `${key}.o`), meta: join(dir, `${key}.json`) };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** First "file:line:col: error: msg" line of gcc output, as a BuildError. */
export function compileError(unit: CompileUnit, stderr: string, exitCode: number): BuildError {
  const lines = stderr.split('\n');
  for (const l of lines) {
    const m = /^(.+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/.exec(l);
    if (m) {
      return new BuildError(m[4]!, {
        loc: { file: m[1]!, line: Number(m[2]), column: m[3] ? Number(m[3]) : undefined },
      });
    }
  }
  const first = lines.find((l) => l.trim() !== '') ?? `gcc exited with status ${exitCode}`;
  return new BuildError(`compiling failed: ${first}`, { loc: { file: unit.source } });
}

async function compileOne(
  unit: CompileUnit,
  flags: readonly string[],
  opts: CompileOptions,
  files: FileHasher,
): Promise<CompiledObject> {
  const id = unitId(unit, flags);
  const depsRecord = join(opts.objectDir, 'deps', `${id}.json`);
  const prev = await readJson<{ headers: string[] }>(depsRecord);
  if (prev && Array.isArray(prev.headers)) {
    const k = await computeKey(unit, flags, prev.headers, opts, files);
    if (k) {
      const p = objectPaths(opts.objectDir, k.key);
      const meta = await readJson<ObjectMeta>(p.meta);
      if (meta && meta.key === k.key) {
        if (await exists(p.obj)) return { unit, key: k.key, path: p.obj, compiled: false, sizes: meta.sizes };
      }
    }
  }

  const tmpDir = join(opts.objectDir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmpObj = tempSibling(join(tmpDir, 'unit.o'));
  const tmpDep = `${tmpObj}.d`;
  const args = [
    ...flags,
    ...reproducibleFlags(opts),
    ...opts.plan.includeDirs.flatMap((d) => ['-I', d]),
    '-include',
    opts.configHeaderPath,
    '-MD',
    '-MF',
    tmpDep,
    '-c',
    unit.source,
    '-o',
    tmpObj,
  ];
  try {
    // LC_ALL=C: plain ASCII quotes in diagnostics, whatever the user's locale.
    // cwd: the compile directory recorded in the debug info is the (mapped) source tree.
    const r = await execTool(opts.compiler.path, args, { ...opts.env, LC_ALL: 'C' }, opts.plan.srctree);
    if (r.exitCode !== 0) throw compileError(unit, r.stderr, r.exitCode);
    if (r.stderr.trim() !== '') opts.onWarning?.(r.stderr);
    const deps = parseDepfile(await readFile(tmpDep, 'utf8'));
    const headers = deps.filter((d) => d !== unit.source && d !== opts.configHeaderPath);
    const k = await computeKey(unit, flags, headers, opts, files);
    if (!k)
      throw new BuildError('a header changed during the compile; run the build again', {
        loc: { file: unit.source },
      });
    const buf = await readFile(tmpObj);
    const sizes = objectSizes(buf, unit.source);
    const p = objectPaths(opts.objectDir, k.key);
    await moveIntoPlace(tmpObj, p.obj);
    const meta: ObjectMeta = { key: k.key, source: unit.source, headers, symbols: k.symbols, sizes };
    // Meta last: an object without meta is never trusted.
    await writeFileAtomic(p.meta, `${JSON.stringify(meta)}\n`);
    await writeFileAtomic(depsRecord, `${JSON.stringify({ headers })}\n`);
    return { unit, key: k.key, path: p.obj, compiled: true, sizes };
  } finally {
    await rm(tmpObj, { force: true });
    await rm(tmpDep, { force: true });
  }
}

/** Compiles every unit of the plan (in parallel), reusing cached objects. Results keep plan order. */
export async function compileAll(opts: CompileOptions): Promise<CompiledObject[]> {
  const units = opts.plan.units;
  const jobs = Math.max(1, opts.jobs ?? availableParallelism());
  const files = new FileHasher();
  await removeStaleTemps(join(opts.objectDir, 'tmp', 'unit.o'));
  const results: CompiledObject[] = new Array(units.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < units.length) {
      const i = next++;
      const unit = units[i]!;
      try {
        const obj = await compileOne(unit, unitFlags(unit, opts.compiler), opts, files);
        results[i] = obj;
        opts.onUnit?.(obj);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, units.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}
