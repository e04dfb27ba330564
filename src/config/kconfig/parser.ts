// Parser for the Kconfig language (the statement set of Linux 6.1, plus
// rsource/osource/orsource, glob patterns in source, and `transitional`).
// Builds the menu tree and the symbols' property lists the way Linux's
// parser.y + menu.c do, so that finalize() can apply Linux's semantics.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { KconfigError, OsvbError, type SourceLocation } from '../../errors.js';
import { readInputFile } from '../inputfile.js';
import type { Diagnostic } from './index.js';
import { Lexer, T, type Token } from './lexer.js';
import {
  E,
  type Expr,
  type MenuKind,
  type MenuNode,
  P,
  type Prop,
  SF_CONST,
  SF_OPTIONAL,
  SF_TRANSITIONAL,
  type Sym,
  add,
  Sym as SymClass,
  SymType,
} from './model.js';
import { type AsyncShell, hasMarker, substitute } from './asyncshell.js';
import { Preprocessor, type ShellCache } from './preprocess.js';
import { SymbolTable } from './symtab.js';

export interface ParseResult {
  root: MenuNode;
  table: SymbolTable;
  modules: Sym | null;
  files: string[];
}

/**
 * How deep an expression (parentheses, `!` and chains of && / ||) or a nesting
 * of menus, `if` blocks, dependency chains and `source`d files may go. Every
 * pass over the tree recurses that deep; past this a clean error is given,
 * never a stack overflow (Linux's conf: "memory exhausted" or a crash).
 */
export const MAX_DEPTH = 1000;

/** An expression or a nesting deeper than MAX_DEPTH; the parser adds the location. */
export class TooDeepError extends KconfigError {}

export function tooDeep(what: string, loc?: SourceLocation): TooDeepError {
  return new TooDeepError(`${what} nested more than ${MAX_DEPTH} levels deep`, { loc });
}

const depths = new WeakMap<Expr, number>();

function depthOf(e: Expr): number {
  return depths.get(e) ?? 1;
}

/** An && / || / ! node; its depth is recorded so that no input can build one too deep to walk. */
export function exprNode(k: E.And | E.Or, l: Expr, r: Expr): Expr;
export function exprNode(k: E.Not, e: Expr): Expr;
export function exprNode(k: E.And | E.Or | E.Not, a: Expr, b?: Expr): Expr {
  const d = 1 + Math.max(depthOf(a), b ? depthOf(b) : 0);
  if (d > MAX_DEPTH) throw tooDeep('expression');
  const e: Expr = k === E.Not ? { k, e: a } : { k, l: a, r: b! };
  depths.set(e, d);
  return e;
}

export function andExpr(a: Expr | null, b: Expr | null): Expr | null {
  if (!a) return b;
  if (!b) return a;
  return exprNode(E.And, a, b);
}

export function orExpr(a: Expr | null, b: Expr | null): Expr | null {
  if (!a) return b;
  if (!b) return a;
  return exprNode(E.Or, a, b);
}

export function symExpr(s: Sym): Expr {
  return { k: E.Sym, s };
}

const CMP: Partial<Record<T, E.Eq | E.Neq | E.Lt | E.Le | E.Gt | E.Ge>> = {
  [T.Eq]: E.Eq,
  [T.Neq]: E.Neq,
  [T.Lt]: E.Lt,
  [T.Le]: E.Le,
  [T.Gt]: E.Gt,
  [T.Ge]: E.Ge,
};

/** Keywords that are options of an entry, never statements of their own. */
const OPTION_KEYWORDS = new Set([
  'bool',
  'tristate',
  'int',
  'hex',
  'string',
  'prompt',
  'default',
  'def_bool',
  'def_tristate',
  'select',
  'imply',
  'range',
  'depends',
  'help',
  'modules',
  'transitional',
  'optional',
  'visible',
  'on',
]);

