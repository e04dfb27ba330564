// Collects the guest root filesystem for an application: the program (or the
// Python interpreter and script), its loader and libraries, loader
// configuration, and the user's `files`. The result is a sorted, typed entry
// list that archive.ts writes; nothing is copied here.

import { lstat, stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import type { AppRequirements } from '../config/requirements.js';
import { InputError, type SourceLocation } from '../errors.js';
import { type Closure, type ClosureOptions, type ClosureRoot, resolveClosure } from './closure.js';
import { readElf, requirementsOf } from './elf.js';
import { walkHostDir } from './hostwalk.js';
import { addPythonStdlib, DEFAULT_PYTHON, findPython, type StdlibResult } from './python.js';
import { defaultEtcFiles } from './etc.js';
import { normalizeGuestPath, type RootfsEntry, RootfsTree, symlinkTargetPath } from './tree.js';

export type Runtime = 'elf' | 'go' | 'python';

/** One `files` entry; `loc` (app.yaml:line) is named in errors about it. */
export interface UserFile {
  guest: string;
  host: string;
  loc?: SourceLocation;
}

export interface RootfsInput {
  /** undefined: elf, or go when the binary carries Go build info. */
  runtime?: Runtime;
  /** Host path of the program (elf, go); for python, the interpreter (default /usr/bin/python3). */
  exec?: string;
  /** Host path of the Python script (runtime python). */
  script?: string;
  /** Extra guest path -> host path; directories are copied recursively. */
  files?: ReadonlyMap<string, string> | readonly UserFile[];
  /** Guest path of the program (elf, go). Default /app/<basename of exec>. */
  execGuestPath?: string;
  /** Named in errors about the input itself (the app.yaml). */
  specFile?: string;
  /** The image has a network: /etc/resolv.conf names these servers (fs/etc.ts). */
  nameservers?: readonly string[];
}

export interface CollectOptions extends ClosureOptions {
  /** Ship fresh host .pyc files (as unchecked-hash) with the Python stdlib. Default true. */
  pythonPrecompiled?: boolean;
}

export interface RootfsStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Sum of file sizes. */
  bytes: number;
}

export interface Rootfs {
  /** Sorted by path; parents before children; the root itself is not listed. */
  entries: RootfsEntry[];
  /** What the kernel executes, before app.args: [program] or [python, script]. */
  command: string[];
  requirements: AppRequirements;
  closure: Closure;
  python?: StdlibResult & { version: string };
  stats: RootfsStats;
  warnings: string[];
}

/** Mount points and scratch space every guest gets. */
const BASE_DIRS: [string, number][] = [
  ['/dev', 0o755],
  ['/proc', 0o755],
  ['/sys', 0o755],
  ['/tmp', 0o1777],
  ['/etc', 0o755],
];

async function mustBeFile(path: string, what: string, loc: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new InputError(`${what} ${path} not found`, { loc: { file: loc } });
  if (!st.isFile()) throw new InputError(`${what} ${path} is not a regular file`, { loc: { file: loc } });
}

async function addProgram(tree: RootfsTree, host: string, guest: string, origin: string): Promise<void> {
  const st = await stat(host);
  tree.add({ kind: 'file', path: guest, mode: st.mode & 0o7777, size: st.size, source: host, origin }, host);
}

/** Copies one `files` entry (file or directory tree), keeping modes and symlinks. */
export async function addUserFiles(
  tree: RootfsTree,
  guestPath: string,
  hostPath: string,
  at: SourceLocation,
): Promise<void> {
  const guest = normalizeGuestPath(guestPath, at);
  const origin = `files: ${guestPath}`;
  // The named host path itself is followed if it is a symlink: the user pointed at what it names.
  const st = await stat(hostPath).catch(() => undefined);
  if (!st) throw new InputError(`files: ${guestPath}: host path ${hostPath} not found`, { loc: at });
  if (st.isFile()) {
    tree.add(
      { kind: 'file', path: guest, mode: st.mode & 0o7777, size: st.size, source: hostPath, origin },
      hostPath,
    );
    return;
  }
  if (!st.isDirectory()) {
    throw new InputError(`files: ${guestPath}: ${hostPath} is not a file or directory`, {
      loc: at,
    });
  }
  tree.addDir(guest, st.mode, hostPath);
  for (const e of await walkHostDir(hostPath)) {
    const g = posix.join(guest, e.rel);
    if (e.kind === 'dir') tree.addDir(g, e.mode, e.host);
    else if (e.kind === 'file')
      tree.add({ kind: 'file', path: g, mode: e.mode, size: e.size, source: e.host, origin }, e.host);
    else if (e.kind === 'symlink') {
      symlinkTargetPath(g, e.target!, e.host); // throws if a relative target climbs above /
      tree.add({ kind: 'symlink', path: g, mode: 0o777, target: e.target!, origin }, e.host);
    } else {
      throw new InputError(
        'not a regular file, directory or symlink (sockets, FIFOs and devices cannot be packed)',
        {
          loc: { file: e.host },
        },
      );
    }
  }
}

