// Why a symbol has its value: its definition, dependencies, what selects or
// implies it, and a one-line reason; and which requested values did not take.

import type { SourceLocation } from '../../errors.js';
import type { Request } from './confdata.js';

/** What a resolve started from, for reasons. */
export interface ExplainContext {
  requests: Request[];
  target: string;
}
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
  // Values from a file carry its name; others were answers of the target (allnoconfig...).
  const loc = st.userLoc[s.id];
  if (loc) return `${loc.file}:${loc.line}`;
  for (let i = requests.length - 1; i >= 0; i--) {
    const r = requests[i]!;
    if (r.sym === s) return `${r.file}:${r.line}`;
  }
  return undefined;
}

/** A reason: the value, then ' because ...' (a cause) or ': ...' (a source). */
interface Why {
  cause: boolean;
  text: string;
}

const because = (text: string): Why => ({ cause: true, text });
const from = (text: string): Why => ({ cause: false, text });

function termsText(st: State, terms: { sym: Sym | null; expr: string; value: Tristate }[]): string {
  return terms.map((x) => `${x.sym?.displayName ?? x.expr} (=${x.sym ? st.str(x.sym) : x.value})`).join(', ');
}

function defaultText(st: State, s: Sym): string | undefined {
  const p = st.defaultProp(s);
  if (!p) return undefined;
  const cond = p.ifCond ? ` if ${exprWithValues(st, p.ifCond)}` : '';
  return `default ${p.expr ? exprToString(p.expr) : 'y'}${cond}`;
}

/** Why the symbol could not take a user value: its prompt is not visible. */
function hiddenWhy(st: State, s: Sym, want: Tri): Why {
  if (s.dirDep && st.evalExpr(s.dirDep) < want)
    return because(`it depends on ${describeLimit(st, s.dirDep, want)}`);
  if (!s.prompts.length) return because('it has no prompt: only defaults and selects set it');
  return because(`its prompt is hidden: ${describeLimit(st, promptConds(s), want)}`);
}

function why(st: State, s: Sym, ctx: ExplainContext): Why {
  const requests = ctx.requests;
  const setBy = (src: string | undefined): string =>
    src ? `set by user in ${src}` : `the ${ctx.target} answer`;
  const id = s.id;
  const v = st.str(s);
  const vis = st.visible[id] as Tri;
  if (s.type === SymType.Unknown) return from(s.menus.length ? 'defined without a type' : 'never defined');
  const fromUser = st.hasValue(s) && vis !== N;
  const src = userSource(st, s, requests);
  const isTri = s.type === SymType.Bool || s.type === SymType.Tristate;

  if (!isTri) {
    if (fromUser) {
      if (st.userVal[id] !== v) return because(`${st.userVal[id]} is outside its range`);
      return from(setBy(src));
    }
    if (src && vis === N) return hiddenWhy(st, s, M);
    const d = defaultText(st, s);
    if (d) return from(d);
    return from('no default applies');
  }

  const t = st.tri[id] as Tri;
  const rev = st.revDepTri[id] as Tri;
  const sel = activeTerms(st, s.revDep).filter((x) => x.value !== 'n' && !x.sym?.isChoice);

  if (s.isChoiceValue && s.choice) {
    const cs = s.choice;
    const cv = st.tri[cs.id] as Tri;
    const name = cs.menus[0]?.prompt?.text ?? cs.displayName;
    if (cv === N) return because(`its choice "${name}" is n`);
    if (vis === N) return hiddenWhy(st, s, M);
    if (cv === Y) {
      const cur = st.choiceCur[cs.id]!;
      if (cur === id) {
        if (st.userChoice[cs.id] === id) return from(`chosen in "${name}"${src ? ` by ${src}` : ''}`);
        return from(`the default of choice "${name}" (no other value was chosen)`);
      }
      const other = cur >= 0 ? st.tree.syms[cur]! : null;
      return because(
        other ? `${other.displayName} is chosen in "${name}"` : `nothing is chosen in "${name}"`,
      );
    }
  }

  if (t !== N && rev >= t && sel.length) return because(`selected by ${termsText(st, sel)}`);
  if (fromUser) {
    const asked = st.userTri[id] as Tri;
    if (asked > t) return hiddenWhy(st, s, asked);
    return from(setBy(src));
  }
  if (src && vis === N) {
    const h = hiddenWhy(st, s, M);
    if (t === N || h.text.startsWith('it depends')) return h;
  }
  if (t === N) {
    if (s.dirDep && st.dirDepTri[id] === N) return because(`it depends on ${describeLimit(st, s.dirDep, M)}`);
    const d = defaultText(st, s);
    if (d) return from(d);
    return from(sel.length ? 'no default applies' : 'no default applies and nothing selects it');
  }
  const imp = st.impliedTri[id] as Tri;
  if (imp !== N && imp >= t) {
    const im = activeTerms(st, s.implied).filter((x) => x.value !== 'n');
    return because(`implied by ${termsText(st, im)}`);
  }
  const d = defaultText(st, s);
  if (t < Y && s.dirDep && st.dirDepTri[id] === M)
    return because(`it depends on ${describeLimit(st, s.dirDep, Y)}`);
  return from(d ?? 'default');
}

/** The one-line reason for a symbol's value: "n because it depends on PCI (=n)". */
export function reasonFor(st: State, s: Sym, ctx: ExplainContext): string {
  const w = why(st, s, ctx);
  const v = st.str(s);
  return `${v === '' ? '""' : v}${w.cause ? ' because ' : ': '}${w.text}`;
}

function promptConds(s: Sym): Expr | null {
  let e: Expr | null = null;
  for (const p of s.prompts) {
    if (!p.cond) return null;
    e = e ? { k: E.Or, l: e, r: p.cond } : p.cond;
  }
  return e;
}

export function explainSymbol(st: State, s: Sym, ctx: ExplainContext): Explanation {
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
  const reason = reasonFor(st, s, ctx);
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
      const help = s.menus.find((m) => m.help)?.help?.();
      if (help)
        lines.push(
          '',
          'Help:',
          ...help
            .replace(/\n+$/, '')
            .split('\n')
            .map((l) => (l ? `  ${l}` : '')),
        );
      return `${lines.join('\n')}\n`;
    },
  };
}

/** Requests (last one per symbol) that ended with another value. */
export function unmetRequests(st: State, ctx: ExplainContext): Unmet[] {
  const requests = ctx.requests;
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
    if (r.invalid) {
      const t = TYPE_NAMES[s.type];
      out.push({
        symbol: r.name,
        requested: r.value,
        got: st.str(s),
        reason: `'${r.value}' is not a valid ${t} value, so it was ignored`,
        loc,
      });
      continue;
    }
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
    const range = st.rangeBounds(s);
    if (range && !st.stringWithinRange(s, requested)) {
      // A value the range refuses is dropped by conf: say which values it takes.
      const reason = `${requested} is outside its range ${range[0]} to ${range[1]}, so it was ignored`;
      out.push({ symbol: r.name, requested, got, reason, loc });
      continue;
    }
    out.push({ symbol: r.name, requested, got, reason: why(st, s, ctx).text, loc });
  }
  return out;
}