const TYPE_KW: Record<string, SymType> = {
  bool: SymType.Bool,
  tristate: SymType.Tristate,
  int: SymType.Int,
  hex: SymType.Hex,
  string: SymType.String,
};

function describe(t: Token): string {
  switch (t.t) {
    case T.Eol:
      return 'end of line';
    case T.Eof:
      return 'end of file';
    case T.Quote:
      return `"${t.v}"`;
    case T.Word:
    case T.Keyword:
      return `'${t.v}'`;
    default:
      return `'${t.v || tokenText(t.t)}'`;
  }
}

function tokenText(t: T): string {
  switch (t) {
    case T.Or:
      return '||';
    case T.And:
      return '&&';
    case T.Eq:
      return '=';
    case T.Neq:
      return '!=';
    case T.Lt:
      return '<';
    case T.Le:
      return '<=';
    case T.Gt:
      return '>';
    case T.Ge:
      return '>=';
    case T.Not:
      return '!';
    case T.LParen:
      return '(';
    case T.RParen:
      return ')';
    case T.ColonEq:
      return ':=';
    case T.PlusEq:
      return '+=';
    default:
      return '?';
  }
}

export interface ParserOptions {
  srctree: string;
  env: Record<string, string | undefined>;
  shell: ShellCache;
  /** Background runner for $(shell,...) in expressions; null runs everything in order. */
  async?: AsyncShell | null;
  diag: (d: Diagnostic) => void;
}

export class Parser {
  readonly table = new SymbolTable();
  readonly root: MenuNode;
  modules: Sym | null = null;
  readonly files: string[] = [];
  private readonly pp: Preprocessor;
  private lex!: Lexer;
  private readonly fileStack: { name: string; line: number }[] = [];
  private currentMenu: MenuNode;
  private currentEntry: MenuNode;
  private menuOrder = 0;

  constructor(private readonly opts: ParserOptions) {
    this.root = this.newMenu('root', null, null, { file: '<root>', line: 0 });
    this.currentMenu = this.root;
    this.currentEntry = this.root;
    this.pp = new Preprocessor(
      opts.env,
      opts.shell,
      {
        file: () => this.lex?.file ?? '<none>',
        line: () => this.lex?.line ?? 0,
      },
      opts.diag,
      opts.async ?? null,
    );
    this.pp.deferShell = !!opts.async;
  }

  /** A token's text where the value is needed now (names, prompts, paths). */
  private now(s: string): string {
    return this.pp.resolveNow(s);
  }

  /** Expression nodes that name a symbol whose name is still being computed by a $(shell,...). */
  private readonly fixups: Expr[] = [];
  /** Parentheses and `!` open around the expression being parsed. */
  private nesting = 0;

  /**
   * Waits for background $(shell,...) commands and puts their output in place
   * (`apply`: false after a failed parse, only the deferred $(error-if) checks run).
   */
  async settle(apply = true): Promise<void> {
    const async = this.opts.async;
    if (!async?.pending) return;
    const results = await async.finish();
    if (!apply) {
      for (const check of this.pp.deferredChecks) check(results);
      return;
    }
    const real = new Map<Sym, Sym>();
    const fix = (ph: Sym): Sym => {
      if (ph.id !== -1) return ph;
      let s = real.get(ph);
      if (!s) {
        const name = substitute(ph.name!, results);
        s = ph.isConst ? this.table.lookupConst(name) : this.table.lookup(name);
        if (!s.firstUse && ph.firstUse) s.firstUse = ph.firstUse;
        real.set(ph, s);
      }
      return s;
    };
    for (const e of this.fixups) {
      if (e.k === E.Sym) e.s = fix(e.s);
      else if ('a' in e) {
        e.a = fix(e.a);
        e.b = fix(e.b);
      }
    }
    for (const check of this.pp.deferredChecks) check(results);
  }

