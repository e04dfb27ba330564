// .config reading and writing and the conf targets, following Linux's
// confdata.c and conf.c: which symbols get user values, how choices read
// from a file behave, what olddefconfig/defconfig/all*config do, and the
// exact text of .config, the minimal defconfig and autoconf.h.

import { KconfigError } from '../../errors.js';
import type { Diagnostic, Target } from './index.js';
import { type MenuNode, N, P, SF_TRANSITIONAL, type Sym, SymType, type Tree, type Tri, Y } from './model.js';
import { validHex, validInt } from './numbers.js';
import { F_DEF_USER, F_NEED_SET_CHOICE, F_VALID, F_WRITE, F_WRITTEN, State } from './eval.js';

export interface ConfigInput {
  text: string;
  file: string;
}

/** A line of a config file that assigned a value. */
export interface Request {
  sym: Sym | null;
  name: string;
  value: string;
  file: string;
  line: number;
  /** The value was not valid for the symbol's type and was ignored. */
  invalid?: boolean;
}

export interface ReadResult {
  requests: Request[];
}

const max = (a: Tri, b: Tri): Tri => (a > b ? a : b);

/** conf_read_simple: loads user values from a .config/defconfig text. */
/**
 * conf_read_simple: loads user values from a .config/defconfig text. With
 * `strict` (inputs a person wrote: defconfigs, fragments) a value that is not
 * valid for its symbol is an error; otherwise (a .config, which Linux itself
 * may write with such values) it is a warning and the value is ignored, as
 * Linux does.
 */
export function readSimple(
  st: State,
  input: ConfigInput,
  prefix: string,
  diag: (d: Diagnostic) => void,
  strict = true,
): ReadResult {
  const tree = st.tree;
  const flags = st.flags;
  for (const s of tree.hashOrder) {
    flags[s.id]! &= ~(F_DEF_USER | F_VALID);
    if (s.isChoice) flags[s.id]! |= F_DEF_USER;
    st.userVal[s.id] = null;
    st.userTri[s.id] = N;
    st.userChoice[s.id] = -1;
    st.userLoc[s.id] = undefined;
  }
  const requests: Request[] = [];
  const lines = input.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const warn = (line: number, message: string): void =>
    diag({ level: 'warning', message, loc: { file: input.file, line } });
  const bad = (line: number, col: number, message: string, hint?: string): KconfigError =>
    new KconfigError(message, { loc: { file: input.file, line, column: col }, hint });
  /** An invalid value: an error when strict, else a warning and the line is skipped. */
  const invalid = (line: number, col: number, message: string, hint?: string): void => {
    if (strict) throw bad(line, col, message, hint);
    warn(line, message);
    requests[requests.length - 1]!.invalid = true;
  };
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    let name: string;
    let val: string;
    let valCol: number;
    if (line[0] === '#') {
      if (line[1] !== ' ') continue;
      if (!line.startsWith(prefix, 2)) continue;
      const rest = line.slice(2 + prefix.length);
      const sp = rest.indexOf(' ');
      if (sp < 0) continue;
      if (!rest.startsWith('is not set', sp + 1)) continue;
      name = rest.slice(0, sp);
      val = 'n';
      valCol = 3 + prefix.length + sp;
    } else if (line.startsWith(prefix)) {
      const rest = line.slice(prefix.length);
      const eq = rest.indexOf('=');
      if (eq < 0) continue;
      name = rest.slice(0, eq);
      val = rest.slice(eq + 1).replace(/\r$/, '');
      valCol = prefix.length + eq + 2;
    } else {
      if (line !== '' && line !== '\r') warn(lineNo, `unexpected data: ${line.replace(/\r$/, '')}`);
      continue;
    }
    const sym = tree.byName.get(name) ?? null;
    requests.push({ sym, name, value: val, file: input.file, line: lineNo });
    if (!sym) {
      st.changed = true;
      continue;
    }
    const id = sym.id;
    if (flags[id]! & F_DEF_USER) warn(lineNo, `override: reassigning to symbol ${name}`);
    switch (sym.type) {
      case SymType.Tristate:
      case SymType.Bool: {
        const c = val[0];
        let t: Tri;
        if (c === 'm' && sym.type === SymType.Tristate) t = 1;
        else if (c === 'y') t = 2;
        else if (c === 'n') t = 0;
        else {
          invalid(
            lineNo,
            valCol,
            `symbol value '${val}' invalid for ${name}`,
            sym.type === SymType.Bool
              ? `${name} is a bool: use y or n`
              : `${name} is a tristate: use y, m or n`,
          );
          continue;
        }
        st.userTri[id] = t;
        flags[id]! |= F_DEF_USER;
        break;
      }
      case SymType.String: {
        if (val[0] !== '"') {
          invalid(lineNo, valCol, `string value for ${name} must be quoted`, `write ${name}="${val}"`);
          continue;
        }
        let out = '';
        let j = 1;
        let closed = false;
        for (; j < val.length; j++) {
          const c = val[j]!;
          if (c === '"') {
            closed = true;
            break;
          }
          if (c === '\\') {
            j++;
            if (j < val.length) out += val[j];
            continue;
          }
          out += c;
        }
        if (!closed) {
          invalid(lineNo, valCol, `invalid string found: missing closing quote in value of ${name}`);
          continue;
        }
        st.userVal[id] = out;
        flags[id]! |= F_DEF_USER;
        break;
      }
      case SymType.Int:
      case SymType.Hex: {
        const ok = sym.type === SymType.Int ? validInt(val) : validHex(val);
        if (!ok) {
          invalid(
            lineNo,
            valCol,
            `symbol value '${val}' invalid for ${name}`,
            sym.type === SymType.Int ? `${name} is an int` : `${name} is a hex value`,
          );
          continue;
        }
        st.userVal[id] = val;
        flags[id]! |= F_DEF_USER;
        break;
      }
      default:
        continue;
    }
    st.userLoc[id] = { file: input.file, line: lineNo };
    if (sym.isChoiceValue && sym.choice) {
      const cs = sym.choice;
      const t = st.userTri[id] as Tri;
      if (t === 1) {
        if (st.userTri[cs.id] === Y) {
          warn(lineNo, `${name} creates inconsistent choice state`);
          flags[cs.id]! &= ~F_DEF_USER;
        }
      } else if (t === Y) {
        if (st.userTri[cs.id] !== N) warn(lineNo, `override: ${name} changes choice state`);
        st.userChoice[cs.id] = id;
      }
      st.userTri[cs.id] = max(st.userTri[cs.id] as Tri, t);
    }
  }
  return { requests };
}

