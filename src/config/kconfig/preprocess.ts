// The Kconfig macro language: $(VAR), $(fn,args), recursively (=) and simply
// (:=) expanded variables, += appends, user-defined functions with $(1)..., and
// the built-ins shell, info, warning-if, error-if, filename, lineno.
// Semantics follow Linux's scripts/kconfig preprocessor: undefined references
// expand to '', a '$' not followed by '(' stays a literal '$', and environment
// variables are the last fallback.

import { spawnSync } from 'node:child_process';
import { KconfigError, type SourceLocation } from '../../errors.js';
import { type AsyncShell, hasMarker, SyncShellHelper, substitute } from './asyncshell.js';
import type { Diagnostic } from './index.js';

export type VarFlavor = 'recursive' | 'simple' | 'append';

interface Variable {
  value: string;
  flavor: 'recursive' | 'simple';
  expanding: number;
}

/** Where the preprocessor currently is, for $(filename), $(lineno) and errors. */
export interface PositionSource {
  file(): string;
  line(): number;
}

export interface ShellRunner {
  run(cmd: string): string;
}

/** Runs `/bin/sh -c` like popen(3) and caches the output by command and working directory. */
export class ShellCache implements ShellRunner {
  /** The cached output of `cmd`, without running it. */
  peek(cmd: string): string | undefined {
    return this.entries.get(this.key(cmd));
  }

  readonly entries = new Map<string, string>();
  dirty = false;
  runs = 0;
  private readonly helper: SyncShellHelper;

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly cwd: string,
  ) {
    this.helper = new SyncShellHelper(env, cwd);
  }

  /** Stops the helper process; later commands start a new one. */
  close(): void {
    this.helper.close();
  }

  key(cmd: string): string {
    return `${this.cwd}\0${cmd}`;
  }

  run(cmd: string): string {
    const key = this.key(cmd);
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    this.runs++;
    let raw = this.helper.run(cmd);
    if (raw === undefined) {
      const res = spawnSync('/bin/sh', ['-c', cmd], {
        cwd: this.cwd,
        env: this.env as NodeJS.ProcessEnv,
        encoding: 'latin1',
        stdio: ['inherit', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      });
      raw = res.stdout ?? '';
    }
    // Like Linux: keep at most 4095 bytes, drop trailing newlines, other newlines become spaces.
    let out = raw.slice(0, 4095);
    out = out.replace(/\n+$/, '').replace(/\n/g, ' ');
    this.entries.set(key, out);
    this.dirty = true;
    return out;
  }
}

const isTokenChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;