  private newMenu(kind: MenuKind, sym: Sym | null, parent: MenuNode | null, loc: SourceLocation): MenuNode {
    return {
      kind,
      sym,
      prompt: null,
      dep: null,
      visibility: null,
      parent,
      children: [],
      loc,
      order: this.menuOrder++,
    };
  }

  private loc(): SourceLocation {
    return { file: this.lex.file, line: this.lex.stmtLine };
  }

  private error(msg: string, tok?: Token): never {
    const loc: SourceLocation = tok
      ? { file: this.lex.file, line: tok.line, column: tok.col || undefined }
      : this.loc();
    throw new KconfigError(msg, { loc });
  }

  private warn(msg: string, loc: SourceLocation = this.loc()): void {
    this.opts.diag({ level: 'warning', message: msg, loc });
  }

  parse(rootFile: string): ParseResult {
    this.parseFile(rootFile, null, true);
    if (!this.root.prompt) {
      this.currentEntry = this.root;
      this.addPrompt(P.Menu, 'Main menu', null, { file: rootFile, line: 1 });
    }
    return { root: this.root, table: this.table, modules: this.modules, files: this.files };
  }

  private readSource(name: string, from: SourceLocation | null): string {
    const full = path.isAbsolute(name) ? name : path.join(this.opts.srctree, name);
    try {
      return readText(full);
    } catch (err) {
      if (err instanceof OsvbError)
        throw new KconfigError(`"${name}": ${err.message}`, { loc: from ?? { file: name } });
      const code = (err as NodeJS.ErrnoException).code;
      if (from) throw new KconfigError(`can't open file "${name}"`, { loc: from, cause: err });
      throw new KconfigError(`can't find file ${name}${code ? ` (${code})` : ''}`, {
        loc: { file: name },
        cause: err,
      });
    }
  }

  private parseFile(name: string, from: SourceLocation | null, isRoot = false): void {
    const saved = this.lex;
    if (saved) this.fileStack[this.fileStack.length - 1]!.line = saved.stmtLine;
    for (const f of this.fileStack) {
      if (f.name === name) {
        const chain = this.fileStack.map((x) => `${x.name}:${x.line}`).join(' -> ');
        throw new KconfigError(`recursive inclusion of "${name}" (${chain})`, {
          loc: from ?? { file: name },
        });
      }
    }
    if (this.fileStack.length >= MAX_DEPTH) throw tooDeep('source statements', from ?? { file: name });
    const text = this.readSource(name, from);
    this.files.push(name);
    this.fileStack.push({ name, line: 0 });
    this.lex = new Lexer(text, name, this.pp, this.opts.diag);
    const depthMenu = this.currentMenu;
    try {
      if (isRoot) {
        const t = this.lex.peek();
        if (t.t === T.Keyword && t.v === 'mainmenu') {
          this.lex.take();
          const q = this.expect(T.Quote, 'a quoted prompt after mainmenu');
          this.eol();
          this.currentEntry = this.root;
          this.addPrompt(P.Menu, q.v, null, this.loc());
        }
      }
      this.stmtList(false);
      const t = this.lex.peek();
      if (t.t !== T.Eof) this.error(`unexpected ${describe(t)}`, t);
      if (this.currentMenu !== depthMenu) {
        const m = this.currentMenu;
        throw new KconfigError(`missing end statement for this ${m.kind}`, { loc: m.loc });
      }
    } catch (err) {
      // Built deep by many lines (a long run of "depends on"): the statement that went over.
      if (err instanceof TooDeepError && !err.loc) throw tooDeep('expression', this.loc());
      throw err;
    } finally {
      this.fileStack.pop();
      if (saved) this.lex = saved;
    }
  }

  private expect(t: T, what: string): Token {
    const tok = this.lex.take();
    if (tok.t !== t) this.error(`syntax error: expected ${what}, got ${describe(tok)}`, tok);
    return tok;
  }

