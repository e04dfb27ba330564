// Public API of the Kconfig engine: load a Kconfig tree, resolve a target
// (olddefconfig, defconfig, all*config, savedefconfig) like Linux's conf,
// write .config / minimal defconfig / autoconf.h, and explain values.

import type { SourceLocation } from '../../errors.js';
import { KconfigError, OsvbError } from '../../errors.js';
import { readInputFile } from '../inputfile.js';
import { AsyncShell } from './asyncshell.js';
import { confRead, runTarget, writeAutoconfH, writeDefconfig } from './confdata.js';
import { State } from './eval.js';
import { explainSymbol, unmetRequests } from './explain.js';
import { finalize } from './finalize.js';
import { type Sym, SymType, type Tree } from './model.js';
import { type ParseResult, Parser } from './parser.js';
import { ShellCache } from './preprocess.js';
import { loadShellCache, saveShellCache } from './shellcache.js';

export type Tristate = 'n' | 'm' | 'y';

export interface Diagnostic {
  level: 'info' | 'warning' | 'error';
  message: string;
  loc?: SourceLocation;
}

export interface LoadOptions {
  /** `source` paths are relative to this. */
  srctree: string;
  /** Root file relative to srctree, default 'Kconfig'. */
  kconfig?: string;
  /** For $(VAR) and $(shell,...); default process.env. */
  env?: Record<string, string | undefined>;
  /** Default: print warnings to stderr (and $(info,...) to stdout). */
  onDiagnostic?: (d: Diagnostic) => void;
  /** Optional persisted $(shell,...) result cache. */
  shellCacheFile?: string;
  /** Working directory for $(shell,...) commands; default process.cwd() (Linux runs conf in the object tree). */
  cwd?: string;
  /** Warn about symbols used in expressions but never defined; default true. */
  warnUndefined?: boolean;
}

export type Target =
  | 'olddefconfig'
  | 'defconfig'
  | 'alldefconfig'
  | 'allnoconfig'
  | 'allyesconfig'
  | 'allmodconfig'
  | 'savedefconfig';

export const TARGETS: readonly Target[] = [
  'olddefconfig',
  'defconfig',
  'alldefconfig',
  'allnoconfig',
  'allyesconfig',
  'allmodconfig',
  'savedefconfig',
];

/** .config / defconfig contents + name for errors. */
export interface ConfigText {
  text: string;
  file: string;
}

export interface Kconfig {
  resolve(opts: { target: Target; base?: ConfigText; allconfig?: ConfigText }): ResolvedConfig;
  symbolNames(): string[];
}

export interface Unmet {
  symbol: string;
  requested: string;
  got: string;
  reason: string;
  loc?: SourceLocation;
}

export interface Explanation {
  symbol: string;
  type: string;
  value: string;
  prompt?: string;
  definedAt: SourceLocation[];
  dependsOn?: { expr: string; value: Tristate };
  selectedBy: { expr: string; value: Tristate }[];
  impliedBy: { expr: string; value: Tristate }[];
  /** One line: "n because it depends on PCI (=n)". */
  reason: string;
  /** The full human-readable explanation. */
  text(): string;
}

export interface ResolvedConfig {
  /** 'y'|'m'|'n' for bool/tristate, else the value; undefined = unknown symbol. */
  get(name: string): string | undefined;
  /** y or m. */
  isEnabled(name: string): boolean;
  /** Full .config, as Linux's conf writes it. */
  dotconfig(): string;
  /** Minimal defconfig. */
  savedefconfig(): string;
  /** C header, Linux include/generated/autoconf.h style. */
  autoconfH(): string;
  explain(name: string): Explanation;
  /** Requests from `base` that ended with another value, with reasons. */
  unmet(): Unmet[];
}

export function defaultDiagnostic(d: Diagnostic): void {
  const where = d.loc ? `${d.loc.file}${d.loc.line !== undefined ? `:${d.loc.line}` : ''}: ` : '';
  if (d.level === 'info') process.stdout.write(`${d.message}\n`);
  else process.stderr.write(`${where}${d.level}: ${d.message}\n`);
}

