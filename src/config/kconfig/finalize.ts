// Completes a parsed tree with Linux's semantics (menu.c's menu_finalize):
// parent dependencies are propagated into every entry and property, `m` in
// conditions becomes `m && MODULES`, selects/implies become reverse
// dependencies, choices get their types and values, and symbols that depend
// on the symbol before them are nested under it (which decides what is part
// of a choice). Then recursive dependencies are looked for.

import { KconfigError, type SourceLocation } from '../../errors.js';
import type { Diagnostic } from './index.js';
import {
  E,
  type Expr,
  type MenuNode,
  P,
  type Prop,
  SF_CHOICEVAL,
  SF_OPTIONAL,
  type Sym,
  SymType,
  type Tree,
  add,
} from './model.js';
import {
  andExpr,
  exprNode,
  MAX_DEPTH,
  orExpr,
  type ParseResult,
  symExpr,
  TooDeepError,
  tooDeep,
} from './parser.js';

const TYPE_WORD = ['unknown', 'bool', 'tristate', 'integer', 'hex', 'string'];

export function finalize(pr: ParseResult, diag: (d: Diagnostic) => void): Tree {
  const t = pr.table;
  const modules = pr.modules ?? t.symN;
  const warned = new Set<Sym>();
  const warn = (message: string, loc: SourceLocation): void => diag({ level: 'warning', message, loc });

  const rewriteM = (e: Expr | null): Expr | null => {
    if (!e) return e;
    switch (e.k) {
      case E.Not: {
        const x = rewriteM(e.e)!;
        return x === e.e ? e : exprNode(E.Not, x);
      }
      case E.And:
      case E.Or: {
        const l = rewriteM(e.l)!;
        const r = rewriteM(e.r)!;
        return l === e.l && r === e.r ? e : exprNode(e.k, l, r);
      }
      case E.Sym:
        return e.s === t.symM ? exprNode(E.And, e, symExpr(modules)) : e;
      default:
        return e;
    }
  };

  const setType = (node: MenuNode, sym: Sym, type: SymType): void => {
    if (sym.type === type) return;
    if (sym.type === SymType.Unknown) {
      sym.type = type;
      return;
    }
    warn(
      `ignoring type redefinition of '${sym.displayName}' from '${TYPE_WORD[sym.type]}' to '${TYPE_WORD[type]}'`,
      node.loc,
    );
  };

  let current: MenuNode | undefined;
  const finalizeNode = (
    parent: MenuNode,
    siblings: MenuNode[] | null,
    index: number,
    depth: number,
  ): void => {
    // Menus, if blocks and dependency chains (automatic submenus) nest this deep at most.
    if (depth > MAX_DEPTH) throw tooDeep('menus, if blocks and dependency chains', parent.loc);
    current = parent;
    const sym = parent.sym;
    if (parent.children.length) {
      let parentDep: Expr | null;
      if (sym?.isChoice) {
        if (sym.type === SymType.Unknown) {
          for (const c of parent.children) {
            if (c.sym && c.sym.type !== SymType.Unknown) {
              setType(parent, sym, c.sym.type);
              break;
            }
          }
        }
        for (const c of parent.children) {
          if (c.sym && c.sym.type === SymType.Unknown) setType(c, c.sym, sym.type);
        }
        parentDep = symExpr(sym);
      } else {
        parentDep = parent.dep;
      }
      for (const m of parent.children) {
        m.dep = andExpr(parentDep, rewriteM(m.dep));
        const props = m.sym ? m.sym.props : m.prompt ? [m.prompt] : [];
        for (const prop of props) {
          if (prop.menu !== m) continue;
          prop.cond = andExpr(m.dep, rewriteM(prop.cond));
          if (prop.type === P.Select || prop.type === P.Imply) {
            const target = (prop.expr as { k: E.Sym; s: Sym }).s;
            const term = andExpr(symExpr(m.sym!), prop.cond)!;
            try {
              if (prop.type === P.Select) target.revDep = orExpr(target.revDep, term);
              else target.implied = orExpr(target.implied, term);
            } catch (err) {
              if (!(err instanceof TooDeepError)) throw err;
              throw new TooDeepError(
                `${target.name} is selected or implied by more than ${MAX_DEPTH} symbols (or under conditions too deep)`,
                { loc: prop.loc },
              );
            }
          }
        }
      }
      const kids = parent.children;
      for (let i = 0; i < kids.length; i++) finalizeNode(kids[i]!, kids, i, depth + 1);
    } else if (sym && siblings) {
      // Automatic submenu: following entries that depend on this symbol go under it.
      const promptCond = parent.prompt ? parent.prompt.cond : null;
      let j = index + 1;
      while (j < siblings.length) {
        const m = siblings[j]!;
        const dep = m.prompt ? m.prompt.cond : m.dep;
        if (!containsSym(dep, sym)) break;
        if (!dependsOnSym(dep, sym) && !supersetDep(dep, promptCond, sym)) break;
        finalizeNode(m, siblings, j, depth + 1);
        m.parent = parent;
        j++;
      }
      if (j > index + 1) parent.children = siblings.splice(index + 1, j - index - 1);
      sym.dirDep = orExpr(sym.dirDep, parent.dep);
    } else if (sym) {
      sym.dirDep = orExpr(sym.dirDep, parent.dep);
    }

    const kids = parent.children;
    for (let i = 0; i < kids.length; i++) {
      const m = kids[i]!;
      if (sym?.isChoice && m.sym && !m.sym.isChoiceValue) {
        const v = m.sym;
        v.flags |= SF_CHOICEVAL;
        v.choice = sym;
        sym.choiceValues = add(sym.choiceValues, v);
        if (!m.prompt) warn('choice value must have a prompt', m.loc);
        for (const prop of v.props) {
          if (prop.type === P.Default) warn('defaults for choice values not supported', prop.loc);
          if (prop.menu === m) continue;
          if (prop.type === P.Prompt && prop.menu.parent?.sym !== sym) {
            warn('choice value used outside its choice group', prop.loc);
          }
        }
        if (sym.type === SymType.Tristate && v.type !== SymType.Tristate) {
          // Bool values of a tristate choice need the choice to be y.
          const base: Expr = { k: E.Eq, a: sym, b: t.symY };
          m.dep = andExpr(base, m.dep);
          for (const prop of v.props) {
            if (prop.menu === m) prop.cond = andExpr(base, prop.cond);
          }
        }
      }
      // Flatten `if` blocks and submenus under promptless symbols.
      if (m.children.length && !m.prompt?.text) {
        const moved = m.children;
        for (const c of moved) c.parent = parent;
        m.children = [];
        // Not splice(i + 1, 0, ...moved): a spread of 100,000 entries overflows the stack.
        const rest = kids.splice(i + 1);
        for (const c of moved) kids.push(c);
        for (const c of rest) kids.push(c);
      }
    }

    if (sym && !warned.has(sym)) {
      warned.add(sym);
      if (sym.type === SymType.Unknown) warn('config symbol defined without type', parent.loc);
      if (sym.isChoice && !parent.prompt) warn('choice must have a prompt', parent.loc);
      checkProps(sym, warn);
    }

    if (sym && !(sym.flags & SF_OPTIONAL) && parent.prompt) {
      sym.revDep = orExpr(sym.revDep, andExpr(parent.prompt.cond, symExpr(t.symM)));
    }
  };

  try {
    finalizeNode(pr.root, null, 0, 0);
  } catch (err) {
    // An expression grown too deep while dependencies were propagated: where it was written.
    if (err instanceof TooDeepError && !err.loc && current) throw tooDeep('expression', current.loc);
    throw err;
  }

  const menus: MenuNode[] = [];
  const walk = (m: MenuNode): void => {
    m.order = menus.length;
    menus.push(m);
    for (const c of m.children) walk(c);
  };
  walk(pr.root);

  const tree: Tree = {
    root: pr.root,
    syms: t.syms,
    byName: t.byName,
    hashOrder: t.hashOrder(),
    symY: t.symY,
    symM: t.symM,
    symN: t.symN,
    modules,
    menus,
    files: pr.files,
  };
  checkRecursion(tree);
  return tree;
}