  private eol(): void {
    const tok = this.lex.take();
    if (tok.t !== T.Eol && tok.t !== T.Eof) this.error(`syntax error: unexpected ${describe(tok)}`, tok);
  }

  private isKw(tok: Token, kw: string): boolean {
    return tok.t === T.Keyword && tok.v === kw;
  }

  /** Statements until EOF or an end keyword (left unconsumed). */
  private stmtList(inChoice: boolean): void {
    for (;;) {
      const tok = this.lex.peek();
      if (tok.t === T.Eof) return;
      if (tok.t === T.Eol) {
        this.lex.take();
        continue;
      }
      if (tok.t === T.Keyword) {
        switch (tok.v) {
          case 'endmenu':
          case 'endchoice':
          case 'endif':
            return;
          case 'config':
          case 'menuconfig':
            this.configStmt(tok.v);
            continue;
          case 'comment':
            this.commentStmt();
            continue;
          case 'if':
            this.ifStmt(inChoice);
            continue;
        }
        if (!inChoice) {
          switch (tok.v) {
            case 'choice':
              this.choiceStmt();
              continue;
            case 'menu':
              this.menuStmt();
              continue;
            case 'source':
            case 'rsource':
            case 'osource':
            case 'orsource':
              this.sourceStmt(tok.v);
              continue;
            case 'mainmenu':
              this.error('mainmenu must be the first statement of the root Kconfig file', tok);
          }
        }
        if (inChoice && ['choice', 'menu', 'source', 'rsource', 'osource', 'orsource'].includes(tok.v)) {
          this.error(`'${tok.v}' is not allowed inside a choice`, tok);
        }
        if (OPTION_KEYWORDS.has(tok.v)) {
          this.error(`'${tok.v}' must follow a config, menuconfig, choice, menu or comment entry`, tok);
        }
        this.error(`unexpected '${tok.v}'`, tok);
      }
      if (tok.t === T.Word && hasMarker(tok.v)) {
        // A statement made of a background $(shell,...): Linux drops words that expand to nothing.
        const v = this.now(tok.v);
        if (v === '') {
          this.lex.take();
          continue;
        }
        tok.v = v;
      }
      if (tok.t === T.Word && !inChoice) {
        this.lex.take();
        const op = this.lex.peek();
        if (op.t === T.Eq || op.t === T.ColonEq || op.t === T.PlusEq) {
          this.lex.take();
          const value = this.lex.assignPending ? this.lex.readAssignValue() : '';
          this.eol();
          const flavor = op.t === T.Eq ? 'recursive' : op.t === T.ColonEq ? 'simple' : 'append';
          this.pp.addVariable(this.now(tok.v), value, flavor);
          continue;
        }
        this.error(`unknown statement "${tok.v}"`, tok);
      }
      this.error(`invalid statement: unexpected ${describe(tok)}`, tok);
    }
  }

  private endBlock(kind: 'menu' | 'choice' | 'if', opened: MenuNode): void {
    const tok = this.lex.peek();
    const want = `end${kind}`;
    if (tok.t === T.Eof) {
      throw new KconfigError(`missing '${want}' for this ${kind}`, { loc: opened.loc });
    }
    if (!this.isKw(tok, want)) {
      this.error(`unexpected '${tok.v}' within ${kind} block (opened at line ${opened.loc.line})`, tok);
    }
    this.lex.take();
    this.eol();
    this.currentMenu = opened.parent!;
  }

  private addEntry(kind: MenuKind, sym: Sym | null): MenuNode {
    const m = this.newMenu(kind, sym, this.currentMenu, this.loc());
    this.currentMenu.children.push(m);
    this.currentEntry = m;
    if (sym) sym.menus = add(sym.menus, m);
    return m;
  }

