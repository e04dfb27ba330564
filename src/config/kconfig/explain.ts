// Why a symbol has its value: its definition, dependencies, what selects or
// implies it, and a one-line reason; and which requested values did not take.

import type { SourceLocation } from '../../errors.js';
import type { Request } from './confdata.js';
import type { State } from './eval.js';
import { exprToString, exprWithValues, limitingParts, orTerms, triName } from './exprfmt.js';
import type { Explanation, Tristate, Unmet } from './index.js';
import { E, type Expr, M, N, type Sym, SymType, TYPE_NAMES, type Tri, Y } from './model.js';

function fmtLoc(l: SourceLocation): string {
  return `${l.file}${l.line !== undefined ? `:${l.line}` : ''}`;
}

/** The selecting symbol of a reverse-dependency term `SEL && cond`. */
function termHead(e: Expr): Sym | null {
  let x = e;
  while (x.k === E.And) x = x.l;
  return x.k === E.Sym ? x.s : null;
}

function activeTerms(
  st: State,
  e: Expr | null,
): { expr: string; value: Tristate; sym: Sym | null; e: Expr }[] {
  return orTerms(e)
    .map((t) => ({
      expr: exprToString(t),
      value: triName(st.evalExpr(t)) as Tristate,
      sym: termHead(t),
      e: t,
    }))
    .filter((t) => !t.sym?.isConst);
}

function describeLimit(st: State, e: Expr | null, want: Tri): string {
  const parts = limitingParts(st, e, want);
  if (parts.length === 0) return exprWithValues(st, e);
  return parts.map((p) => exprWithValues(st, p)).join(' && ');
}

function userSource(st: State, s: Sym, requests: Request[]): string | undefined {
  const loc = st.userLoc[s.id];
  if (loc) return `${loc.file}:${loc.line}`;
  for (let i = requests.length - 1; i >= 0; i--) {
    const r = requests[i]!;
    if (r.sym === s) return `${r.file}:${r.line}`;
  }
  return undefined;
}

/** The one-line reason for a symbol's current value. */
export function reasonFor(st: State, s: Sym, requests: Request[]): string {
  const id = s.id;
  const v = st.str(s);
  const vis = st.visible[id] as Tri;
  if (s.type === SymType.Unknown) return s.menus.length ? 'defined without a type' : 'never defined';
  const isTri = s.type === SymType.Bool || s.type === SymType.Tristate;
  const fromUser = st.hasValue(s) && vis !== N;
  if (!isTri) {
    if (fromUser) {
      const src = userSource(st, s, requests);
      if (st.userVal[id] !== v)
        return `${v}: clamped to its range (${src ? `${src} asked for ${st.userVal[id]}` : 'user value out of range'})`;
      return `${v}: set by user${src ? ` in ${src}` : ''}`;
    }
    if (st.dirDepTri[id] === N && s.dirDep) {
      return `${v === '' ? '(empty)' : v}: not configurable because it depends on ${describeLimit(st, s.dirDep, M)}`;
    }
    const p = st.defaultProp(s);
    if (p) return `${v}: default${p.cond && p.cond.k !== E.Sym ? '' : ''}`;
    return `${v === '' ? '(empty)' : v}: no default applies`;
  }
  const t = st.tri[id] as Tri;
  const rev = st.revDepTri[id] as Tri;
  const imp = st.impliedTri[id] as Tri;
  const sel = activeTerms(st, s.revDep).filter((x) => x.value !== 'n');
  const selText = (): string =>
    sel.map((x) => `${x.sym?.displayName ?? x.expr} (=${x.sym ? st.str(x.sym) : x.value})`).join(', ');

  if (s.isChoiceValue && s.choice) {
    const cs = s.choice;
    const cv = st.tri[cs.id] as Tri;
    const choiceName = cs.menus[0]?.prompt?.text ?? cs.displayName;
    if (cv === N) return `n because its choice "${choiceName}" is n`;
    if (vis === Y || (cv === Y && vis !== N)) {
      const cur = st.choiceCur[cs.id]!;
      if (cur === id) {
        const uc = st.userChoice[cs.id]!;
        if (uc === id) return `y: chosen by user in choice "${choiceName}"`;
        return `y: default choice of "${choiceName}"`;
      }
      const other = cur >= 0 ? st.tree.syms[cur]! : null;
      return other
        ? `n because ${other.displayName} is selected in choice "${choiceName}"`
        : 'n: nothing selected in its choice';
    }
    if (vis === N) return `n because it depends on ${describeLimit(st, s.prompts[0]?.cond ?? s.dirDep, M)}`;
  }

  if (t !== N && rev >= t && sel.length) return `${v} because selected by ${selText()}`;
  if (fromUser) {
    const src = userSource(st, s, requests);
    const asked = st.userTri[id] as Tri;
    if (asked > t)
      return `${v} because it depends on ${describeLimit(st, s.prompts.length ? promptConds(s) : s.dirDep, asked)}${src ? ` (${src} asked for ${triName(asked)})` : ''}`;
    if (asked < t && sel.length) return `${v} because selected by ${selText()}`;
    return `${v}: set by user${src ? ` in ${src}` : ''}`;
  }
  if (t === N) {
    if (st.dirDepTri[id] === N && s.dirDep)
      return `n because it depends on ${describeLimit(st, s.dirDep, M)}`;
    if (vis === N && s.prompts.length && !st.defaultProp(s)) {
      return `n because its prompt is hidden: ${describeLimit(st, promptConds(s), M)}`;
    }
    if (st.defaultProp(s)) return 'n: default';
    return 'n: default (no default applies)';
  }
  if (imp !== N && imp >= t) {
    const im = activeTerms(st, s.implied).filter((x) => x.value !== 'n');
    return `${v} because implied by ${im.map((x) => `${x.sym?.displayName ?? x.expr} (=${x.sym ? st.str(x.sym) : x.value})`).join(', ')}`;
  }
  if (sel.length) return `${v} because selected by ${selText()}`;
  return `${v}: default`;
}

