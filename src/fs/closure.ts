// The DT_NEEDED closure of an executable, found the way its own dynamic
// loader will look for it inside the guest: glibc's ld.so (RPATH chain unless
// RUNPATH, RUNPATH, ld.so.cache, default directories) or musl's loader (the
// RPATH/RUNPATH chain, then /etc/ld-musl-<arch>.path or its built-in default).
// LD_LIBRARY_PATH is never consulted: the host's environment is not the guest's.
//
// Every object has a host path (where we read it) and a guest path (where the
// guest's loader will find it). They are the same except below directories
// reached through $ORIGIN, which follow the object's guest location.

import { readFile, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InputError } from '../errors.js';
import { ElfIncompatibleError, type ElfInfo, parseElf } from './elf.js';
import { buildLdSoCache, cacheLookup, type LdCache, readLdSoCache, readLdSoConf } from './ldcache.js';

export type LoaderFlavor = 'glibc' | 'musl';
export type FoundVia =
  | 'path'
  | 'rpath'
  | 'runpath'
  | 'ld.so.cache'
  | 'ld.so.conf'
  | 'default'
  | 'musl-path'
  | 'hwcaps-variant';

export interface ElfObject {
  hostPath: string;
  guestPath: string;
  info: ElfInfo;
}

export interface ClosureRoot extends ElfObject {
  /** For objects the program dlopens itself (Python extension modules): the object calling dlopen. */
  loadedBy?: ElfObject;
}

export interface ClosureLibrary extends ElfObject {
  /** The DT_NEEDED string. */
  name: string;
  /** Guest path of the object whose DT_NEEDED asked for it. */
  neededBy: string;
  via: FoundVia;
}

/** A file the guest's loader reads besides the libraries: copied from the host or generated. */
export interface LoaderFile {
  guestPath: string;
  hostPath?: string;
  data?: Buffer;
  why: string;
}

export interface Closure {
  /** undefined for static executables. */
  flavor?: LoaderFlavor;
  interpreter?: ElfObject;
  /** Libraries in the order the loader maps them (breadth first); one per guest path. */
  libraries: ClosureLibrary[];
  /** Libraries the C library itself dlopens (glibc: libgcc_s.so.1), when the host has them. */
  dlopened?: ClosureLibrary[];
  loaderFiles: LoaderFile[];
}

export interface ClosureOptions {
  /** glibc's cache; null: pretend there is none. Default /etc/ld.so.cache. */
  ldSoCache?: string | null;
  /** Read when the cache is missing or unreadable. Default /etc/ld.so.conf. */
  ldSoConf?: string;
  /** glibc's built-in search path. */
  defaultDirs?: string[];
  /** musl's path file; null: pretend there is none. Default derived from the interpreter path. */
  muslPathFile?: string | null;
  onWarning?: (message: string) => void;
}

/** Debian's glibc search path after the cache, in order. */
export const GLIBC_DEFAULT_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/lib',
  '/usr/lib',
];
export const MUSL_DEFAULT_PATH = ['/lib', '/usr/local/lib', '/usr/lib'];
/** Names musl's loader answers with itself (ldso/dynlink.c "reserved"). */
const MUSL_SELF = ['c', 'pthread', 'rt', 'm', 'dl', 'util', 'xnet'];
/**
 * Subdirectories glibc 2.36 tries before each directory of a search path. Which
 * one the guest's ld.so picks depends on the guest CPU, so every one present is
 * taken along.
 */
const GLIBC_SUBDIRS = [
  'glibc-hwcaps/x86-64-v4',
  'glibc-hwcaps/x86-64-v3',
  'glibc-hwcaps/x86-64-v2',
  'tls/x86_64/x86_64',
  'tls/x86_64',
  'tls',
  'x86_64/x86_64',
  'x86_64',
];
const PLATFORM = 'x86_64';
const LIB = 'lib/x86_64-linux-gnu';

export function loaderFlavor(interpreter: string): LoaderFlavor {
  return posix.basename(interpreter).startsWith('ld-musl-') ? 'musl' : 'glibc';
}

interface Node extends ElfObject {
  real: string;
  loader?: Node;
  /** Names the glibc loader matches a DT_NEEDED against: what it was loaded as, and its soname. */
  names: Set<string>;
}