  private addProp(type: P, expr: Expr | null, cond: Expr | null, loc: SourceLocation = this.loc()): Prop {
    const entry = this.currentEntry;
    const prop: Prop = { type, expr, cond, ifCond: cond, menu: entry, loc };
    const sym = entry.sym;
    if (sym) {
      sym.props = add(sym.props, prop);
      switch (type) {
        case P.Prompt:
          sym.prompts = add(sym.prompts, prop);
          break;
        case P.Default:
          sym.defaults = add(sym.defaults, prop);
          break;
        case P.Range:
          sym.ranges = add(sym.ranges, prop);
          break;
        case P.Select:
          sym.selects = add(sym.selects, prop);
          break;
        case P.Imply:
          sym.implies = add(sym.implies, prop);
          break;
      }
    }
    return prop;
  }

  private addPrompt(type: P, text: string, cond: Expr | null, loc: SourceLocation = this.loc()): Prop {
    const prop = this.addProp(type, null, cond, loc);
    text = this.now(text);
    if (/^\s/.test(text)) {
      this.warn('leading whitespace ignored', loc);
      text = text.replace(/^\s+/, '');
    }
    const entry = this.currentEntry;
    if (entry.prompt) this.warn('prompt redefined', loc);
    if (type === P.Prompt) {
      // The `visible if` of every enclosing menu limits the prompt.
      for (let m = entry.parent; m; m = m.parent) {
        if (m.visibility) prop.cond = andExpr(prop.cond, m.visibility);
      }
    }
    entry.prompt = prop;
    prop.text = text;
    return prop;
  }

  private setType(t: SymType): void {
    const sym = this.currentEntry.sym!;
    if (sym.type === t) return;
    if (sym.type === SymType.Unknown) {
      sym.type = t;
      return;
    }
    const names = ['unknown', 'bool', 'tristate', 'integer', 'hex', 'string'];
    this.warn(
      `ignoring type redefinition of '${sym.displayName}' from '${names[sym.type]}' to '${names[t]}'`,
    );
  }

  private symbolName(what: string): Token {
    const tok = this.lex.take();
    if (tok.t !== T.Word) this.error(`syntax error: expected ${what}, got ${describe(tok)}`, tok);
    return hasMarker(tok.v) ? { ...tok, v: this.now(tok.v) } : tok;
  }

  private configStmt(kw: string): void {
    this.lex.take();
    const nameTok = this.symbolName('a symbol name');
    this.eol();
    const sym = this.table.lookup(nameTok.v);
    if (sym.isConst) this.error(`'${nameTok.v}' is a constant and cannot be defined`, nameTok);
    sym.flags |= SF_OPTIONAL;
    const entry = this.addEntry(kw === 'menuconfig' ? 'menuconfig' : 'config', sym);
    this.configOptions(false);
    if (kw === 'menuconfig') {
      if (entry.prompt) entry.prompt.type = P.Menu;
      else this.warn('menuconfig statement without prompt', entry.loc);
    }
  }