function promptConds(s: Sym): Expr | null {
  let e: Expr | null = null;
  for (const p of s.prompts) {
    if (!p.cond) return null;
    e = e ? { k: E.Or, l: e, r: p.cond } : p.cond;
  }
  return e;
}

export function explainSymbol(st: State, s: Sym, requests: Request[]): Explanation {
  const id = s.id;
  const value = st.str(s);
  const type = TYPE_NAMES[s.type];
  const prompt = s.prompts[0]?.text;
  const definedAt = s.menus.map((m) => m.loc);
  const dependsOn = s.dirDep
    ? { expr: exprToString(s.dirDep), value: triName(st.evalExpr(s.dirDep)) as Tristate }
    : undefined;
  const strip = (x: { expr: string; value: Tristate }) => ({ expr: x.expr, value: x.value });
  const selectedBy = activeTerms(st, s.revDep).map(strip);
  const impliedBy = activeTerms(st, s.implied).map(strip);
  const reason = reasonFor(st, s, requests);
  return {
    symbol: s.displayName,
    type,
    value,
    prompt,
    definedAt,
    dependsOn,
    selectedBy,
    impliedBy,
    reason,
    text(): string {
      const lines: string[] = [];
      lines.push(`Symbol: ${s.displayName} [=${value}]`);
      lines.push(`Type  : ${type}`);
      if (prompt !== undefined) lines.push(`Prompt: ${prompt}`);
      for (const l of definedAt) lines.push(`  Defined at ${fmtLoc(l)}`);
      if (s.dirDep) lines.push(`  Depends on: ${exprWithValues(st, s.dirDep)} => ${dependsOn?.value}`);
      if (s.prompts.length) lines.push(`  Visible: ${triName(st.visible[id] as Tri)}`);
      if (selectedBy.length) {
        lines.push('  Selected by:');
        for (const t of activeTerms(st, s.revDep)) lines.push(`  - ${exprWithValues(st, t.e)} => ${t.value}`);
      }
      if (impliedBy.length) {
        lines.push('  Implied by:');
        for (const t of activeTerms(st, s.implied))
          lines.push(`  - ${exprWithValues(st, t.e)} => ${t.value}`);
      }
      const selects = s.selects.map((p) => exprToString(p.expr));
      if (selects.length) lines.push(`  Selects: ${selects.join(', ')}`);
      lines.push(`Reason: ${reason}`);
      return `${lines.join('\n')}\n`;
    },
  };
}

/** Requests (last one per symbol) that ended with another value. */
export function unmetRequests(st: State, requests: Request[]): Unmet[] {
  const last = new Map<string, Request>();
  for (const r of requests) last.set(r.name, r);
  const out: Unmet[] = [];
  for (const r of last.values()) {
    const loc = { file: r.file, line: r.line };
    const s = r.sym;
    if (!s || (s.type === SymType.Unknown && s.menus.length === 0)) {
      out.push({
        symbol: r.name,
        requested: r.value,
        got: '(undefined)',
        reason: 'no such symbol in this Kconfig tree',
        loc,
      });
      continue;
    }
    if (s.type === SymType.Unknown) continue;
    let requested = r.value;
    const got = st.str(s);
    if (s.type === SymType.Bool || s.type === SymType.Tristate) {
      requested = r.value[0] === 'm' ? 'm' : r.value[0] === 'y' ? 'y' : 'n';
    } else if (s.type === SymType.String) {
      requested =
        st.userLoc[s.id] && st.userVal[s.id] !== null
          ? (st.userVal[s.id] as string)
          : r.value.replace(/^"|"$/g, '');
    }
    if (requested === got) continue;
    out.push({ symbol: r.name, requested, got, reason: reasonFor(st, s, requests), loc });
  }
  return out;
}