interface SearchDir {
  host: string;
  guest: string;
  via: FoundVia;
}

interface Found {
  hostPath: string;
  guestPath: string;
  via: FoundVia;
  variants: { hostPath: string; guestPath: string }[];
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Expands $ORIGIN/$LIB/$PLATFORM in one search path element for both host and guest. */
function expandGlibc(element: string, obj: ElfObject): { host: string; guest: string } {
  const sub = (origin: string): string =>
    element.replace(/\$(\{ORIGIN\}|ORIGIN|\{LIB\}|LIB|\{PLATFORM\}|PLATFORM)/g, (_m, tok: string) => {
      const t = tok.replace(/[{}]/g, '');
      return t === 'ORIGIN' ? origin : t === 'LIB' ? LIB : PLATFORM;
    });
  return {
    host: posix.normalize(sub(posix.dirname(obj.hostPath))),
    guest: posix.normalize(sub(posix.dirname(obj.guestPath))),
  };
}

/** musl's fixup_rpath: only $ORIGIN/${ORIGIN}; any other $ makes the whole path unusable. */
function expandMusl(path: string[], obj: ElfObject): { host: string; guest: string }[] {
  const joined = path.join(':');
  const tokens = joined.match(/\$(\{ORIGIN\}|ORIGIN)?/g) ?? [];
  if (tokens.some((t) => t === '$')) return [];
  const sub = (origin: string): string[] => joined.replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin).split(':');
  const hosts = sub(posix.dirname(obj.hostPath));
  const guests = sub(posix.dirname(obj.guestPath));
  return hosts.map((h, i) => ({ host: posix.normalize(h), guest: posix.normalize(guests[i]!) }));
}

class Resolver {
  private readonly nodes: Node[] = [];
  private readonly byReal = new Map<string, Node>();
  private readonly libraries: ClosureLibrary[] = [];
  readonly dlopened: ClosureLibrary[] = [];
  private readonly guestPaths = new Set<string>();
  private readonly parsed = new Map<string, Promise<ElfInfo>>();
  private cache: LdCache | undefined;
  private confDirs: string[] | undefined;
  private muslPath: string[] = MUSL_DEFAULT_PATH;
  readonly loaderFiles: LoaderFile[] = [];
  private readonly fromCacheOutsideDefaults: { name: string; path: string }[] = [];

  constructor(
    private readonly flavor: LoaderFlavor,
    private readonly main: ElfObject,
    private readonly opts: ClosureOptions,
  ) {}

  private defaultDirs(): string[] {
    return this.opts.defaultDirs ?? GLIBC_DEFAULT_DIRS;
  }

  async init(interp: ElfObject | undefined): Promise<void> {
    if (this.flavor === 'glibc') {
      const cacheFile = this.opts.ldSoCache === undefined ? '/etc/ld.so.cache' : this.opts.ldSoCache;
      if (cacheFile !== null) {
        try {
          this.cache = await readLdSoCache(cacheFile);
        } catch (err) {
          // ld.so ignores a cache it cannot use; so do we, but say so.
          this.opts.onWarning?.(
            `${err instanceof Error ? err.message : String(err)}; using ld.so.conf instead`,
          );
        }
      }
      if (!this.cache) this.confDirs = await readLdSoConf(this.opts.ldSoConf ?? '/etc/ld.so.conf');
    } else {
      // musl reads <prefix>/etc/ld-musl-<arch>.path, prefix being the loader's path minus two components.
      const ldso = interp?.guestPath ?? '/lib/ld-musl-x86_64.so.1';
      const prefix = posix.dirname(posix.dirname(ldso));
      const arch = posix
        .basename(ldso)
        .replace(/^ld-musl-/, '')
        .replace(/\.so\.1$/, '');
      const guestFile = posix.join(prefix === '/' ? '' : prefix, `/etc/ld-musl-${arch}.path`);
      const hostFile = this.opts.muslPathFile === undefined ? guestFile : this.opts.muslPathFile;
      if (hostFile !== null) {
        try {
          const text = await readFile(hostFile, 'utf8');
          this.muslPath = text.split(/[:\n]/).filter((d) => d !== '');
          this.loaderFiles.push({
            guestPath: guestFile,
            hostPath: hostFile,
            why: 'musl library search path',
          });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.muslPath = [];
        }
      }
    }
  }

