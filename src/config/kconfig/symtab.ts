// Symbol creation and lookup, with Linux's naming rules: y/m/n are the three
// constants, quoted words are constant symbols, unquoted words are (possibly
// undefined) symbols, and choices are symbols of their own kind. The creation
// order is kept so Linux's hash-table iteration order can be reproduced.

import { SF_CHOICE, SF_CONST, Sym, SymType } from './model.js';

const HASH_SIZE = 9973;

function fnv32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    // Linux hashes the (signed) char values of the UTF-8 bytes; names are ASCII in practice.
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class SymbolTable {
  readonly syms: Sym[] = [];
  readonly byName = new Map<string, Sym>();
  private readonly consts = new Map<string, Sym>();
  private readonly choices = new Map<string, Sym>();
  readonly symY: Sym;
  readonly symM: Sym;
  readonly symN: Sym;

  constructor() {
    this.symY = this.create('y', SF_CONST, false);
    this.symM = this.create('m', SF_CONST, false);
    this.symN = this.create('n', SF_CONST, false);
    for (const s of [this.symY, this.symM, this.symN]) s.type = SymType.Tristate;
  }

  private inHash = new Set<Sym>();

  private create(name: string | null, flags: number, hashed = true): Sym {
    const s = new Sym(this.syms.length, name, flags);
    this.syms.push(s);
    if (hashed) this.inHash.add(s);
    return s;
  }

  /** `sym_lookup(name, 0)`: the ordinary symbol with this name, created if new. */
  lookup(name: string): Sym {
    const c = this.yMn(name);
    if (c) return c;
    let s = this.byName.get(name);
    if (!s) {
      s = this.create(name, 0);
      this.byName.set(name, s);
    }
    return s;
  }

  /** A quoted word in an expression. */
  lookupConst(name: string): Sym {
    const c = this.yMn(name);
    if (c) return c;
    let s = this.consts.get(name);
    if (!s) {
      s = this.create(name, SF_CONST);
      this.consts.set(name, s);
    }
    return s;
  }

  /** A choice, named or not. */
  lookupChoice(name: string | null): Sym {
    const c = name !== null ? this.yMn(name) : undefined;
    if (c) return c;
    if (name !== null) {
      const s = this.choices.get(name);
      if (s) return s;
    }
    const s = this.create(name, SF_CHOICE);
    if (name !== null) this.choices.set(name, s);
    return s;
  }

  find(name: string): Sym | undefined {
    return this.yMn(name) ?? this.byName.get(name);
  }

  private yMn(name: string): Sym | undefined {
    if (name.length === 1) {
      if (name === 'y') return this.symY;
      if (name === 'm') return this.symM;
      if (name === 'n') return this.symN;
    }
    return undefined;
  }

  /** Linux's `for_all_symbols` order: hash buckets in order, newest first within a bucket. */
  hashOrder(): Sym[] {
    const buckets: Sym[][] = [];
    for (const s of this.syms) {
      if (!this.inHash.has(s)) continue;
      const b = s.name === null ? 0 : fnv32(s.name) % HASH_SIZE;
      const list = buckets[b];
      if (list) list.push(s);
      else buckets[b] = [s];
    }
    const out: Sym[] = [];
    for (const b of buckets) {
      if (!b) continue;
      for (let i = b.length - 1; i >= 0; i--) out.push(b[i]!);
    }
    return out;
  }
}