/** conf_read: reads the base config and settles which user values stay. Returns false when there is none. */
export function confRead(
  st: State,
  input: ConfigInput | undefined,
  prefix: string,
  diag: (d: Diagnostic) => void,
  strict = true,
): ReadResult | null {
  const tree = st.tree;
  st.changed = false;
  if (!input) {
    st.calc(tree.modules);
    return null;
  }
  let warnings = 0;
  const counting = (d: Diagnostic): void => {
    if (d.level === 'warning') warnings++;
    diag(d);
  };
  const res = readSimple(st, input, prefix, counting, strict);
  st.calc(tree.modules);
  let unsaved = 0;
  for (const s of tree.hashOrder) {
    st.calc(s);
    if (s.isChoice || s.flags & SF_TRANSITIONAL) continue;
    const f = st.flags[s.id]!;
    if (st.hasValue(s) && f & F_WRITE) {
      if (s.type === SymType.Bool || s.type === SymType.Tristate) {
        if (st.userTri[s.id] === st.tri[s.id]) continue;
      } else if (st.val[s.id] === st.userVal[s.id]) continue;
    } else if (!st.hasValue(s) && !(f & F_WRITE)) continue;
    unsaved++;
  }
  for (const s of tree.hashOrder) {
    if (!st.hasValue(s) || s.isChoiceValue) continue;
    if (st.visible[s.id] === N && !unsaved) st.flags[s.id]! &= ~F_DEF_USER;
    if (s.type === SymType.String || s.type === SymType.Int || s.type === SymType.Hex) {
      if (st.stringWithinRange(s, st.userVal[s.id] ?? '')) continue;
      st.flags[s.id]! &= ~(F_VALID | F_DEF_USER);
      unsaved++;
    }
  }
  if (warnings || unsaved) st.changed = true;
  return res;
}

type AllMode = 'default' | 'yes' | 'mod' | 'no';

/** conf_set_all_new_symbols. */
export function setAllNewSymbols(st: State, mode: AllMode): void {
  const tree = st.tree;
  const flags = st.flags;
  for (const s of tree.hashOrder) {
    if (st.hasValue(s) || flags[s.id]! & F_VALID) continue;
    const t = st.effType(s);
    if (t !== SymType.Bool && t !== SymType.Tristate) continue;
    if (mode === 'default') continue;
    st.userTri[s.id] = mode === 'yes' ? 2 : mode === 'mod' ? 1 : 0;
    flags[s.id]! |= F_DEF_USER;
  }
  st.clearAllValid();
  for (const s of tree.hashOrder) {
    if ((s.isChoice && !st.hasValue(s)) || s.isChoiceValue) flags[s.id]! |= F_NEED_SET_CHOICE;
  }
  for (const cs of tree.hashOrder) {
    if (st.hasValue(cs) || !cs.isChoice) continue;
    st.calc(cs);
    st.setAllChoiceValues(cs);
  }
}

function escapeString(v: string): string {
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}

function symbolLine(st: State, s: Sym, prefix: string): string | null {
  if (s.type === SymType.Unknown) return null;
  const v = st.str(s);
  if ((s.type === SymType.Bool || s.type === SymType.Tristate) && v === 'n') {
    return `# ${prefix}${s.name} is not set\n`;
  }
  return `${prefix}${s.name}=${s.type === SymType.String ? escapeString(v) : v}\n`;
}

function heading(tree: Tree, deco: string, pre: string, post: string): string {
  return `${pre}\n${deco} Automatically generated file; DO NOT EDIT.\n${deco} ${tree.root.prompt?.text ?? 'Main menu'}\n${post}\n`;
}