  private parse(hostPath: string, real: string): Promise<ElfInfo> {
    let p = this.parsed.get(real);
    if (!p) {
      p = readFile(real).then((buf) => parseElf(buf, hostPath));
      this.parsed.set(real, p);
    }
    return p;
  }

  /** A candidate the loader would accept: an existing regular file of our class and machine. */
  private async accept(hostPath: string): Promise<boolean> {
    if (!(await isFile(hostPath))) return false;
    try {
      await this.parse(hostPath, await realpath(hostPath));
      return true;
    } catch (err) {
      if (err instanceof ElfIncompatibleError) return false;
      throw err;
    }
  }

  private async tryDir(dir: SearchDir, name: string): Promise<Found | undefined> {
    if (this.flavor === 'musl') {
      const p = posix.join(dir.host, name);
      return (await this.accept(p))
        ? { hostPath: p, guestPath: posix.join(dir.guest, name), via: dir.via, variants: [] }
        : undefined;
    }
    const subs = [...GLIBC_SUBDIRS, ''];
    const ok = await Promise.all(subs.map((s) => this.accept(posix.join(dir.host, s, name))));
    const hits = subs.filter((_s, i) => ok[i]);
    if (hits.length === 0) return undefined;
    const primary = hits.includes('') ? '' : hits[0]!;
    return {
      hostPath: posix.join(dir.host, primary, name),
      guestPath: posix.join(dir.guest, primary, name),
      via: dir.via,
      variants: hits
        .filter((s) => s !== primary)
        .map((s) => ({ hostPath: posix.join(dir.host, s, name), guestPath: posix.join(dir.guest, s, name) })),
    };
  }

  private glibcDirs(req: Node): SearchDir[] {
    const dirs: SearchDir[] = [];
    const push = (elements: string[], obj: ElfObject, via: FoundVia): void => {
      for (const e of elements) {
        if (e === '') continue;
        const d = expandGlibc(e, obj);
        if (!d.host.startsWith('/')) {
          this.opts.onWarning?.(`${obj.hostPath}: relative ${via.toUpperCase()} entry "${e}" ignored`);
          continue;
        }
        dirs.push({ ...d, via });
      }
    };
    const dyn = (n: ElfObject) => n.info.dynamic;
    if ((dyn(req)?.runpath.length ?? 0) === 0) {
      let sawMain = false;
      for (let l: Node | undefined = req; l; l = l.loader) {
        if (l.guestPath === this.main.guestPath) sawMain = true;
        // An object with DT_RUNPATH has its DT_RPATH ignored everywhere.
        if ((dyn(l)?.runpath.length ?? 0) === 0) push(dyn(l)?.rpath ?? [], l, 'rpath');
      }
      const m = dyn(this.main);
      if (!sawMain && m && m.runpath.length === 0) push(m.rpath, this.main, 'rpath');
    }
    push(dyn(req)?.runpath ?? [], req, 'runpath');
    return dirs;
  }

  private async searchGlibc(name: string, req: Node, searched: string[]): Promise<Found | undefined> {
    for (const d of this.glibcDirs(req)) {
      searched.push(d.host);
      const f = await this.tryDir(d, name);
      if (f) return f;
    }
    if (this.cache) {
      searched.push(this.cache.file);
      const hit = cacheLookup(this.cache, name);
      if (hit && (await this.accept(hit.path))) {
        if (!this.defaultDirs().includes(posix.dirname(hit.path))) {
          this.fromCacheOutsideDefaults.push({ name, path: hit.path });
        }
        const variants: Found['variants'] = [];
        for (const v of hit.variants) if (await this.accept(v)) variants.push({ hostPath: v, guestPath: v });
        return { hostPath: hit.path, guestPath: hit.path, via: 'ld.so.cache', variants };
      }
    } else {
      for (const dir of this.confDirs ?? []) {
        searched.push(dir);
        const f = await this.tryDir({ host: dir, guest: dir, via: 'ld.so.conf' }, name);
        if (f) {
          if (!this.defaultDirs().includes(dir))
            this.fromCacheOutsideDefaults.push({ name, path: f.hostPath });
          return f;
        }
      }
    }
    for (const dir of this.defaultDirs()) {
      searched.push(dir);
      const f = await this.tryDir({ host: dir, guest: dir, via: 'default' }, name);
      if (f) return f;
    }
    return undefined;
  }