export class Preprocessor {
  private readonly vars = new Map<string, Variable>();
  /**
   * While set, $(shell,...) returns a marker and runs in the background (see
   * asyncshell.ts); whoever needs the value itself calls resolveNow().
   */
  deferShell = false;
  /** Checks of $(error-if)/$(warning-if)/$(info) whose arguments were still running. */
  readonly deferredChecks: ((results: Map<string, string>) => void)[] = [];
  /** Environment variables the tree referenced, with their values. */
  readonly envUsed = new Map<string, string>();

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly shell: ShellCache,
    private readonly pos: PositionSource,
    private readonly diag: (d: Diagnostic) => void,
    private readonly async: AsyncShell | null = null,
  ) {}

  /** `s` with the output of every background command it mentions (waiting for them). */
  resolveNow(s: string): string {
    return this.async && hasMarker(s) ? this.async.resolveSync(s) : s;
  }

  /** Runs `fn` now, or once the background commands it needs are done. */
  private whenReady(args: string[], fn: (args: string[]) => void): void {
    if (!args.some(hasMarker)) {
      fn(args);
      return;
    }
    const loc = this.loc();
    this.deferredChecks.push((results) => {
      const real = args.map((a) => substitute(a, results));
      try {
        fn(real);
      } catch (err) {
        if (err instanceof KconfigError) throw new KconfigError(err.message, { loc });
        throw err;
      }
    });
  }

  private loc(): SourceLocation {
    return { file: this.pos.file(), line: this.pos.line() };
  }

  private fail(msg: string): never {
    throw new KconfigError(msg, { loc: this.loc() });
  }

  addVariable(name: string, value: string, flavor: VarFlavor): void {
    const v = this.vars.get(name);
    if (v && flavor === 'append') {
      const add = v.flavor === 'simple' ? this.expandString(value) : value;
      v.value = `${v.value} ${add}`;
      return;
    }
    const fl = flavor === 'append' ? 'recursive' : flavor;
    const val = fl === 'simple' ? this.expandString(value) : value;
    if (v) {
      v.value = val;
      v.flavor = fl;
    } else {
      this.vars.set(name, { value: val, flavor: fl, expanding: 0 });
    }
  }

  /** Expands a whole string. */
  expandString(s: string, args: string[] = []): string {
    return this.expand(s, 0, args, false).out;
  }

  /**
   * Expands one token starting at `start`: stops at the first character that is
   * not [A-Za-z0-9_-] outside a $(...) reference. Returns the expansion and the end index.
   */
  expandToken(s: string, start: number, limit: number): { out: string; end: number } {
    return this.expand(s, start, [], true, limit);
  }

  /** Expands the $(...) reference whose '$' is at s[start-1]; s[start] should be '('. */
  expandDollarAt(s: string, start: number, limit: number): { out: string; end: number } {
    return this.expandDollar(s, start, [], limit);
  }

  private expand(
    s: string,
    start: number,
    args: string[],
    tokenOnly: boolean,
    limit = s.length,
  ): { out: string; end: number } {
    let out = '';
    let from = start;
    let p = start;
    const n = limit;
    while (p < n) {
      const c = s.charCodeAt(p);
      if (c === 36 /* $ */) {
        out += s.slice(from, p);
        const r = this.expandDollar(s, p + 1, args, n);
        out += r.out;
        p = r.end;
        from = p;
        continue;
      }
      if (tokenOnly && !isTokenChar(c)) break;
      p++;
    }
    out += s.slice(from, p);
    return { out, end: p };
  }

  private expandDollar(s: string, p: number, args: string[], limit = s.length): { out: string; end: number } {
    if (p >= limit || s.charCodeAt(p) !== 40 /* ( */) return { out: '$', end: p };
    const start = p + 1;
    let q = start;
    let nest = 0;
    for (; q < limit; q++) {
      const c = s.charCodeAt(q);
      if (c === 40) nest++;
      else if (c === 41) {
        if (nest === 0) break;
        nest--;
      }
    }
    if (q >= limit) this.fail(`unterminated reference to '${s.slice(start, limit)}': missing ')'`);
    return { out: this.evalClause(s.slice(start, q), args), end: q + 1 };
  }

  private evalClause(clause: string, args: string[]): string {
    if (/^[0-9]+$/.test(clause)) {
      const n = Number(clause);
      if (n > 0 && n <= args.length) return args[n - 1]!;
    }
    const parts: string[] = [];
    let nest = 0;
    let prev = 0;
    for (let i = 0; i < clause.length; i++) {
      const c = clause.charCodeAt(i);
      if (nest === 0 && c === 44 /* , */) {
        parts.push(clause.slice(prev, i));
        prev = i + 1;
      } else if (c === 40) nest++;
      else if (c === 41) nest--;
    }
    parts.push(clause.slice(prev));
    if (parts.length > 16) this.fail('too many function arguments');
    let name = this.expandString(parts[0]!, args);
    // A variable's name must be known now.
    if (this.async && hasMarker(name)) name = this.async.resolveSync(name);
    const fargs = parts.slice(1).map((a) => this.expandString(a, args));

    const v = this.vars.get(name);
    if (v) {
      if (fargs.length === 0 && v.expanding)
        this.fail(`Recursive variable '${name}' references itself (eventually)`);
      if (v.expanding > 1000) this.fail('Too deep recursive expansion');
      v.expanding++;
      try {
        return v.flavor === 'recursive' ? this.expandString(v.value, fargs) : v.value;
      } finally {
        v.expanding--;
      }
    }
    const fn = this.builtin(name, fargs);
    if (fn !== undefined) return fn;
    if (fargs.length === 0 && name !== '') {
      const e = this.env[name];
      if (e !== undefined) {
        this.envUsed.set(name, e);
        return e;
      }
    }
    return '';
  }

  private builtin(name: string, args: string[]): string | undefined {
    const arity = (min: number, max: number): void => {
      if (args.length < min) this.fail(`too few function arguments passed to '${name}'`);
      if (args.length > max) this.fail(`too many function arguments passed to '${name}'`);
    };
    switch (name) {
      case 'error-if': {
        arity(2, 2);
        const loc = this.loc();
        this.whenReady(args, (a) => {
          if (a[0] === 'y') throw new KconfigError(a[1]!, { loc });
        });
        return '';
      }
      case 'warning-if': {
        arity(2, 2);
        const loc = this.loc();
        this.whenReady(args, (a) => {
          if (a[0] === 'y') this.diag({ level: 'warning', message: a[1]!, loc });
        });
        return '';
      }
      case 'info': {
        arity(1, 1);
        const loc = this.loc();
        this.whenReady(args, (a) => this.diag({ level: 'info', message: a[0]!, loc }));
        return '';
      }
      case 'filename':
        arity(0, 0);
        return this.pos.file();
      case 'lineno':
        arity(0, 0);
        return String(this.pos.line());
      case 'shell': {
        arity(1, 1);
        const cmd = args[0]!;
        const cached = this.shell.peek(cmd);
        if (cached !== undefined) return cached;
        if (this.async && this.deferShell) return this.async.defer(cmd);
        return this.shell.run(cmd);
      }
      default:
        return undefined;
    }
  }
}