/** conf_write: the full .config text. */
export function writeDotconfig(st: State, prefix: string): string {
  const tree = st.tree;
  const out: string[] = [heading(tree, '#', '#', '#')];
  if (!st.changed) st.clearAllValid();
  let needNewline = false;
  const flags = st.flags;
  const visit = (m: MenuNode): void => {
    const s = m.sym;
    if (!s) {
      if (st.menuVisible(m)) {
        out.push(`\n#\n# ${m.prompt!.text}\n#\n`);
        needNewline = false;
      }
    } else if (!s.isChoice && !(flags[s.id]! & F_WRITTEN)) {
      st.calc(s);
      if (flags[s.id]! & F_WRITE) {
        if (needNewline) {
          out.push('\n');
          needNewline = false;
        }
        flags[s.id]! |= F_WRITTEN;
        const l = symbolLine(st, s, prefix);
        if (l) out.push(l);
      }
    }
    for (const c of m.children) visit(c);
    if (!s && m.prompt?.type === P.Menu && st.menuVisible(m)) {
      out.push(`# end of ${m.prompt.text}\n`);
      needNewline = true;
    }
  };
  for (const c of tree.root.children) visit(c);
  for (const s of tree.syms) flags[s.id]! &= ~F_WRITTEN;
  st.changed = false;
  return out.join('');
}

/** conf_write_defconfig: the minimal config that gives the same result. */
export function writeDefconfig(st: State, prefix: string): string {
  const tree = st.tree;
  st.clearAllValid();
  const out: string[] = [];
  const flags = st.flags;
  const visit = (m: MenuNode): void => {
    const s = m.sym;
    if (!s) {
      st.menuVisible(m);
    } else if (!s.isChoice) {
      emit(s);
    }
    for (const c of m.children) visit(c);
  };
  const emit = (s: Sym): void => {
    st.calc(s);
    if (!(flags[s.id]! & F_WRITE)) return;
    flags[s.id]! &= ~F_WRITE;
    if (!st.changeable(s)) return;
    if (st.str(s) === st.stringDefault(s)) return;
    if (s.isChoiceValue && s.choice) {
      const cs = s.choice;
      const ds = st.choiceDefault(cs);
      const optional = (cs.flags & 0x8) !== 0;
      if (!optional && s === ds && s.type === SymType.Bool && st.tri[s.id] === Y) return;
    }
    const l = symbolLine(st, s, prefix);
    if (l) out.push(l);
  };
  for (const c of tree.root.children) visit(c);
  return out.join('');
}

/** autoconf.h, Linux include/generated/autoconf.h style. */
export function writeAutoconfH(st: State, prefix: string): string {
  const tree = st.tree;
  const out: string[] = [heading(tree, ' *', '/*', ' */')];
  for (const s of tree.hashOrder) st.calc(s);
  for (const s of tree.hashOrder) {
    if (!(st.flags[s.id]! & F_WRITE) || !s.name || s.isChoice) continue;
    let v = st.str(s);
    let suffix = '';
    switch (s.type) {
      case SymType.Bool:
      case SymType.Tristate:
        if (v === 'n') continue;
        if (v === 'm') suffix = '_MODULE';
        v = '1';
        break;
      case SymType.Hex:
        if (!/^0[xX]/.test(v)) v = `0x${v}`;
        break;
      case SymType.String:
        v = escapeString(v);
        break;
      case SymType.Int:
        break;
      default:
        continue;
    }
    out.push(`#define ${prefix}${s.name}${suffix} ${v}\n`);
  }
  return out.join('');
}

export interface RunResult {
  state: State;
  requests: Request[];
  dotconfig: string;
}

/** Runs one conf target and returns the final state and the .config text. */
export function runTarget(
  tree: Tree,
  target: Target,
  base: ConfigInput | undefined,
  allconfig: ConfigInput | undefined,
  prefix: string,
  diag: (d: Diagnostic) => void,
): RunResult {
  const st = new State(tree, diag);
  let requests: Request[] = [];
  switch (target) {
    case 'defconfig': {
      if (!base) throw new KconfigError('defconfig needs a defconfig file to start from');
      requests = confRead(st, base, prefix, diag)?.requests ?? [];
      setAllNewSymbols(st, 'default');
      break;
    }
    case 'olddefconfig':
    case 'savedefconfig':
      requests = confRead(st, base, prefix, diag, false)?.requests ?? [];
      break;
    case 'allnoconfig':
    case 'allyesconfig':
    case 'allmodconfig':
    case 'alldefconfig': {
      if (allconfig) requests = readSimple(st, allconfig, prefix, diag).requests;
      const mode: AllMode =
        target === 'allnoconfig'
          ? 'no'
          : target === 'allyesconfig'
            ? 'yes'
            : target === 'allmodconfig'
              ? 'mod'
              : 'default';
      setAllNewSymbols(st, mode);
      break;
    }
  }
  const dotconfig = writeDotconfig(st, prefix);
  // Settle every symbol so that later reads never compute anything.
  for (const s of tree.hashOrder) st.calc(s);
  return { state: st, requests, dotconfig };
}