function isFileMap(f: RootfsInput['files']): f is ReadonlyMap<string, string> {
  return f instanceof Map;
}

function statsOf(entries: RootfsEntry[]): RootfsStats {
  const s: RootfsStats = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  for (const e of entries) {
    if (e.kind === 'file') {
      s.files++;
      s.bytes += e.size;
    } else if (e.kind === 'dir') s.dirs++;
    else s.symlinks++;
  }
  return s;
}

/** Builds the guest root filesystem's entry list for an application. */
export async function collectRootfs(input: RootfsInput, opts: CollectOptions = {}): Promise<Rootfs> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const closureOpts: ClosureOptions = { ...opts, onWarning: warn };
  const loc = input.specFile ?? 'app';
  const tree = new RootfsTree();
  for (const [d, mode] of BASE_DIRS) tree.addDir(d, mode, 'rootfs');

  let command: string[];
  let requirements: AppRequirements;
  let closure: Closure;
  let python: Rootfs['python'];

  if (input.runtime === 'python') {
    if (input.script === undefined)
      throw new InputError('runtime python needs app.script', { loc: { file: loc } });
    const script = resolve(input.script);
    await mustBeFile(script, 'app.script', loc);
    const py = await findPython(input.exec ? resolve(input.exec) : DEFAULT_PYTHON);
    const info = await readElf(py.binary);
    requirements = requirementsOf(info, { python: true });
    const stdlib = await addPythonStdlib(tree, py, {
      precompiled: opts.pythonPrecompiled ?? true,
      onWarning: warn,
    });
    const main: ClosureRoot = { hostPath: py.binary, guestPath: py.binary, info };
    const modules: ClosureRoot[] = [];
    for (const m of stdlib.extensionModules)
      modules.push({ hostPath: m, guestPath: m, info: await readElf(m), loadedBy: main });
    closure = await resolveClosure([main, ...modules], closureOpts);
    await tree.addHostPath(py.binary, py.binary, `python ${py.version}`);
    const scriptGuest = `/app/${posix.basename(script)}`;
    const sst = await stat(script);
    tree.add(
      {
        kind: 'file',
        path: scriptGuest,
        mode: sst.mode & 0o7777,
        size: sst.size,
        source: script,
        origin: 'app.script',
      },
      script,
    );
    command = [py.binary, scriptGuest];
    python = { ...stdlib, version: py.version };
  } else {
    if (input.exec === undefined) throw new InputError('app.exec is required', { loc: { file: loc } });
    const exec = resolve(input.exec);
    await mustBeFile(exec, 'app.exec', loc);
    const info = await readElf(exec);
    requirements = requirementsOf(info);
    if (input.runtime === 'go' && !requirements.go) {
      warn(`${exec}: runtime is go but the binary carries no Go build information`);
    }
    const guest = normalizeGuestPath(input.execGuestPath ?? `/app/${posix.basename(exec)}`, loc);
    closure = await resolveClosure([{ hostPath: exec, guestPath: guest, info }], closureOpts);
    await addProgram(tree, exec, guest, 'app.exec');
    command = [guest];
  }

  if (closure.interpreter) {
    const i = closure.interpreter;
    await tree.addHostPath(i.hostPath, i.guestPath, `interpreter of ${command[0]}`);
  }
  for (const lib of closure.libraries) {
    await tree.addHostPath(lib.hostPath, lib.guestPath, `library ${lib.name} needed by ${lib.neededBy}`);
  }
  for (const lib of closure.dlopened ?? []) {
    await tree.addHostPath(lib.hostPath, lib.guestPath, `library ${lib.name} loaded by ${lib.neededBy}`);
  }
  for (const f of closure.loaderFiles) {
    if (f.data) {
      tree.add(
        { kind: 'file', path: f.guestPath, mode: 0o644, size: f.data.length, data: f.data, origin: f.why },
        f.guestPath,
      );
    } else if (f.hostPath) {
      const st = await lstat(f.hostPath);
      tree.add(
        {
          kind: 'file',
          path: f.guestPath,
          mode: st.mode & 0o7777,
          size: st.size,
          source: f.hostPath,
          origin: f.why,
        },
        f.hostPath,
      );
    }
  }
  const files: readonly UserFile[] = isFileMap(input.files)
    ? [...input.files].map(([guest, host]) => ({ guest, host }))
    : (input.files ?? []);
  for (const f of files) await addUserFiles(tree, f.guest, resolve(f.host), f.loc ?? { file: loc });
  // After the user's files: theirs win.
  for (const f of defaultEtcFiles({ nameservers: input.nameservers })) {
    if (!tree.has(f.path)) tree.add(f, f.origin);
  }

  const entries = tree.list();
  const result: Rootfs = { entries, command, requirements, closure, stats: statsOf(entries), warnings };
  if (python) result.python = python;
  return result;
}
