// Symbol value calculation with Linux's semantics (symbol.c): visibility from
// prompts, user values clamped by visibility, the first active default,
// select (reverse dependencies) and imply, choices and their modes, the
// m -> y collapse for bool symbols and when MODULES is n, and int/hex ranges.
//
// Values are computed lazily and memoized per symbol, in the same order and
// with the same per-symbol flags as Linux, because a few results (notably
// choices in the all*config targets) depend on that order.

import type { Diagnostic } from './index.js';
import {
  E,
  type Expr,
  M,
  N,
  P,
  type Prop,
  SF_TRANSITIONAL,
  type Sym,
  SymType,
  type Tree,
  type Tri,
  Y,
} from './model.js';
import { parseForCompare, strtoll, validHex, validInt } from './numbers.js';

// Per-resolve symbol flags.
export const F_VALID = 0x1;
export const F_WRITE = 0x2;
export const F_DEF_USER = 0x4;
export const F_NEED_SET_CHOICE = 0x8;
export const F_WRITTEN = 0x10;

const max = (a: Tri, b: Tri): Tri => (a > b ? a : b);
const min = (a: Tri, b: Tri): Tri => (a < b ? a : b);

export class State {
  readonly tri: Uint8Array;
  readonly val: string[];
  /** For a choice: the id of the selected value, -1 for none. */
  readonly choiceCur: Int32Array;
  readonly flags: Uint32Array;
  readonly userTri: Uint8Array;
  readonly userVal: (string | null)[];
  readonly userChoice: Int32Array;
  readonly visible: Uint8Array;
  readonly dirDepTri: Uint8Array;
  readonly revDepTri: Uint8Array;
  readonly impliedTri: Uint8Array;
  /** Where each user value came from (file:line), for explanations. */
  readonly userLoc: ({ file: string; line: number } | undefined)[];
  modulesVal: Tri = N;
  changed = false;
  readonly unmetWarned = new Set<Sym>();

  constructor(
    readonly tree: Tree,
    private readonly diag: (d: Diagnostic) => void,
  ) {
    const n = tree.syms.length;
    this.tri = new Uint8Array(n);
    this.val = new Array<string>(n).fill('');
    this.choiceCur = new Int32Array(n).fill(-1);
    this.flags = new Uint32Array(n);
    this.userTri = new Uint8Array(n);
    this.userVal = new Array<string | null>(n).fill(null);
    this.userChoice = new Int32Array(n).fill(-1);
    this.visible = new Uint8Array(n);
    this.dirDepTri = new Uint8Array(n);
    this.revDepTri = new Uint8Array(n);
    this.impliedTri = new Uint8Array(n);
    this.userLoc = new Array(n).fill(undefined);
    for (const [s, t] of [
      [tree.symY, Y],
      [tree.symM, M],
      [tree.symN, N],
    ] as const) {
      this.tri[s.id] = t;
      this.val[s.id] = s.name!;
      this.flags[s.id] = F_VALID;
    }
  }

  hasValue(s: Sym): boolean {
    return (this.flags[s.id]! & F_DEF_USER) !== 0;
  }

  /** sym_get_type: tristate acts as bool for visible choice values and without modules. */
  effType(s: Sym): SymType {
    if (s.type === SymType.Tristate) {
      if ((s.isChoiceValue && this.visible[s.id] === Y) || this.modulesVal === N) return SymType.Bool;
    }
    return s.type;
  }

  /** sym_get_string_value. */
  str(s: Sym): string {
    if (s.type === SymType.Bool || s.type === SymType.Tristate) return 'nmy'[this.tri[s.id]!]!;
    return this.val[s.id]!;
  }

  clearAllValid(): void {
    const f = this.flags;
    for (const s of this.tree.hashOrder) f[s.id]! &= ~F_VALID;
    this.changed = true;
    this.calc(this.tree.modules);
  }

