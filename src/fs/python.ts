// The host's CPython for `app.runtime: python`: the interpreter, its standard
// library without tests, GUI/terminal-only pieces and build-time files, the
// extension modules in lib-dynload (whose libraries the caller resolves), and
// fresh bytecode caches rewritten so they stay valid in the guest (see pyc.ts).

import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InputError } from '../errors.js';
import { type HostEntry, mapLimit, walkHostDir } from './hostwalk.js';
import { uncheckedHashPatch } from './pyc.js';
import type { ContentPatch, RootfsTree } from './tree.js';

export interface PythonInstall {
  /** The interpreter as named (e.g. /usr/bin/python3); the guest runs it by this path. */
  binary: string;
  version: string;
  major: number;
  minor: number;
  /** The standard library directory, e.g. /usr/lib/python3.11. */
  stdlib: string;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** Top-level stdlib entries left out: tests, GUI, pip bootstrap, 2to3, help() topics, the static libpython. */
export const STDLIB_EXCLUDED_TOP = new Set([
  'test',
  'idlelib',
  'tkinter',
  'turtledemo',
  'ensurepip',
  'lib2to3',
  'pydoc_data',
  'site-packages',
  'dist-packages',
]);
/** Directory names left out wherever they appear. */
export const STDLIB_EXCLUDED_DIRS = new Set(['test', 'tests', 'idle_test']);
/**
 * Extension modules left out: CPython's own test modules, and modules that
 * cannot work in a guest without a terminal database, NIS or a sound device
 * (readline and curses, nis, ossaudiodev), plus _dbm (1.8 MB of Berkeley DB;
 * the dbm package falls back to dbm.dumb).
 */
export const EXCLUDED_EXTENSIONS =
  /^(_test\w*|_xxtestfuzz|_xxsubinterpreters|xxlimited\w*|_ctypes_test|_curses|_curses_panel|readline|nis|ossaudiodev|_dbm)\./;

export async function findPython(binary: string = DEFAULT_PYTHON): Promise<PythonInstall> {
  let real: string;
  try {
    real = await realpath(binary);
  } catch {
    throw new InputError('python interpreter not found', {
      loc: { file: binary },
      hint: 'install it: apt-get install python3',
    });
  }
  const prefix = posix.dirname(posix.dirname(real));
  let m = /^python(\d+)\.(\d+)$/.exec(posix.basename(real));
  if (!m) {
    // A binary not named pythonX.Y: take the only pythonX.Y stdlib under its prefix.
    const names = (await readdir(posix.join(prefix, 'lib')).catch(() => [] as string[])).filter((n) =>
      /^python\d+\.\d+$/.test(n),
    );
    if (names.length !== 1) {
      throw new InputError(`cannot tell the Python version (found ${names.length} stdlib directories)`, {
        loc: { file: binary },
      });
    }
    m = /^python(\d+)\.(\d+)$/.exec(names[0]!);
  }
  const major = Number(m![1]);
  const minor = Number(m![2]);
  const version = `${major}.${minor}`;
  const stdlib = posix.join(prefix, 'lib', `python${version}`);
  const landmark = await stat(posix.join(stdlib, 'os.py')).catch(() => undefined);
  if (!landmark?.isFile()) {
    throw new InputError(`standard library not found at ${stdlib}`, {
      loc: { file: binary },
      hint: `install it: apt-get install libpython${version}-stdlib`,
    });
  }
  return { binary, version, major, minor, stdlib };
}

export interface StdlibResult {
  /** Host paths of the extension modules taken (lib-dynload/*.so): the caller resolves their libraries. */
  extensionModules: string[];
  sourceFiles: number;
  pycFiles: number;
  /** .pyc files on the host that no longer match their source (left out; Python compiles those at run time). */
  stalePycs: number;
}

export function stdlibSkip(rel: string, isDir: boolean): boolean {
  const parts = rel.split('/');
  if (parts.length === 1 && (STDLIB_EXCLUDED_TOP.has(rel) || /^config-/.test(rel))) return true;
  if (isDir && STDLIB_EXCLUDED_DIRS.has(parts[parts.length - 1]!)) return true;
  if (parts.length === 2 && parts[0] === 'lib-dynload' && EXCLUDED_EXTENSIONS.test(parts[1]!)) return true;
  return false;
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Adds the standard library to the tree at its host path. With `precompiled`,
 * each module whose host .pyc is fresh also gets that .pyc, as unchecked-hash.
 */
export async function addPythonStdlib(
  tree: RootfsTree,
  py: PythonInstall,
  opts: { precompiled: boolean; onWarning?: (m: string) => void },
): Promise<StdlibResult> {
  const origin = `python ${py.version} standard library`;
  const entries = await walkHostDir(py.stdlib, stdlibSkip);
  const tag = `cpython-${py.major}${py.minor}`;
  const pycs = new Map<string, HostEntry>();
  for (const e of entries) if (e.kind === 'file' && e.rel.includes('__pycache__/')) pycs.set(e.rel, e);

  const result: StdlibResult = { extensionModules: [], sourceFiles: 0, pycFiles: 0, stalePycs: 0 };
  const guest = (rel: string): string => posix.join(py.stdlib, rel);
  tree.addDir(py.stdlib, 0o755, py.stdlib);
  const sources: HostEntry[] = [];
  for (const e of entries) {
    if (e.rel.split('/').includes('__pycache__')) continue;
    if (e.kind === 'dir') tree.addDir(guest(e.rel), e.mode, e.host);
    else if (e.kind === 'file') {
      tree.add(
        { kind: 'file', path: guest(e.rel), mode: e.mode, size: e.size, source: e.host, origin },
        e.host,
      );
      if (e.rel.startsWith('lib-dynload/') && e.rel.endsWith('.so')) result.extensionModules.push(e.host);
    } else if (e.kind === 'symlink') {
      tree.add({ kind: 'symlink', path: guest(e.rel), mode: 0o777, target: e.target!, origin }, e.host);
      // Debian links sitecustomize.py to /etc/python3.X/: bring absolute targets along.
      if (e.target!.startsWith('/')) await tree.addHostPath(e.target!, e.target!, origin);
    } else {
      opts.onWarning?.(`${e.host}: not a regular file, directory or symlink; left out`);
      continue;
    }
    if (e.rel.endsWith('.py') && e.kind !== 'dir') sources.push(e);
  }
  result.sourceFiles = sources.length;
  if (!opts.precompiled) return result;

  const patches = await mapLimit(sources, 32, async (src) => {
    const dir = posix.dirname(src.rel);
    const pycRel = posix.join(
      dir === '.' ? '' : dir,
      '__pycache__',
      `${posix.basename(src.rel, '.py')}.${tag}.pyc`,
    );
    const pyc = pycs.get(pycRel);
    if (!pyc) return undefined;
    // Python stats the .py through symlinks; so do we.
    const [head, source, st] = await Promise.all([
      readHead(pyc.host, 16),
      readFile(src.host),
      stat(src.host),
    ]);
    const patch = uncheckedHashPatch(head, source, Math.floor(st.mtimeMs / 1000), py.minor);
    return { pyc, pycRel, patch };
  });
  for (const p of patches) {
    if (!p) continue;
    if (!p.patch) {
      result.stalePycs++;
      continue;
    }
    const patch: ContentPatch = p.patch;
    tree.add(
      {
        kind: 'file',
        path: guest(p.pycRel),
        mode: p.pyc.mode,
        size: p.pyc.size,
        source: p.pyc.host,
        patch,
        origin,
      },
      p.pyc.host,
    );
    result.pycFiles++;
  }
  return result;
}