  private async searchMusl(name: string, req: Node, searched: string[]): Promise<Found | undefined> {
    for (let p: Node | undefined = req; p; p = p.loader) {
      const dyn = p.info.dynamic;
      const elements = dyn ? (dyn.runpath.length > 0 ? dyn.runpath : dyn.rpath) : [];
      for (const d of expandMusl(elements, p)) {
        searched.push(d.host);
        const f = await this.tryDir({ ...d, via: dyn?.runpath.length ? 'runpath' : 'rpath' }, name);
        if (f) return f;
      }
    }
    for (const dir of this.muslPath) {
      searched.push(dir);
      const f = await this.tryDir({ host: dir, guest: dir, via: 'musl-path' }, name);
      if (f) return f;
    }
    return undefined;
  }

  private isMuslSelf(name: string): boolean {
    return name.startsWith('lib') && MUSL_SELF.some((r) => name.slice(3).startsWith(`${r}.`));
  }

  private addLibrary(lib: ClosureLibrary): void {
    if (this.guestPaths.has(lib.guestPath)) return;
    this.guestPaths.add(lib.guestPath);
    this.libraries.push(lib);
  }

  /** Registers an object; returns the node, or undefined when the same file is already loaded. */
  async addNode(obj: ElfObject, loader: Node | undefined, name?: string): Promise<Node | undefined> {
    const real = await realpath(obj.hostPath);
    const existing = this.byReal.get(real);
    if (existing) {
      if (name !== undefined) existing.names.add(name);
      return undefined;
    }
    const node: Node = { ...obj, real, loader, names: new Set() };
    if (name !== undefined) node.names.add(name);
    if (obj.info.dynamic?.soname) node.names.add(obj.info.dynamic.soname);
    this.byReal.set(real, node);
    this.nodes.push(node);
    return node;
  }

  async run(roots: ClosureRoot[]): Promise<ClosureLibrary[]> {
    const queue: Node[] = [];
    const mainNode = await this.addNode(this.main, undefined);
    if (mainNode) queue.push(mainNode);
    for (const r of roots) {
      if (r === this.main) continue;
      const parent = r.loadedBy ? this.byReal.get(await realpath(r.loadedBy.hostPath)) : mainNode;
      const n = await this.addNode(r, parent);
      if (n) queue.push(n);
    }
    for (let i = 0; i < queue.length; i++) {
      const req = queue[i]!;
      for (const name of req.info.dynamic?.needed ?? []) {
        const found = await this.resolveOne(name, req);
        if (!found) continue;
        const info = await this.parse(found.hostPath, await realpath(found.hostPath));
        this.addLibrary({
          name,
          hostPath: found.hostPath,
          guestPath: found.guestPath,
          info,
          neededBy: req.guestPath,
          via: found.via,
        });
        for (const v of found.variants) {
          const vinfo = await this.parse(v.hostPath, await realpath(v.hostPath));
          this.addLibrary({ name, ...v, info: vinfo, neededBy: req.guestPath, via: 'hwcaps-variant' });
          const vn = await this.addNode({ ...v, info: vinfo }, req, name);
          if (vn) queue.push(vn);
        }
        const node = await this.addNode(
          { hostPath: found.hostPath, guestPath: found.guestPath, info },
          req,
          name,
        );
        if (node) queue.push(node);
      }
    }
    await this.addDlopened();
    if (this.fromCacheOutsideDefaults.length > 0) {
      this.loaderFiles.push({
        guestPath: '/etc/ld.so.cache',
        data: buildLdSoCache(this.fromCacheOutsideDefaults),
        why: `libraries found through the host's ld.so cache outside the default directories: ${this.fromCacheOutsideDefaults.map((l) => l.path).join(', ')}`,
      });
    }
    return this.libraries;
  }

