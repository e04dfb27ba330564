// The parsed Kconfig tree: symbols, their properties and the menu tree. These
// objects are built by the parser, completed by finalize(), and never changed
// afterwards; values live in a separate per-resolve State (eval.ts).

import type { SourceLocation } from '../../errors.js';

export type Tri = 0 | 1 | 2;
export const N: Tri = 0;
export const M: Tri = 1;
export const Y: Tri = 2;

export enum SymType {
  Unknown = 0,
  Bool = 1,
  Tristate = 2,
  Int = 3,
  Hex = 4,
  String = 5,
}

export const TYPE_NAMES = ['unknown', 'bool', 'tristate', 'int', 'hex', 'string'] as const;

// Static symbol flags (set while parsing / finalizing).
export const SF_CONST = 0x1;
export const SF_CHOICE = 0x2;
export const SF_CHOICEVAL = 0x4;
export const SF_OPTIONAL = 0x8;
export const SF_NO_WRITE = 0x10;
export const SF_TRANSITIONAL = 0x20;

export enum E {
  Sym = 1,
  And = 2,
  Or = 3,
  Not = 4,
  Eq = 5,
  Neq = 6,
  Lt = 7,
  Le = 8,
  Gt = 9,
  Ge = 10,
}

export type Expr =
  | { k: E.Sym; s: Sym }
  | { k: E.And | E.Or; l: Expr; r: Expr }
  | { k: E.Not; e: Expr }
  | { k: E.Eq | E.Neq | E.Lt | E.Le | E.Gt | E.Ge; a: Sym; b: Sym };

export enum P {
  Prompt = 1,
  Menu = 2,
  Comment = 3,
  Default = 4,
  Select = 5,
  Imply = 6,
  Range = 7,
}

export interface Prop {
  type: P;
  /** Prompt/menu/comment text. */
  text?: string;
  /** Default value expression; select/imply target; unused for prompts. */
  expr: Expr | null;
  /** Range bounds. */
  lo?: Sym;
  hi?: Sym;
  /** The `if` condition, after finalize() the full visibility (menu deps included). */
  cond: Expr | null;
  /** The `if` condition as written (for explanations). */
  ifCond: Expr | null;
  menu: MenuNode;
  loc: SourceLocation;
}

export type MenuKind = 'root' | 'config' | 'menuconfig' | 'choice' | 'menu' | 'if' | 'comment';

export interface MenuNode {
  kind: MenuKind;
  sym: Sym | null;
  prompt: Prop | null;
  /** `depends on` (and `if` condition); after finalize() includes the parents' deps. */
  dep: Expr | null;
  /** `visible if` of a menu. */
  visibility: Expr | null;
  parent: MenuNode | null;
  children: MenuNode[];
  /** The help text, built on demand. */
  help?: () => string;
  loc: SourceLocation;
  /** Index of this node in the whole tree's pre-order walk. */
  order: number;
}

/**
 * Shared empty lists: most symbols (numbers, undefined names, constants)
 * never get properties, and a Linux tree has tens of thousands of them.
 * Never push into these; `add` replaces them first.
 */
const NONE: never[] = [];
Object.freeze(NONE);

/** Appends to a symbol's list, replacing the shared empty one first; returns the list. */
export function add<T>(list: T[], item: T): T[] {
  const l = list === NONE ? [] : list;
  l.push(item);
  return l;
}

export class Sym {
  readonly id: number;
  readonly name: string | null;
  type: SymType = SymType.Unknown;
  flags: number;
  props: Prop[] = NONE;
  menus: MenuNode[] = NONE;
  prompts: Prop[] = NONE;
  defaults: Prop[] = NONE;
  ranges: Prop[] = NONE;
  selects: Prop[] = NONE;
  implies: Prop[] = NONE;
  dirDep: Expr | null = null;
  revDep: Expr | null = null;
  implied: Expr | null = null;
  /** For a choice value: its choice. */
  choice: Sym | null = null;
  /** For a choice: its values, in menu order. */
  choiceValues: Sym[] = NONE;
  /** Places that reference this symbol in an expression (for undefined-symbol warnings). */
  firstUse: SourceLocation | undefined;

  constructor(id: number, name: string | null, flags: number) {
    this.id = id;
    this.name = name;
    this.flags = flags;
  }

  get isChoice(): boolean {
    return (this.flags & SF_CHOICE) !== 0;
  }
  get isChoiceValue(): boolean {
    return (this.flags & SF_CHOICEVAL) !== 0;
  }
  get isConst(): boolean {
    return (this.flags & SF_CONST) !== 0;
  }
  get displayName(): string {
    return this.name ?? '<choice>';
  }
}

export interface Tree {
  root: MenuNode;
  /** All symbols (including constants and choices) in creation order; index = id. */
  syms: Sym[];
  /** Named, non-constant, non-choice symbols. */
  byName: Map<string, Sym>;
  /** Linux's `for_all_symbols` order (its hash-table walk), which some targets depend on. */
  hashOrder: Sym[];
  symY: Sym;
  symM: Sym;
  symN: Sym;
  modules: Sym;
  /** All menu nodes in pre-order. */
  menus: MenuNode[];
  files: string[];
}