function containsSym(e: Expr | null, s: Sym): boolean {
  if (!e) return false;
  switch (e.k) {
    case E.And:
    case E.Or:
      return containsSym(e.l, s) || containsSym(e.r, s);
    case E.Not:
      return containsSym(e.e, s);
    case E.Sym:
      return e.s === s;
    default:
      return e.a === s || e.b === s;
  }
}

/** `dep` can only be true when `s` is (Linux's expr_depends_symbol). */
function dependsOnSym(e: Expr | null, s: Sym): boolean {
  if (!e) return false;
  switch (e.k) {
    case E.And:
      return dependsOnSym(e.l, s) || dependsOnSym(e.r, s);
    case E.Sym:
      return e.s === s;
    case E.Eq:
      return e.a === s && (e.b.name === 'y' || e.b.name === 'm') && e.b.isConst;
    case E.Neq:
      return e.a === s && e.b.name === 'n' && e.b.isConst;
    default:
      return false;
  }
}

/**
 * `dep` (which contains `s`) includes every condition of the symbol's own
 * prompt, e.g. `(S || Q) && R` when S's prompt depends on R: then the entry is
 * still shown under S (Linux compares the conjuncts after normalizing both).
 */
function supersetDep(dep: Expr | null, base: Expr | null, _s: Sym): boolean {
  const conj = (e: Expr | null, out: Expr[]): Expr[] => {
    if (!e) return out;
    if (e.k === E.And) {
      conj(e.l, out);
      conj(e.r, out);
    } else out.push(e);
    return out;
  };
  const depTerms = conj(dep, []);
  return conj(base, []).every((b) => depTerms.some((d) => exprEq(b, d)));
}