  /** Options of a config, menuconfig or choice entry. */
  private configOptions(isChoice: boolean): void {
    for (;;) {
      const tok = this.lex.peek();
      if (tok.t === T.Eol) {
        this.lex.take();
        continue;
      }
      if (tok.t !== T.Keyword) return;
      // Tokens are reused objects: keep what is needed after parsing an expression.
      const kw = tok.v;
      const entry = this.currentEntry;
      const sym = entry.sym!;
      switch (kw) {
        case 'bool':
        case 'tristate':
        case 'int':
        case 'hex':
        case 'string': {
          this.lex.take();
          const t = TYPE_KW[kw]!;
          if (isChoice && t !== SymType.Bool && t !== SymType.Tristate) {
            this.error(`a choice can only be bool or tristate, not ${kw}`, tok);
          }
          this.setType(t);
          if (this.lex.peek().t === T.Quote) {
            const q = this.lex.take();
            const cond = this.ifExpr();
            this.addPrompt(P.Prompt, q.v, cond);
          }
          this.eol();
          continue;
        }
        case 'prompt': {
          this.lex.take();
          const q = this.expect(T.Quote, 'a quoted prompt');
          const cond = this.ifExpr();
          this.eol();
          this.addPrompt(P.Prompt, q.v, cond);
          continue;
        }
        case 'default':
        case 'def_bool':
        case 'def_tristate': {
          this.lex.take();
          if (isChoice) {
            if (kw !== 'default') this.error(`'${kw}' is not allowed in a choice`, tok);
            const nt = this.symbolName('a choice value symbol');
            const target = this.table.lookup(nt.v);
            this.use(target, nt);
            const cond = this.ifExpr();
            this.eol();
            this.addProp(P.Default, { k: E.Sym, s: target }, cond);
            continue;
          }
          const e = this.expr();
          const cond = this.ifExpr();
          this.eol();
          this.addProp(P.Default, e, cond);
          if (kw === 'def_bool') this.setType(SymType.Bool);
          else if (kw === 'def_tristate') this.setType(SymType.Tristate);
          continue;
        }
        case 'select':
        case 'imply': {
          if (isChoice) this.error(`'${kw}' is not allowed in a choice`, tok);
          this.lex.take();
          const nt = this.symbolName(`a symbol to ${kw}`);
          const target = this.table.lookup(nt.v);
          this.use(target, nt);
          const cond = this.ifExpr();
          this.eol();
          this.addProp(kw === 'select' ? P.Select : P.Imply, { k: E.Sym, s: target }, cond);
          continue;
        }
        case 'range': {
          if (isChoice) this.error(`'range' is not allowed in a choice`, tok);
          this.lex.take();
          const lo = this.symbol(true);
          const hi = this.symbol(true);
          const cond = this.ifExpr();
          this.eol();
          const p = this.addProp(P.Range, null, cond);
          p.lo = lo;
          p.hi = hi;
          continue;
        }
        case 'depends': {
          this.dependsOn();
          continue;
        }
        case 'help':
          this.help();
          continue;
        case 'modules': {
          if (isChoice) this.error(`'modules' is not allowed in a choice`, tok);
          this.lex.take();
          this.eol();
          if (this.modules && this.modules !== sym) {
            this.error(
              `symbol '${sym.displayName}' redefines option 'modules' already defined by symbol '${this.modules.displayName}'`,
              tok,
            );
          }
          this.modules = sym;
          continue;
        }
        case 'transitional': {
          if (isChoice) this.error(`'transitional' is not allowed in a choice`, tok);
          this.lex.take();
          this.eol();
          sym.flags |= SF_TRANSITIONAL;
          continue;
        }
        case 'optional': {
          if (!isChoice) this.error(`'optional' is only allowed in a choice`, tok);
          this.lex.take();
          this.eol();
          sym.flags |= SF_OPTIONAL;
          continue;
        }
        default:
          return;
      }
    }
  }

  private dependsOn(): void {
    this.lex.take();
    const on = this.lex.take();
    if (!this.isKw(on, 'on'))
      this.error(`syntax error: expected 'on' after 'depends', got ${describe(on)}`, on);
    const e = this.expr();
    this.eol();
    this.currentEntry.dep = andExpr(this.currentEntry.dep, e);
  }

  private help(): void {
    const entry = this.currentEntry;
    const tok = this.lex.take();
    const after = this.lex.take();
    if (after.t !== T.Eol) this.error(`syntax error: unexpected ${describe(after)} after 'help'`, after);
    const line = tok.line;
    const help = this.lex.readHelp();
    const name = entry.sym ? entry.sym.displayName : '<choice>';
    if (entry.help !== undefined) {
      this.warn(`'${name}' defined with more than one help text -- only the last one will be used`, {
        file: this.lex.file,
        line,
      });
    }
    if (help.blank) this.warn(`'${name}' defined with blank help text`, { file: this.lex.file, line });
    entry.help = help.text;
  }

