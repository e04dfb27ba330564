// Kernel module discovery: modules/<name>/module.yaml, parsed against a strict
// schema. Every error names module.yaml:line:col.

import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar } from 'yaml';
import { BuildError, type SourceLocation } from '../errors.js';

export interface ModuleSource {
  /** Path relative to the module directory. */
  file: string;
  /** Absolute path. */
  path: string;
  /** Builds only when this symbol is enabled (or, with `!`, disabled). */
  if?: { symbol: string; negate: boolean };
  /** The platform whose linker sections this source's code and data go into (overrides the module's). */
  platform?: Platform;
  loc: SourceLocation;
}

/** A library the module builds but osvb does not carry (DESIGN.md section 3). */
export interface ExternalSource {
  /** Debian source package, fetched with `apt-get source PACKAGE=VERSION`. */
  package: string;
  version: string;
  /** sha256 of each file apt-get downloads (the .dsc and the tarballs). */
  sha256: Record<string, string>;
  /** Environment variable naming a directory to use instead. */
  env: string;
  /** A file (relative to the tree) that must exist: how a tree is recognised. */
  check: string;
  /** Include directories, relative to the tree, public like the module's include/. */
  include: string[];
  /** Sources relative to the tree. */
  sources: string[];
  loc: SourceLocation;
}

export interface KernelModule {
  name: string;
  dir: string;
  /** The module builds when this Kconfig symbol is enabled. */
  enabledBy: string;
  sources: ModuleSource[];
  cflags: string[];
  /** Absolute path of the linker script (the arch module only). */
  linkerScript?: string;
  /** Absolute path of include/ when the module has public headers. */
  includeDir?: string;
  external?: ExternalSource;
  /** Absolute include directories for this module's own compiles only (ahead of the public ones). */
  privateIncludes: string[];
  /** Code and data that serve only this platform: linked into its own page-aligned sections,
   * freed at boot when another platform is detected (modules/README.md, "Runtime disposal"). */
  platform?: Platform;
  yamlFile: string;
}

/** Platforms with their own sections in modules/arch/kernel.ld and a signature in modules/hypervisor. */
export const PLATFORMS = ['kvm', 'xen', 'hyperv', 'vmware'] as const;
export type Platform = (typeof PLATFORMS)[number];

const KEYS = [
  'enabled-by',
  'sources',
  'cflags',
  'linker-script',
  'external',
  'private-include',
  'platform',
] as const;
const EXTERNAL_KEYS = ['package', 'version', 'sha256', 'env', 'check', 'include', 'sources'] as const;
const SHA256_RE = /^[0-9a-f]{64}$/;
const REL_PATH_RE = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9_.+/-]+$/;
const SOURCE_KEYS = ['file', 'if', 'platform'] as const;
const SYMBOL_RE = /^[A-Za-z0-9_]+$/;
const MODULE_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
const SOURCE_EXT_RE = /\.(c|S)$/;

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

class YamlCtx {
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
  ) {}
  loc(node: Node | null | undefined): SourceLocation {
    const off = node?.range?.[0];
    if (off === undefined) return { file: this.file };
    const p = this.lc.linePos(off);
    return { file: this.file, line: p.line, column: p.col };
  }
  fail(node: Node | null | undefined, message: string, hint?: string): never {
    throw new BuildError(message, { loc: this.loc(node), hint });
  }
  string(node: Node | null | undefined, what: string): string {
    if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
      this.fail(node, `${what} must be a non-empty string`);
    }
    return node.value;
  }
  platform(node: Node | null | undefined): Platform {
    const p = this.string(node, 'platform');
    const known = PLATFORMS.find((k) => k === p);
    if (!known) {
      this.fail(
        node,
        `platform "${p}" is not one of ${PLATFORMS.join(', ')}`,
        'a new platform needs its sections in modules/arch/kernel.ld and its signature in modules/hypervisor',
      );
    }
    return known;
  }
  symbol(node: Node | null | undefined, what: string): string {
    const s = this.string(node, what);
    if (!SYMBOL_RE.test(s)) {
      this.fail(
        node,
        `${what} "${s}" is not a Kconfig symbol name`,
        'write the name without CONFIG_, e.g. VIRTIO_NET',
      );
    }
    if (s.startsWith('CONFIG_')) this.fail(node, `${what} "${s}" must not start with CONFIG_`);
    return s;
  }
}

function checkKeys(ctx: YamlCtx, keyNode: Node | unknown, allowed: readonly string[], where: string): string {
  const k = keyNode as Scalar;
  if (!isScalar(k) || typeof k.value !== 'string') ctx.fail(k as Node, `${where}: keys must be strings`);
  const key = k.value as string;
  if (!allowed.includes(key)) {
    const guess = didYouMean(key, allowed);
    ctx.fail(
      k,
      `unknown key "${key}" in ${where}`,
      guess ? `did you mean "${guess}"?` : `allowed keys: ${allowed.join(', ')}`,
    );
  }
  return key;
}