  evalExpr(e: Expr | null): Tri {
    if (!e) return Y;
    switch (e.k) {
      case E.Sym:
        this.calc(e.s);
        return this.tri[e.s.id] as Tri;
      case E.And: {
        const a = this.evalExpr(e.l);
        const b = this.evalExpr(e.r);
        return min(a, b);
      }
      case E.Or: {
        const a = this.evalExpr(e.l);
        const b = this.evalExpr(e.r);
        return max(a, b);
      }
      case E.Not:
        return (2 - this.evalExpr(e.e)) as Tri;
      default:
        return this.compare(e.k, e.a, e.b);
    }
  }

  private compare(k: E, a: Sym, b: Sym): Tri {
    this.calc(a);
    this.calc(b);
    const s1 = this.str(a);
    const s2 = this.str(b);
    let res: number;
    if (a.type === SymType.String && b.type === SymType.String) {
      res = s1 < s2 ? -1 : s1 > s2 ? 1 : 0;
    } else {
      const l = parseForCompare(s1, numType(a));
      const r = parseForCompare(s2, numType(b));
      if (l.kind === 'string' || r.kind === 'string') res = s1 < s2 ? -1 : s1 > s2 ? 1 : 0;
      else if (l.kind === 'unsigned' || r.kind === 'unsigned') {
        const x = BigInt.asUintN(64, l.v);
        const y = BigInt.asUintN(64, r.v);
        res = x > y ? 1 : x < y ? -1 : 0;
      } else res = l.v > r.v ? 1 : l.v < r.v ? -1 : 0;
    }
    switch (k) {
      case E.Eq:
        return res ? N : Y;
      case E.Neq:
        return res ? Y : N;
      case E.Lt:
        return res < 0 ? Y : N;
      case E.Le:
        return res <= 0 ? Y : N;
      case E.Gt:
        return res > 0 ? Y : N;
      default:
        return res >= 0 ? Y : N;
    }
  }

  private firstActive(props: Prop[]): Prop | null {
    for (const p of props) if (this.evalExpr(p.cond) !== N) return p;
    return null;
  }

  defaultProp(s: Sym): Prop | null {
    return this.firstActive(s.defaults);
  }

  rangeProp(s: Sym): Prop | null {
    return this.firstActive(s.ranges);
  }

  calcVisibility(s: Sym): void {
    const id = s.id;
    let tri: Tri = N;
    const choice = s.isChoiceValue ? s.choice : null;
    for (const p of s.prompts) {
      let v = this.evalExpr(p.cond);
      // A tristate choice value visible as m is hidden when the choice is y.
      if (choice && s.type === SymType.Tristate && v === M && this.tri[choice.id] === Y) v = N;
      tri = max(tri, v);
    }
    if (tri === M && (s.type !== SymType.Tristate || this.modulesVal === N)) tri = Y;
    this.visible[id] = tri;
    if (s.isChoiceValue) return;
    let d = s.dirDep ? this.evalExpr(s.dirDep) : Y;
    if (d === M && this.effType(s) === SymType.Bool) d = Y;
    this.dirDepTri[id] = d;
    let r = s.revDep ? this.evalExpr(s.revDep) : N;
    if (r === M && this.effType(s) === SymType.Bool) r = Y;
    this.revDepTri[id] = r;
    let im = s.implied ? this.evalExpr(s.implied) : N;
    if (im === M && this.effType(s) === SymType.Bool) im = Y;
    this.impliedTri[id] = im;
  }

  /** sym_choice_default: the choice's first active default that is visible, else its first visible value. */
  choiceDefault(cs: Sym): Sym | null {
    for (const p of cs.defaults) {
      if (this.evalExpr(p.cond) === N) continue;
      const d = (p.expr as { k: E.Sym; s: Sym }).s;
      if (this.visible[d.id] !== N) return d;
    }
    for (const v of cs.choiceValues) if (this.visible[v.id] !== N) return v;
    return null;
  }

  private calcChoice(cs: Sym): Sym | null {
    let flags = this.flags[cs.id]!;
    for (const v of cs.choiceValues) {
      this.calcVisibility(v);
      if (this.visible[v.id] !== N) flags &= this.flags[v.id]!;
    }
    this.flags[cs.id]! &= flags | ~F_DEF_USER;
    const uc = this.userChoice[cs.id]!;
    if (uc >= 0 && this.visible[uc] !== N) return this.tree.syms[uc]!;
    const d = this.choiceDefault(cs);
    if (!d) this.tri[cs.id] = N;
    return d;
  }

