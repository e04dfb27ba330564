// Printing expressions for humans, in Kconfig syntax with minimal parentheses,
// and finding the parts of a dependency that keep it from being true.

import { E, type Expr, type Sym, SymType, type Tri } from './model.js';
import type { State } from './eval.js';

const PREC: Record<number, number> = { [E.Or]: 1, [E.And]: 2, [E.Not]: 4, [E.Sym]: 5 };
const CMP_OP: Record<number, string> = {
  [E.Eq]: '=',
  [E.Neq]: '!=',
  [E.Lt]: '<',
  [E.Le]: '<=',
  [E.Gt]: '>',
  [E.Ge]: '>=',
};

function symText(s: Sym): string {
  if (s.name === null) return '<choice>';
  if (s.isConst && s.name.length !== 1) return `"${s.name}"`;
  return s.name;
}

function prec(e: Expr): number {
  return PREC[e.k] ?? 3;
}

export function exprToString(e: Expr | null, parent = 0): string {
  if (!e) return 'y';
  let s: string;
  switch (e.k) {
    case E.Sym:
      return symText(e.s);
    case E.Not:
      s = `!${exprToString(e.e, PREC[E.Not])}`;
      break;
    case E.And:
    case E.Or: {
      const op = e.k === E.And ? ' && ' : ' || ';
      s = `${exprToString(e.l, prec(e))}${op}${exprToString(e.r, prec(e))}`;
      break;
    }
    default:
      s = `${symText(e.a)}${CMP_OP[e.k]}${symText(e.b)}`;
  }
  return prec(e) < parent || (parent === PREC[E.Not] && prec(e) <= 3 && e.k !== E.Not) ? `(${s})` : s;
}

const TRI = 'nmy';

/** `NAME (=v)` for a symbol reference, the value as the state has it. */
function symValue(st: State, s: Sym): string {
  if (s.isConst || (s.type === SymType.Unknown && s.menus.length === 0)) return symText(s);
  return `${symText(s)} (=${st.str(s)})`;
}

/** An expression with the current value of every symbol in it: `PCI (=n) && X86 (=y)`. */
export function exprWithValues(st: State, e: Expr | null, parent = 0): string {
  if (!e) return 'y';
  let s: string;
  switch (e.k) {
    case E.Sym:
      return symValue(st, e.s);
    case E.Not:
      s = `!${exprWithValues(st, e.e, PREC[E.Not])}`;
      break;
    case E.And:
    case E.Or: {
      const op = e.k === E.And ? ' && ' : ' || ';
      s = `${exprWithValues(st, e.l, prec(e))}${op}${exprWithValues(st, e.r, prec(e))}`;
      break;
    }
    default:
      s = `${symValue(st, e.a)} ${CMP_OP[e.k]} ${symValue(st, e.b)}`;
  }
  return prec(e) < parent || (parent === PREC[E.Not] && e.k !== E.Not) ? `(${s})` : s;
}

/**
 * The smallest parts of `e` that keep it below `want`: for `A && B` the
 * conjuncts that are too low, otherwise the expression itself.
 */
export function limitingParts(st: State, e: Expr | null, want: Tri): Expr[] {
  if (!e) return [];
  if (st.evalExpr(e) >= want) return [];
  if (e.k === E.And) return [...limitingParts(st, e.l, want), ...limitingParts(st, e.r, want)];
  return [e];
}

export function triName(t: Tri): string {
  return TRI[t]!;
}

/** Splits an OR of terms (reverse dependencies) into its terms. */
export function orTerms(e: Expr | null): Expr[] {
  if (!e) return [];
  if (e.k === E.Or) return [...orTerms(e.l), ...orTerms(e.r)];
  return [e];
}