function insideDir(dir: string, rel: string): string | undefined {
  if (isAbsolute(rel)) return undefined;
  const abs = normalize(join(dir, rel));
  const r = relative(dir, abs);
  if (r === '' || r.startsWith(`..${sep}`) || r === '..' || isAbsolute(r)) return undefined;
  return abs;
}

/** Parses one module.yaml. `name` is the module's directory name. */
export function parseModuleYaml(text: string, yamlFile: string, dir: string, name: string): KernelModule {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const ctx: YamlCtx = new YamlCtx(yamlFile, lc);
  const firstErr = doc.errors[0];
  if (firstErr) {
    const p = lc.linePos(firstErr.pos[0]);
    const msg = firstErr.code === 'DUPLICATE_KEY' ? 'duplicate key' : firstErr.message.split('\n', 1)[0];
    throw new BuildError(`invalid YAML: ${msg?.replace(/ at line \d+, column \d+:?$/, '')}`, {
      loc: { file: yamlFile, line: p.line, column: p.col },
    });
  }
  const root = doc.contents;
  if (!isMap(root)) ctx.fail(root, 'module.yaml must be a mapping with enabled-by and sources');

  let enabledBy: string | undefined;
  let sources: ModuleSource[] | undefined;
  let cflags: string[] = [];
  let linkerScript: string | undefined;
  let external: ExternalSource | undefined;
  let privateIncludes: string[] = [];
  let platform: Platform | undefined;

  for (const pair of root.items) {
    const key = checkKeys(ctx, pair.key, KEYS, 'module.yaml');
    const value = pair.value as Node | null;
    switch (key) {
      case 'enabled-by':
        enabledBy = ctx.symbol(value, 'enabled-by');
        break;
      case 'sources': {
        if (!isSeq(value)) ctx.fail(value ?? (pair.key as Node), 'sources must be a list');
        sources = value.items.map((item) => parseSource(ctx, item as Node, dir));
        break;
      }
      case 'cflags': {
        if (!isSeq(value)) ctx.fail(value ?? (pair.key as Node), 'cflags must be a list of strings');
        cflags = value.items.map((item) => ctx.string(item as Node, 'a cflags entry'));
        for (const [i, f] of cflags.entries()) {
          if (!f.startsWith('-')) ctx.fail(value.items[i] as Node, `cflags entry "${f}" is not a flag`);
        }
        break;
      }
      case 'linker-script': {
        const f = ctx.string(value, 'linker-script');
        const abs = insideDir(dir, f);
        if (!abs) ctx.fail(value, `linker-script "${f}" must be a path inside the module directory`);
        if (!existsSync(abs)) ctx.fail(value, `linker-script "${f}" does not exist`);
        linkerScript = abs;
        break;
      }
      case 'external':
        external = parseExternal(ctx, value ?? (pair.key as Node));
        break;
      case 'platform':
        platform = ctx.platform(value);
        break;
      case 'private-include':
        privateIncludes = relPaths(ctx, value, 'private-include').map((d, i) => {
          const abs = insideDir(dir, d);
          const item = (value as { items: Node[] }).items[i];
          if (!abs || !existsSync(abs) || !statSync(abs).isDirectory())
            ctx.fail(item, `private-include "${d}" must be a directory inside the module directory`);
          return abs;
        });
        break;
    }
  }
  if (enabledBy === undefined) ctx.fail(root, 'module.yaml needs "enabled-by: SYMBOL"');
  if (sources === undefined) ctx.fail(root, 'module.yaml needs a "sources" list');
  const seen = new Map<string, ModuleSource>();
  for (const s of sources) {
    const prev = seen.get(s.file);
    if (prev) {
      throw new BuildError(`source "${s.file}" listed twice (first at line ${prev.loc.line})`, {
        loc: s.loc,
      });
    }
    seen.set(s.file, s);
  }
  const inc = join(dir, 'include');
  const includeDir = existsSync(inc) && statSync(inc).isDirectory() ? inc : undefined;
  return {
    name,
    dir,
    enabledBy,
    sources,
    cflags,
    linkerScript,
    includeDir,
    external,
    privateIncludes,
    ...(platform ? { platform } : {}),
    yamlFile,
  };
}

function relPaths(ctx: YamlCtx, node: Node | null | undefined, what: string, ext?: RegExp): string[] {
  if (!isSeq(node)) ctx.fail(node, `${what} must be a list of paths`);
  return node.items.map((item) => {
    const p = ctx.string(item as Node, `a ${what} entry`);
    if (!REL_PATH_RE.test(p))
      ctx.fail(item as Node, `${what} entry "${p}" must be a relative path inside the tree`);
    if (ext && !ext.test(p)) ctx.fail(item as Node, `${what} entry "${p}" must be a .c or .S file`);
    return p;
  });
}