  setAllChoiceValues(cs: Sym): void {
    for (const v of cs.choiceValues) if (!this.hasValue(v)) this.userTri[v.id] = N;
    this.flags[cs.id] = (this.flags[cs.id]! | F_DEF_USER) & ~(F_VALID | F_NEED_SET_CHOICE);
  }

  private warnUnmet(s: Sym): void {
    if (this.unmetWarned.has(s)) return;
    this.unmetWarned.add(s);
    this.diag({
      level: 'warning',
      message: `unmet direct dependencies detected for ${s.name}: depends on [${'nmy'[this.dirDepTri[s.id]!]}] but selected by [${'nmy'[this.revDepTri[s.id]!]}]`,
      loc: s.menus[0]?.loc,
    });
  }

  calc(s: Sym): void {
    const id = s.id;
    const flags = this.flags;
    if (flags[id]! & F_VALID) return;
    if (s.isChoiceValue && flags[id]! & F_NEED_SET_CHOICE) {
      flags[id]! &= ~F_NEED_SET_CHOICE;
      this.calc(s.choice!);
    }
    flags[id]! |= F_VALID;
    const type = s.type;
    if (type === SymType.Unknown) {
      this.val[id] = s.name ?? '';
      this.tri[id] = N;
      return;
    }
    const isTri = type === SymType.Bool || type === SymType.Tristate;
    flags[id]! &= ~F_WRITE;
    this.calcVisibility(s);
    const vis = this.visible[id] as Tri;
    if (vis !== N) flags[id]! |= F_WRITE;
    // Value seen by a recursive reference while this one is being computed.
    this.tri[id] = N;
    this.val[id] = isTri ? 'n' : '';
    this.choiceCur[id] = -1;
    let newTri: Tri = N;
    let newVal = isTri ? 'n' : '';

    if (isTri) {
      if (s.isChoiceValue && vis === Y) {
        newTri = this.choiceCur[s.choice!.id] === id ? Y : N;
      } else {
        let fromUser = false;
        if ((vis !== N || s.flags & SF_TRANSITIONAL) && this.hasValue(s)) {
          newTri = s.flags & SF_TRANSITIONAL ? (this.userTri[id] as Tri) : min(this.userTri[id] as Tri, vis);
          fromUser = true;
        }
        if (!fromUser) {
          if (this.revDepTri[id] !== N) flags[id]! |= F_WRITE;
          if (!s.isChoice) {
            const p = this.defaultProp(s);
            if (p) {
              newTri = min(this.evalExpr(p.expr), this.evalExpr(p.cond));
              if (newTri !== N) flags[id]! |= F_WRITE;
            }
            const im = this.impliedTri[id] as Tri;
            if (im !== N) {
              flags[id]! |= F_WRITE;
              newTri = min(max(newTri, im), this.dirDepTri[id] as Tri);
            }
          }
        }
        if (this.dirDepTri[id]! < this.revDepTri[id]!) this.warnUnmet(s);
        newTri = max(newTri, this.revDepTri[id] as Tri);
      }
      if (newTri === M && this.effType(s) === SymType.Bool) newTri = Y;
    } else {
      if ((vis !== N || s.flags & SF_TRANSITIONAL) && this.hasValue(s)) {
        newVal = this.userVal[id] ?? '';
      } else {
        const p = this.defaultProp(s);
        if (p?.expr && p.expr.k === E.Sym) {
          const ds = p.expr.s;
          flags[id]! |= F_WRITE;
          this.calc(ds);
          newVal = this.val[ds.id]!;
        }
      }
    }

    this.tri[id] = newTri;
    this.val[id] = newVal;
    if (s.isChoice && newTri === Y) {
      const c = this.calcChoice(s);
      this.choiceCur[id] = c ? c.id : -1;
    }
    this.validateRange(s);
    if (s === this.tree.modules) this.modulesVal = this.tri[id] as Tri;

    if (s.isChoice) {
      const write = (flags[id]! & F_WRITE) !== 0;
      for (const v of s.choiceValues) {
        if (write && this.visible[v.id] !== N) flags[v.id]! |= F_WRITE;
      }
      // Choices themselves are never written.
      flags[id]! &= ~F_WRITE;
      if (flags[id]! & F_NEED_SET_CHOICE) this.setAllChoiceValues(s);
    }
    if (s.flags & SF_TRANSITIONAL) flags[id]! &= ~F_WRITE;
  }