export function exprEq(a: Expr, b: Expr): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case E.Sym:
      return a.s === (b as typeof a).s;
    case E.Not:
      return exprEq(a.e, (b as typeof a).e);
    case E.And:
    case E.Or: {
      const bb = b as typeof a;
      return (exprEq(a.l, bb.l) && exprEq(a.r, bb.r)) || (exprEq(a.l, bb.r) && exprEq(a.r, bb.l));
    }
    default: {
      const bb = b as typeof a;
      return a.a === bb.a && a.b === bb.b;
    }
  }
}

function isNumberLike(s: Sym, type: SymType): boolean {
  if (s.type === SymType.Int || s.type === SymType.Hex) return true;
  if (s.type !== SymType.Unknown || s.name === null) return false;
  const v = s.name;
  if (type === SymType.Int) return /^-?(0|[1-9][0-9]*)$/.test(v);
  return /^(0[xX])?[0-9a-fA-F]+$/.test(v);
}

function checkProps(sym: Sym, warn: (m: string, l: SourceLocation) => void): void {
  for (const prop of sym.props) {
    switch (prop.type) {
      case P.Default: {
        const e = prop.expr!;
        const numeric = sym.type === SymType.Int || sym.type === SymType.Hex;
        if ((numeric || sym.type === SymType.String) && e.k !== E.Sym) {
          warn(`default for config symbol '${sym.displayName}' must be a single symbol`, prop.loc);
        }
        if (e.k !== E.Sym) break;
        if (numeric && !isNumberLike(e.s, sym.type))
          warn(`'${sym.displayName}': number is invalid`, prop.loc);
        if (sym.isChoice && e.s.choice !== sym && e.s.choice !== null) {
          warn(`choice default symbol '${e.s.displayName}' is not contained in the choice`, prop.loc);
        }
        break;
      }
      case P.Select:
      case P.Imply: {
        const use = prop.type === P.Select ? 'select' : 'imply';
        const target = (prop.expr as { k: E.Sym; s: Sym }).s;
        if (sym.type !== SymType.Bool && sym.type !== SymType.Tristate) {
          warn(`config symbol '${sym.displayName}' uses ${use}, but is not bool or tristate`, prop.loc);
        } else if (
          target.type !== SymType.Unknown &&
          target.type !== SymType.Bool &&
          target.type !== SymType.Tristate
        ) {
          warn(
            `'${target.displayName}' has wrong type. '${use}' only accept arguments of bool and tristate type`,
            prop.loc,
          );
        }
        break;
      }
      case P.Range:
        if (sym.type !== SymType.Int && sym.type !== SymType.Hex) {
          warn('range is only allowed for int or hex symbols', prop.loc);
        } else if (!isNumberLike(prop.lo!, sym.type) || !isNumberLike(prop.hi!, sym.type)) {
          warn('range is invalid', prop.loc);
        }
        break;
      default:
    }
  }
}

// ---- recursive dependency detection (Linux's sym_check_deps) ----

enum Why {
  DependsOn,
  SelectedBy,
  ImpliedBy,
  PropVisible,
  DefaultValue,
  PartOfChoice,
  ChoiceContains,
}

interface Frame {
  sym: Sym;
  why: Why;
  prop: Prop | null;
}

