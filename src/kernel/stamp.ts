// The fast up-to-date check. After a successful build, osvb records the stat
// identity (size, mtime, inode) of every input it could have read — app.yaml,
// the source tree's modules/ and kconfig/, the tools, osvb's own code — and the
// image it produced. The next build of the same app.yaml first compares those
// stats; if none changed and the image is intact, it is done without loading
// the YAML parser, the Kconfig engine or running any tool. Any difference falls
// through to the full build, whose content-keyed caches decide what to redo.
//
// Only node: built-ins are imported here, so the fast path stays cheap.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const STAMP_VERSION = 2;

/** Environment variables that can change what a build produces. */
const ENV_KEYS = ['PATH', 'CC', 'LD', 'ARCH', 'SRCARCH', 'CROSS_COMPILE', 'HOSTCC', 'KCONFIG_CONFIG'];

/** Tools whose binaries are part of the inputs. */
const TOOLS = ['gcc', 'ld', 'qemu-system-x86_64'];

export interface StampRequest {
  appFile: string;
  srctree: string;
  outDir?: string;
  cacheDir: string;
  env: NodeJS.ProcessEnv;
}

interface Stamp {
  version: number;
  env: string;
  outDir: string;
  buildKey: string;
  manifestSize: number;
  kernelSize: number;
  /** [path, size, mtimeMs, ino] for files, [path, -1, mtimeMs, ino] for directories. */
  inputs: [string, number, number, number][];
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function stampPath(req: StampRequest): string {
  const id = hash(
    [resolve(req.appFile), resolve(req.srctree), req.outDir ? resolve(req.outDir) : ''].join('\0'),
  );
  return join(req.cacheDir, 'stamps', `${id.slice(0, 40)}.json`);
}

function envHash(env: NodeJS.ProcessEnv): string {
  return hash(
    Object.keys(env)
      .filter((k) => ENV_KEYS.includes(k) || k.startsWith('KCONFIG_'))
      .sort()
      .map((k) => `${k}=${env[k]}`)
      .join('\0'),
  );
}

/** The directory osvb's own compiled pipeline lives in (src/kernel or dist/kernel). */
function ownCodeDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  out.push(dir);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else out.push(p);
  }
}

function whichAll(env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return TOOLS.flatMap((t) => dirs.map((d) => join(d, t)));
}

async function inputPaths(req: StampRequest, extra: readonly string[]): Promise<string[]> {
  const paths: string[] = [resolve(req.appFile)];
  await walk(join(req.srctree, 'modules'), paths);
  await walk(join(req.srctree, 'kconfig'), paths);
  await walk(ownCodeDir(), paths);
  // Every PATH candidate of each tool: one appearing earlier on PATH changes which runs.
  paths.push(...whichAll(req.env));
  // A loop, not push(...extra): a files: tree can hold 100,000 paths.
  for (const p of extra) paths.push(p);
  return [...new Set(paths)];
}

async function statInput(p: string): Promise<[string, number, number, number]> {
  try {
    const st = await stat(p);
    return [p, st.isDirectory() ? -1 : st.size, st.mtimeMs, st.ino];
  } catch {
    return [p, -2, 0, 0]; // absent: appearing later is a change
  }
}

function statInputSync(p: string): [string, number, number, number] {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return [p, -2, 0, 0];
  return [p, st.isDirectory() ? -1 : st.size, st.mtimeMs, st.ino];
}

/**
 * Returns the image directory when nothing changed since the stamped build, else
 * undefined. Synchronous on purpose: a few hundred stat calls are cheaper inline
 * than through the thread pool, and this is the whole of an unchanged rebuild.
 */
export function upToDateImage(req: StampRequest): string | undefined {
  return checkStamp(req)?.outDir;
}

function checkStamp(req: StampRequest): { outDir: string; manifestText: string } | undefined {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath(req), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.version !== STAMP_VERSION || stamp.env !== envHash(req.env)) return undefined;
  // A file added under modules/ or kconfig/ changes its directory's mtime, which is an input too.
  for (const b of stamp.inputs) {
    const a = statInputSync(b[0]);
    if (a[1] !== b[1] || a[2] !== b[2] || a[3] !== b[3]) return undefined;
  }
  try {
    const manifestText = readFileSync(join(stamp.outDir, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(manifestText) as { buildKey?: string; kernel?: { file?: string } };
    if (manifest.buildKey !== stamp.buildKey || manifestText.length !== stamp.manifestSize) return undefined;
    const k = statSync(join(stamp.outDir, manifest.kernel?.file ?? 'kernel.elf'));
    if (k.size !== stamp.kernelSize) return undefined;
    return { outDir: stamp.outDir, manifestText };
  } catch {
    return undefined;
  }
}

/**
 * Records the inputs of a build that just succeeded. `started` is when the build
 * began: an input modified after it may not be what the build read, so no stamp
 * is written (the next build does the full check).
 */
export async function writeStamp(
  req: StampRequest,
  result: { outDir: string; buildKey: string; kernelFile: string },
  started: number,
  extraInputs: readonly string[] = [],
): Promise<void> {
  const inputs = await Promise.all((await inputPaths(req, extraInputs)).map(statInput));
  if (inputs.some(([, , mtime]) => mtime >= started)) return;
  const manifestText = await readFile(join(result.outDir, 'manifest.json'), 'utf8');
  const kernel = await stat(join(result.outDir, result.kernelFile));
  const stamp: Stamp = {
    version: STAMP_VERSION,
    env: envHash(req.env),
    outDir: result.outDir,
    buildKey: result.buildKey,
    manifestSize: manifestText.length,
    kernelSize: kernel.size,
    inputs,
  };
  const file = stampPath(req);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(stamp));
  await rename(tmp, file);
}

export interface QuickOptions {
  srctree: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
  cacheDir: string;
}

/** The image directory and its manifest text when the stamped build is still current. */
export function quickUpToDate(
  appFile: string,
  opts: QuickOptions,
): { outDir: string; manifestText: string } | undefined {
  const env = opts.env ?? process.env;
  return checkStamp({ appFile, srctree: opts.srctree, outDir: opts.outDir, cacheDir: opts.cacheDir, env });
}