  private rangeVal(s: Sym, base: number): bigint {
    this.calc(s);
    if (s.type === SymType.Int) base = 10;
    else if (s.type === SymType.Hex) base = 16;
    return strtoll(this.val[s.id]!, base).value;
  }

  private validateRange(s: Sym): void {
    let base: number;
    if (s.type === SymType.Int) base = 10;
    else if (s.type === SymType.Hex) base = 16;
    else return;
    const p = this.rangeProp(s);
    if (!p) return;
    const v = strtoll(this.val[s.id]!, base).value;
    let bound = p.lo!;
    if (v >= this.rangeVal(bound, base)) {
      bound = p.hi!;
      if (v <= this.rangeVal(bound, base)) return;
    }
    this.val[s.id] = this.val[bound.id]!;
  }

  /** The active range of an int/hex symbol as written values ("0", "7"), or null. */
  rangeBounds(s: Sym): [string, string] | null {
    if (s.type !== SymType.Int && s.type !== SymType.Hex) return null;
    const p = this.rangeProp(s);
    if (!p) return null;
    this.calc(p.lo!);
    this.calc(p.hi!);
    return [this.val[p.lo!.id]!, this.val[p.hi!.id]!];
  }

  /** sym_string_within_range for int/hex/string. */
  stringWithinRange(s: Sym, str: string): boolean {
    switch (s.type) {
      case SymType.String:
        return true;
      case SymType.Int:
      case SymType.Hex: {
        const base = s.type === SymType.Int ? 10 : 16;
        if (!(base === 10 ? validInt(str) : validHex(str))) return false;
        const p = this.rangeProp(s);
        if (!p) return true;
        const v = strtoll(str, base).value;
        return v >= this.rangeVal(p.lo!, base) && v <= this.rangeVal(p.hi!, base);
      }
      default:
        return false;
    }
  }

  /** sym_is_changeable. */
  changeable(s: Sym): boolean {
    return this.visible[s.id]! > this.revDepTri[s.id]!;
  }

  /** sym_get_string_default: the value the symbol would have without a user value. */
  stringDefault(s: Sym): string {
    this.calcVisibility(s);
    this.calc(this.tree.modules);
    let val: Tri = N;
    let str = '';
    const p = this.defaultProp(s);
    if (p) {
      if (s.type === SymType.Bool || s.type === SymType.Tristate) {
        val = min(this.evalExpr(p.expr), this.evalExpr(p.cond));
      } else if (p.expr && p.expr.k === E.Sym) {
        this.calc(p.expr.s);
        str = this.val[p.expr.s.id]!;
      }
    }
    val = max(val, this.revDepTri[s.id] as Tri);
    if (val === M && !s.isChoiceValue && this.tri[this.tree.modules.id] === N) val = Y;
    if (s.type === SymType.Bool && val === M) val = Y;
    if (val < this.impliedTri[s.id]!) val = this.impliedTri[s.id] as Tri;
    if (s.type === SymType.Bool || s.type === SymType.Tristate) return 'nmy'[val]!;
    return str;
  }

  /** Whether a menu/comment node is visible (menu_is_visible for nodes without a symbol). */
  menuVisible(m: { prompt: Prop | null; visibility: Expr | null }): boolean {
    if (!m.prompt) return false;
    if (m.visibility && this.evalExpr(m.visibility) === N) return false;
    return this.evalExpr(m.prompt.cond) !== N;
  }
}

function numType(s: Sym): 'tri' | 'int' | 'hex' | 'other' {
  switch (s.type) {
    case SymType.Bool:
    case SymType.Tristate:
      return 'tri';
    case SymType.Int:
      return 'int';
    case SymType.Hex:
      return 'hex';
    default:
      return 'other';
  }
}

export { P };