  private choiceStmt(): void {
    this.lex.take();
    let name: string | null = null;
    const t = this.lex.peek();
    if (t.t === T.Word) {
      this.lex.take();
      name = this.now(t.v);
    }
    this.eol();
    const sym = this.table.lookupChoice(name);
    sym.flags |= 0; // choices are never written (SYMBOL_NO_WRITE is implied by SF_CHOICE)
    const entry = this.addEntry('choice', sym);
    this.configOptions(true);
    this.currentMenu = entry;
    this.stmtList(true);
    this.endBlock('choice', entry);
  }

  private commentStmt(): void {
    this.lex.take();
    const q = this.expect(T.Quote, 'a quoted comment text');
    this.eol();
    this.addEntry('comment', null);
    this.addPrompt(P.Comment, q.v, null);
    for (;;) {
      const tok = this.lex.peek();
      if (tok.t === T.Eol) {
        this.lex.take();
        continue;
      }
      if (this.isKw(tok, 'depends')) {
        this.dependsOn();
        continue;
      }
      return;
    }
  }

  private ifStmt(inChoice: boolean): void {
    this.lex.take();
    const e = this.expr();
    this.eol();
    const entry = this.addEntry('if', null);
    entry.dep = andExpr(entry.dep, e);
    this.currentMenu = entry;
    this.stmtList(inChoice);
    this.endBlock('if', entry);
  }

  private menuStmt(): void {
    this.lex.take();
    const q = this.expect(T.Quote, 'a quoted menu title');
    this.eol();
    const entry = this.addEntry('menu', null);
    this.addPrompt(P.Menu, q.v, null);
    for (;;) {
      const tok = this.lex.peek();
      if (tok.t === T.Eol) {
        this.lex.take();
        continue;
      }
      if (this.isKw(tok, 'depends')) {
        this.dependsOn();
        continue;
      }
      if (this.isKw(tok, 'visible')) {
        this.lex.take();
        const cond = this.ifExpr();
        this.eol();
        entry.visibility = andExpr(entry.visibility, cond);
        continue;
      }
      break;
    }
    this.currentMenu = entry;
    this.stmtList(false);
    this.endBlock('menu', entry);
  }

  private sourceStmt(kw: string): void {
    const kwTok = this.lex.take();
    const q = this.expect(T.Quote, `a quoted file name after ${kw}`);
    const loc = { file: this.lex.file, line: kwTok.line };
    this.eol();
    const optional = kw === 'osource' || kw === 'orsource';
    let name = this.now(q.v);
    if (kw === 'rsource' || kw === 'orsource') {
      const dir = path.posix.dirname(this.lex.file);
      name = dir === '.' ? name : path.posix.join(dir, name);
    }
    const files = this.globSource(name);
    if (files.length === 0) {
      if (optional) return;
      throw new KconfigError(`can't open file "${name}"`, { loc });
    }
    for (const f of files) {
      if (optional && !existsSync(path.isAbsolute(f) ? f : path.join(this.opts.srctree, f))) continue;
      this.parseFile(f, loc);
    }
  }