function parseExternal(ctx: YamlCtx, node: Node): ExternalSource {
  if (!isMap(node))
    ctx.fail(node, 'external must be a mapping (package, version, sha256, env, check, include, sources)');
  const got: Partial<Omit<ExternalSource, 'loc'>> = {};
  for (const pair of node.items) {
    const key = checkKeys(ctx, pair.key, EXTERNAL_KEYS, 'external');
    const v = pair.value as Node | null;
    switch (key) {
      case 'package':
      case 'version':
      case 'check':
        got[key] = ctx.string(v, `external.${key}`);
        break;
      case 'env': {
        const e = ctx.string(v, 'external.env');
        if (!/^[A-Z_][A-Z0-9_]*$/.test(e))
          ctx.fail(v, `external.env "${e}" is not an environment variable name`);
        got.env = e;
        break;
      }
      case 'sha256': {
        if (!isMap(v))
          ctx.fail(v ?? (pair.key as Node), 'external.sha256 must map file names to sha256 sums');
        const sums: Record<string, string> = {};
        for (const p of v.items) {
          const f = ctx.string(p.key as Node, 'an external.sha256 file name');
          const h = ctx.string(p.value as Node, `the sha256 of ${f}`);
          if (!SHA256_RE.test(h))
            ctx.fail(p.value as Node, `the sha256 of ${f} must be 64 lower-case hex digits`);
          sums[f] = h;
        }
        got.sha256 = sums;
        break;
      }
      case 'include':
        got.include = relPaths(ctx, v, 'external.include');
        break;
      case 'sources':
        got.sources = relPaths(ctx, v, 'external.sources', SOURCE_EXT_RE);
        break;
    }
  }
  for (const k of EXTERNAL_KEYS) {
    if (got[k] === undefined) ctx.fail(node, `external needs "${k}:"`);
  }
  return { ...(got as Omit<ExternalSource, 'loc'>), loc: ctx.loc(node) };
}

function parseSource(ctx: YamlCtx, item: Node, dir: string): ModuleSource {
  let file: string;
  let fileNode: Node = item;
  let cond: ModuleSource['if'];
  let platform: Platform | undefined;
  if (isScalar(item)) {
    file = ctx.string(item, 'a source');
  } else if (isMap(item)) {
    let f: string | undefined;
    for (const pair of item.items) {
      const key = checkKeys(ctx, pair.key, SOURCE_KEYS, 'a sources entry');
      const v = pair.value as Node | null;
      if (key === 'file') {
        f = ctx.string(v, 'file');
        fileNode = v as Node;
      } else if (key === 'platform') {
        platform = ctx.platform(v);
      } else {
        const raw = ctx.string(v, 'if');
        const negate = raw.startsWith('!');
        const sym = negate ? raw.slice(1).trim() : raw;
        if (!SYMBOL_RE.test(sym) || sym.startsWith('CONFIG_')) {
          ctx.fail(
            v,
            `if: "${raw}" is not a Kconfig symbol name`,
            'write SYMBOL or !SYMBOL, without CONFIG_',
          );
        }
        cond = { symbol: sym, negate };
      }
    }
    if (f === undefined) ctx.fail(item, 'a sources entry needs "file:"');
    file = f;
  } else {
    ctx.fail(item, 'a sources entry must be a file name or { file: NAME, if: SYMBOL, platform: NAME }');
  }
  if (!SOURCE_EXT_RE.test(file)) ctx.fail(fileNode, `source "${file}" must be a .c or .S file`);
  const path = insideDir(dir, file);
  if (!path) ctx.fail(fileNode, `source "${file}" must be a path inside the module directory`);
  // A conditional source is checked when the plan selects it (planBuild), so a
  // module can list a source of an option that is not written yet.
  if (!cond && !existsSync(path)) ctx.fail(fileNode, `source "${file}" does not exist`, `looked for ${path}`);
  return { file, path, if: cond, ...(platform ? { platform } : {}), loc: ctx.loc(fileNode) };
}

/** All modules under <srctree>/modules, sorted by name. */
export async function discoverModules(srctree: string): Promise<KernelModule[]> {
  const root = join(srctree, 'modules');
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    throw new BuildError('no modules directory', { loc: { file: root } });
  }
  entries.sort();
  const mods: KernelModule[] = [];
  for (const name of entries) {
    const dir = join(root, name);
    const yamlFile = join(dir, 'module.yaml');
    let text: string;
    try {
      text = await readFile(yamlFile, 'utf8');
    } catch {
      continue; // a directory without module.yaml is not a module (e.g. shared docs)
    }
    if (!MODULE_NAME_RE.test(name)) {
      throw new BuildError(`module directory name "${name}" must be lower-case letters, digits, - or _`, {
        loc: { file: yamlFile },
      });
    }
    mods.push(parseModuleYaml(text, yamlFile, dir, name));
  }
  if (mods.length === 0) throw new BuildError('no modules found', { loc: { file: root } });
  return mods;
}