  /**
   * glibc's libc.so.6 dlopens libgcc_s.so.1 to unwind in pthread_exit and
   * pthread_cancel (Python's threads exit that way; without it the program
   * aborts) and for backtrace(). Carried when the host has it; it needs only
   * libc, which is loaded.
   */
  private async addDlopened(): Promise<void> {
    const libc = this.nodes.find((n) => n.names.has('libc.so.6'));
    if (this.flavor !== 'glibc' || !libc) return;
    for (const name of ['libgcc_s.so.1']) {
      if (this.nodes.some((n) => n.names.has(name))) continue;
      const found = await this.resolveOne(name, libc).catch((e: unknown) => {
        if (!(e instanceof InputError)) throw e;
        this.opts.onWarning?.(`${name} not found on this host; pthread_exit and pthread_cancel will abort`);
        return undefined;
      });
      if (!found) continue;
      const info = await this.parse(found.hostPath, await realpath(found.hostPath));
      this.dlopened.push({
        name,
        hostPath: found.hostPath,
        guestPath: found.guestPath,
        info,
        neededBy: libc.guestPath,
        via: found.via,
      });
    }
  }

  /** Undefined when the name needs no file (already loaded, or musl's libc itself). */
  private async resolveOne(name: string, req: Node): Promise<Found | undefined> {
    if (name.includes('/')) {
      if (!name.startsWith('/')) {
        throw new InputError(
          `DT_NEEDED "${name}" is a relative path; it would resolve against the guest's working directory`,
          {
            loc: { file: req.hostPath },
          },
        );
      }
      if (!(await this.accept(name))) throw this.missing(name, req, [name]);
      return { hostPath: name, guestPath: name, via: 'path', variants: [] };
    }
    if (this.flavor === 'musl') {
      if (this.isMuslSelf(name)) return undefined;
      // musl matches a name against the basenames of libraries it found by searching.
      if (this.libraries.some((l) => posix.basename(l.guestPath) === name)) return undefined;
    } else if (this.nodes.some((n) => n.names.has(name))) {
      return undefined;
    }
    const searched: string[] = [];
    const found =
      this.flavor === 'glibc'
        ? await this.searchGlibc(name, req, searched)
        : await this.searchMusl(name, req, searched);
    if (!found) throw this.missing(name, req, searched);
    return found;
  }

  private missing(name: string, req: Node, searched: string[]): InputError {
    const dirs = [...new Set(searched)];
    return new InputError(`library ${name} not found (needed by ${req.hostPath})`, {
      loc: { file: req.hostPath },
      hint: `searched ${dirs.join(', ')}; install the package that provides ${name}`,
    });
  }
}

/**
 * Resolves the interpreter and the libraries the guest's loader will map for
 * `roots` (the executable first; more roots are objects it dlopens). Throws
 * InputError naming the library and who needs it when one cannot be found.
 */
export async function resolveClosure(roots: ClosureRoot[], opts: ClosureOptions = {}): Promise<Closure> {
  for (const r of roots) {
    if (!posix.isAbsolute(r.hostPath) || !posix.isAbsolute(r.guestPath)) {
      throw new Error(`resolveClosure: paths must be absolute (${r.hostPath} -> ${r.guestPath})`);
    }
  }
  const main = roots[0];
  if (!main) return { libraries: [], loaderFiles: [] };
  const interpPath = main.info.interpreter;
  if (interpPath === undefined) {
    const needy = roots.find((r) => (r.info.dynamic?.needed.length ?? 0) > 0);
    if (needy && needy !== main) {
      throw new InputError(
        `${needy.hostPath} needs shared libraries but ${main.hostPath} is statically linked`,
        {
          loc: { file: needy.hostPath },
        },
      );
    }
    return { libraries: [], loaderFiles: [] };
  }
  const flavor = loaderFlavor(interpPath);
  if (!(await isFile(interpPath))) {
    throw new InputError(`interpreter ${interpPath} (PT_INTERP) not found on this host`, {
      loc: { file: main.hostPath },
      hint:
        flavor === 'musl' ? 'install it: apt-get install musl' : 'the binary was built for another system',
    });
  }
  const interpInfo = parseElf(await readFile(interpPath), interpPath);
  const interpreter: ElfObject = { hostPath: interpPath, guestPath: interpPath, info: interpInfo };
  const r = new Resolver(flavor, main, opts);
  await r.init(interpreter);
  // The interpreter is mapped before anything else; a DT_NEEDED on its soname resolves to it.
  await r.addNode(interpreter, undefined);
  const libraries = await r.run(roots);
  return { flavor, interpreter, libraries, dlopened: r.dlopened, loaderFiles: r.loaderFiles };
}