function configPrefix(env: Record<string, string | undefined>): string {
  return env.CONFIG_ ?? 'CONFIG_';
}

class Resolved implements ResolvedConfig {
  private defconfigText: string | undefined;
  private headerText: string | undefined;

  constructor(
    private readonly tree: Tree,
    private readonly st: State,
    private readonly dot: string,
    private readonly requests: import('./confdata.js').Request[],
    private readonly prefix: string,
    private readonly savedefBase: ConfigText | undefined,
    private readonly target: Target,
  ) {}

  private sym(name: string): Sym | undefined {
    const s = this.tree.byName.get(name);
    if (!s || (s.type === SymType.Unknown && s.menus.length === 0)) return undefined;
    return s;
  }

  get(name: string): string | undefined {
    const s = this.sym(name);
    return s ? this.st.str(s) : undefined;
  }

  isEnabled(name: string): boolean {
    const s = this.sym(name);
    if (!s || (s.type !== SymType.Bool && s.type !== SymType.Tristate)) return false;
    return this.st.tri[s.id] !== 0;
  }

  dotconfig(): string {
    return this.dot;
  }

  savedefconfig(): string {
    if (this.defconfigText === undefined) {
      // Like `make savedefconfig`: read the written .config back, then minimize.
      const st = new State(this.tree, () => {});
      confRead(st, this.savedefBase ?? { text: this.dot, file: '.config' }, this.prefix, () => {}, false);
      this.defconfigText = writeDefconfig(st, this.prefix);
    }
    return this.defconfigText;
  }

  autoconfH(): string {
    this.headerText ??= writeAutoconfH(this.st, this.prefix);
    return this.headerText;
  }

  explain(name: string): Explanation {
    const s = this.tree.byName.get(name);
    if (!s) throw new KconfigError(`unknown symbol ${name}`, { hint: suggest(this.tree, name) });
    return explainSymbol(this.st, s, { requests: this.requests, target: this.target });
  }

  unmet(): Unmet[] {
    return unmetRequests(this.st, { requests: this.requests, target: this.target });
  }
}

function suggest(tree: Tree, name: string): string | undefined {
  const up = name.toUpperCase().replace(/^CONFIG_/, '');
  if (up !== name && tree.byName.has(up)) return `did you mean ${up}?`;
  let best: string | undefined;
  let bestD = 3;
  for (const n of tree.byName.keys()) {
    if (Math.abs(n.length - up.length) >= bestD) continue;
    const d = editDistance(n, up, bestD);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best ? `did you mean ${best}?` : undefined;
}

function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length]!;
}

class Loaded implements Kconfig {
  constructor(
    private readonly tree: Tree,
    private readonly prefix: string,
    private readonly diag: (d: Diagnostic) => void,
  ) {}

  resolve(opts: { target: Target; base?: ConfigText; allconfig?: ConfigText }): ResolvedConfig {
    if (!TARGETS.includes(opts.target)) throw new KconfigError(`unknown target '${opts.target}'`);
    const r = runTarget(this.tree, opts.target, opts.base, opts.allconfig, this.prefix, this.diag);
    return new Resolved(
      this.tree,
      r.state,
      r.dotconfig,
      r.requests,
      this.prefix,
      opts.target === 'savedefconfig' ? opts.base : undefined,
      opts.target,
    );
  }

  symbolNames(): string[] {
    const out: string[] = [];
    for (const s of this.tree.byName.values()) if (s.menus.length) out.push(s.name!);
    return out;
  }
}

const NUMBER_RE = /^(-?[0-9]+|0[xX][0-9a-fA-F]+|[0-9a-fA-F]+)$/;

/**
 * Loads a Kconfig tree. $(shell,...) calls inside expressions run in the
 * background, in parallel, while parsing goes on.
 */