function frameText(f: Frame, next: Sym): string {
  const where = f.prop?.loc ?? f.sym.menus[0]?.loc;
  const at = where ? `${where.file}:${where.line}: ` : '';
  const n = next.displayName;
  const me = f.sym.displayName;
  switch (f.why) {
    case Why.DependsOn:
      return `${at}symbol ${me} depends on ${n}`;
    case Why.SelectedBy:
      return `${at}symbol ${me} is selected by ${n}`;
    case Why.ImpliedBy:
      return `${at}symbol ${me} is implied by ${n}`;
    case Why.PropVisible:
      return `${at}symbol ${me} ${propName(f.prop!.type)} is visible depending on ${n}`;
    case Why.DefaultValue:
      return `${at}symbol ${me} default value contains ${n}`;
    case Why.PartOfChoice:
      return `${at}symbol ${me} is part of choice ${n}`;
    default:
      return `${at}choice ${me} contains symbol ${n}`;
  }
}

function checkRecursion(tree: Tree): void {
  const checking = new Uint8Array(tree.syms.length);
  const checked = new Uint8Array(tree.syms.length);
  const stack: Frame[] = [];

  const fail = (last: Sym): never => {
    let target = last;
    const extra: Frame[] = [];
    if (last.isChoiceValue && last.choice) {
      extra.push({ sym: last, why: Why.PartOfChoice, prop: null });
      target = last.choice;
    }
    let i = stack.length - 1;
    while (i >= 0 && stack[i]!.sym !== target) i--;
    const cycle = [...stack.slice(Math.max(i, 0)), ...extra];
    const lines = cycle.map((f, k) => frameText(f, k + 1 < cycle.length ? cycle[k + 1]!.sym : target));
    const first = cycle[0];
    throw new KconfigError(`recursive dependency detected: ${lines.join('; ')}`, {
      loc: first?.prop?.loc ?? first?.sym.menus[0]?.loc,
      hint: 'see "Kconfig recursive dependency limitations" in Linux Documentation/kbuild/kconfig-language.rst',
    });
  };

  // Menu dependencies are shared by many properties: a subexpression walked
  // once without finding a cycle only names symbols already checked, so it
  // never needs walking again.
  const walked = new Set<Expr>();
  const exprDeps = (e: Expr | null): void => {
    if (!e) return;
    if (e.k !== E.And && e.k !== E.Or) {
      walk(e);
      return;
    }
    if (walked.has(e)) return;
    walk(e);
    walked.add(e);
  };
  const walk = (e: Expr): void => {
    switch (e.k) {
      case E.And:
      case E.Or:
        exprDeps(e.l);
        exprDeps(e.r);
        return;
      case E.Not:
        exprDeps(e.e);
        return;
      case E.Sym:
        check(e.s);
        return;
      default:
        check(e.a);
        check(e.b);
    }
  };

  const symDeps = (sym: Sym): void => {
    const frame: Frame = { sym, why: Why.DependsOn, prop: null };
    stack.push(frame);
    exprDeps(sym.dirDep);
    frame.why = Why.SelectedBy;
    exprDeps(sym.revDep);
    frame.why = Why.ImpliedBy;
    exprDeps(sym.implied);
    for (const prop of sym.props) {
      if (prop.type === P.Select || prop.type === P.Imply) continue;
      frame.prop = prop;
      frame.why = Why.PropVisible;
      exprDeps(prop.cond);
      if (prop.type !== P.Default || sym.isChoice) continue;
      frame.why = Why.DefaultValue;
      exprDeps(prop.expr);
    }
    stack.pop();
  };

  const check = (sym: Sym): void => {
    const id = sym.id;
    if (checking[id]) fail(sym);
    if (checked[id]) return;
    if (sym.isChoiceValue && sym.choice) {
      stack.push({ sym, why: Why.PartOfChoice, prop: null });
      check(sym.choice);
      stack.pop();
    } else if (sym.isChoice) {
      stack.push({ sym, why: Why.ChoiceContains, prop: null });
      for (const v of sym.choiceValues) {
        checking[v.id] = 1;
        checked[v.id] = 1;
      }
      checking[id] = 1;
      checked[id] = 1;
      symDeps(sym);
      checking[id] = 0;
      for (const v of sym.choiceValues) symDeps(v);
      for (const v of sym.choiceValues) checking[v.id] = 0;
      stack.pop();
    } else {
      checking[id] = 1;
      checked[id] = 1;
      symDeps(sym);
      checking[id] = 0;
    }
  };

  for (const s of tree.hashOrder) check(s);
}

function propName(p: P): string {
  switch (p) {
    case P.Prompt:
      return 'prompt';
    case P.Menu:
      return 'menu';
    case P.Comment:
      return 'comment';
    case P.Default:
      return 'default';
    case P.Range:
      return 'range';
    default:
      return 'property';
  }
}