  /** A `source` path, possibly with glob characters, relative to srctree; sorted matches. */
  private globSource(name: string): string[] {
    // Plain names are read directly; a missing file is reported by readSource.
    if (!/[*?[]/.test(name)) return [name];
    const parts = name.split('/');
    let acc: string[] = [path.isAbsolute(name) ? '/' : ''];
    for (const part of parts) {
      if (part === '') continue;
      const next: string[] = [];
      const re = /[*?[]/.test(part) ? globToRegExp(part) : null;
      for (const base of acc) {
        const dir = path.isAbsolute(base) ? base : path.join(this.opts.srctree, base || '.');
        if (!re) {
          next.push(base ? path.posix.join(base, part) : part);
          continue;
        }
        let ents: string[] = [];
        try {
          ents = readdirSync(dir);
        } catch {
          continue;
        }
        for (const e of ents.sort()) {
          if (re.test(e) && !e.startsWith('.')) next.push(base ? path.posix.join(base, e) : e);
        }
      }
      acc = next;
    }
    return acc.filter((f) => existsSync(path.isAbsolute(f) ? f : path.join(this.opts.srctree, f)));
  }

  private ifExpr(): Expr | null {
    const t = this.lex.peek();
    if (this.isKw(t, 'if')) {
      this.lex.take();
      return this.expr();
    }
    return null;
  }

  private use(sym: Sym, tok: Token): void {
    if (!sym.firstUse) sym.firstUse = { file: this.lex.file, line: tok.line, column: tok.col };
  }

  private symbol(now = false): Sym {
    let tok = this.lex.take();
    if (now && hasMarker(tok.v)) tok = { ...tok, v: this.now(tok.v) };
    if ((tok.t === T.Word || tok.t === T.Quote) && hasMarker(tok.v)) {
      // Named by a $(shell,...) still running: a placeholder until settle().
      const ph = new PlaceholderSym(tok.v, tok.t === T.Quote);
      ph.firstUse = { file: this.lex.file, line: tok.line, column: tok.col };
      return ph;
    }
    if (tok.t === T.Word) {
      const s = this.table.lookup(tok.v);
      this.use(s, tok);
      return s;
    }
    if (tok.t === T.Quote) return this.table.lookupConst(tok.v);
    this.error(`syntax error: expected a symbol, got ${describe(tok)}`, tok);
  }

  expr(): Expr {
    return this.orTerm();
  }

  private orTerm(): Expr {
    let l = this.andTerm();
    while (this.lex.peek().t === T.Or) {
      this.lex.take();
      l = exprNode(E.Or, l, this.andTerm());
    }
    return l;
  }

  private andTerm(): Expr {
    let l = this.unary();
    while (this.lex.peek().t === T.And) {
      this.lex.take();
      l = exprNode(E.And, l, this.unary());
    }
    return l;
  }

  private unary(): Expr {
    const t = this.lex.peek();
    if (t.t === T.Not || t.t === T.LParen) {
      // Checked before descending: "!!!!…" or "((((…" must not recurse without bound.
      if (++this.nesting > MAX_DEPTH) throw tooDeep('expression', { file: this.lex.file, line: t.line });
      try {
        this.lex.take();
        if (t.t === T.Not) return exprNode(E.Not, this.unary());
        const e = this.orTerm();
        const c = this.lex.take();
        if (c.t !== T.RParen) this.error(`syntax error: expected ')', got ${describe(c)}`, c);
        return e;
      } finally {
        this.nesting--;
      }
    }
    const a = this.symbol();
    const op = CMP[this.lex.peek().t];
    let node: Expr;
    if (op !== undefined) {
      this.lex.take();
      const b = this.symbol();
      node = { k: op, a, b };
      if (a.id === -1 || b.id === -1) this.fixups.push(node);
    } else {
      node = { k: E.Sym, s: a };
      if (a.id === -1) this.fixups.push(node);
    }
    return node;
  }
}

/** Stands for a symbol whose name a background $(shell,...) is still computing. */
class PlaceholderSym extends SymClass {
  constructor(name: string, quoted: boolean) {
    super(-1, name, quoted ? SF_CONST : 0);
  }
}

const readBuf = { buf: Buffer.allocUnsafe(1 << 20) };

/** A file's bytes as latin1 text, through one reused buffer (a Linux tree has ~1500 Kconfig files). */
function readText(file: string): string {
  return readInputFile(file, { scratch: readBuf }).toString('latin1');
}

function globToRegExp(g: string): RegExp {
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = g.indexOf(']', i + 1);
      if (j < 0) re += '\\[';
      else {
        re += `[${g.slice(i + 1, j).replace(/^!/, '^')}]`;
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

export function parseKconfig(rootFile: string, opts: ParserOptions): ParseResult {
  return new Parser(opts).parse(rootFile);
}