export async function loadKconfig(opts: LoadOptions): Promise<Kconfig> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const shell = new ShellCache(env, cwd);
  const parser = startParse(opts, env, shell, new AsyncShell(env, cwd, shell));
  let pr: ParseResult | undefined;
  let parseError: unknown;
  try {
    pr = parser.parse(opts.kconfig ?? 'Kconfig');
  } catch (err) {
    parseError = err;
  }
  try {
    // Even after a syntax error, wait for the background commands; a failed
    // $(error-if,...) (a missing compiler...) is the error to report first.
    await parser.settle(pr !== undefined);
  } finally {
    saveCache(opts, shell);
  }
  if (!pr) throw parseError;
  return complete(opts, env, pr);
}

/** Synchronous version of loadKconfig: every $(shell,...) runs in order. */
export function loadKconfigSync(opts: LoadOptions): Kconfig {
  const env = opts.env ?? process.env;
  const shell = new ShellCache(env, opts.cwd ?? process.cwd());
  const parser = startParse(opts, env, shell, null);
  let pr: ParseResult;
  try {
    pr = parser.parse(opts.kconfig ?? 'Kconfig');
  } finally {
    saveCache(opts, shell);
  }
  return complete(opts, env, pr);
}

function startParse(
  opts: LoadOptions,
  env: Record<string, string | undefined>,
  shell: ShellCache,
  async: AsyncShell | null,
): Parser {
  if (opts.shellCacheFile) loadShellCache(opts.shellCacheFile, shell);
  // Linux's Kconfig files read $(srctree) and friends from the environment.
  const parseEnv = env.srctree === undefined ? { ...env, srctree: opts.srctree } : env;
  const diag = opts.onDiagnostic ?? defaultDiagnostic;
  return new Parser({ srctree: opts.srctree, env: parseEnv, shell, diag, async });
}

function saveCache(opts: LoadOptions, shell: ShellCache): void {
  shell.close();
  if (opts.shellCacheFile && shell.dirty) saveShellCache(opts.shellCacheFile, shell);
}

function complete(opts: LoadOptions, env: Record<string, string | undefined>, pr: ParseResult): Kconfig {
  const diag = opts.onDiagnostic ?? defaultDiagnostic;
  const tree = finalize(pr, diag);
  if (opts.warnUndefined !== false) {
    for (const s of tree.syms) {
      if (s.isConst || s.isChoice || s.menus.length || s.name === null || !s.firstUse) continue;
      if (NUMBER_RE.test(s.name)) continue;
      diag({ level: 'warning', message: `symbol ${s.name} is used but never defined`, loc: s.firstUse });
    }
  }
  return new Loaded(tree, configPrefix(env), diag);
}

/** Reads a config file for resolve(); errors name the file. */
export function readConfigText(file: string): ConfigText {
  try {
    return { text: readInputFile(file).toString('latin1'), file };
  } catch (err) {
    if (err instanceof OsvbError) throw new KconfigError(err.message, { loc: { file }, cause: err });
    throw new KconfigError(`cannot read ${file}: ${(err as Error).message}`, { loc: { file }, cause: err });
  }
}

/**
 * Merges config fragments into a base the way Linux's merge_config.sh does:
 * every symbol a fragment sets is removed from what came before, then the
 * fragment is appended (so the last fragment wins).
 */
export function mergeConfigs(base: ConfigText, fragments: ConfigText[], prefix = 'CONFIG_'): ConfigText {
  let lines = base.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const nameRe = new RegExp(
    `^(?:${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([A-Za-z0-9_]+)=|# ${prefix}([A-Za-z0-9_]+) is not set$)`,
  );
  for (const frag of fragments) {
    const names = new Set<string>();
    for (const l of frag.text.split('\n')) {
      const m = nameRe.exec(l);
      if (m) names.add(`${prefix}${m[1] ?? m[2]}`);
    }
    lines = lines.filter((l) => {
      for (const n of names) if (l.includes(`${n}=`) || l.includes(`${n} `)) return false;
      return true;
    });
    lines.push('');
    const fl = frag.text.split('\n');
    if (fl[fl.length - 1] === '') fl.pop();
    for (const l of fl) lines.push(l); // not push(...fl): a fragment may have a million lines
  }
  return { text: `${lines.join('\n')}\n`, file: base.file };
}
