// Random Kconfig trees and configs for differential testing against Linux's
// conf. Every dependency points to an earlier symbol (selects and implies to a
// later one), so the trees have no dependency cycles.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

type Kind = 'bool' | 'tristate' | 'int' | 'hex' | 'string';

interface GenSym {
  name: string;
  kind: Kind;
  inChoice: boolean;
}

export interface Generated {
  kconfig: string;
  syms: GenSym[];
}

export function generateTree(r: Rng): Generated {
  const syms: GenSym[] = [];
  const out: string[] = [];
  const hasModules = r.chance(0.8);
  if (hasModules) {
    out.push('config MODULES', '\tbool "modules"', `\tdefault ${r.pick(['y', 'n', 'y'])}`, '\tmodules', '');
    syms.push({ name: 'MODULES', kind: 'bool', inChoice: false });
  }
  const logic = () => syms.filter((s) => s.kind === 'bool' || s.kind === 'tristate');
  const nums = () => syms.filter((s) => s.kind === 'int' || s.kind === 'hex');

  const atom = (): string => {
    const l = logic();
    const roll = r.int(10);
    if (roll === 0 || l.length === 0) return r.pick(['y', 'n', 'm']);
    if (roll === 1) {
      const s = r.pick(l);
      return `${s.name} ${r.pick(['=', '!='])} ${r.pick(['y', 'm', 'n'])}`;
    }
    if (roll === 2 && nums().length) {
      const s = r.pick(nums());
      return `${s.name} ${r.pick(['<', '>', '<=', '>=', '='])} ${s.kind === 'hex' ? `0x${r.int(32).toString(16)}` : r.int(20)}`;
    }
    return r.pick(l).name;
  };
  const expr = (depth = 0): string => {
    const roll = r.int(depth > 1 ? 3 : 7);
    if (roll < 3) return atom();
    if (roll === 3) return `!${atom()}`;
    if (roll === 4) return `(${expr(depth + 1)})`;
    return `${expr(depth + 1)} ${r.pick(['&&', '||'])} ${expr(depth + 1)}`;
  };
  const numValue = (kind: Kind): string =>
    kind === 'hex'
      ? `${r.chance(0.7) ? '0x' : ''}${r.int(40).toString(16)}`
      : String(r.int(40) - (r.chance(0.1) ? 50 : 0));

  let n = 0;
  const newSym = (kind: Kind, inChoice: boolean): GenSym => ({ name: `S${n++}`, kind, inChoice });

  const config = (s: GenSym, later: () => GenSym[]): void => {
    out.push(`${r.chance(0.1) && !s.inChoice ? 'menuconfig' : 'config'} ${s.name}`);
    const prompt = s.inChoice || r.chance(0.7);
    const cond = !s.inChoice && r.chance(0.2) && syms.length ? ` if ${expr()}` : '';
    out.push(`\t${s.kind}${prompt ? ` "${s.name} prompt"${cond}` : ''}`);
    if (r.chance(0.4) && syms.length) out.push(`\tdepends on ${expr()}`);
    if (!s.inChoice) {
      const nd = r.int(3);
      for (let i = 0; i < nd; i++) {
        const v =
          s.kind === 'bool' || s.kind === 'tristate'
            ? r.chance(0.5) || !syms.length
              ? r.pick(['y', 'm', 'n'])
              : expr()
            : s.kind === 'string'
              ? `"${r.pick(['a', 'b c', ''])}"`
              : r.chance(0.2) && nums().length
                ? r.pick(nums()).name
                : numValue(s.kind);
        out.push(`\tdefault ${v}${r.chance(0.4) && syms.length ? ` if ${expr()}` : ''}`);
      }
      if ((s.kind === 'int' || s.kind === 'hex') && r.chance(0.5)) {
        const lo = r.int(10);
        const hi = lo + r.int(20);
        const f = (v: number) => (s.kind === 'hex' ? `0x${v.toString(16)}` : String(v));
        out.push(`\trange ${f(lo)} ${f(hi)}${r.chance(0.3) && syms.length ? ` if ${expr()}` : ''}`);
      }
    }
    if (s.kind === 'bool' || s.kind === 'tristate') {
      const targets = later().filter(
        (t) => t !== s && (t.kind === 'bool' || t.kind === 'tristate') && !t.inChoice,
      );
      if (targets.length && r.chance(0.25)) {
        out.push(`\tselect ${r.pick(targets).name}${r.chance(0.3) && syms.length ? ` if ${expr()}` : ''}`);
      }
      if (targets.length && r.chance(0.15)) {
        out.push(`\timply ${r.pick(targets).name}${r.chance(0.3) && syms.length ? ` if ${expr()}` : ''}`);
      }
    }
    out.push('');
  };

  // Plan all symbols first so selects can name later ones.
  const plan: (
    | GenSym
    | { choice: GenSym[]; tristate: boolean; optional: boolean }
    | 'menu'
    | 'if'
    | 'end'
  )[] = [];
  const count = 8 + r.int(16);
  const planned: GenSym[] = [];
  let open: ('menu' | 'if')[] = [];
  for (let i = 0; i < count; i++) {
    const roll = r.int(20);
    if (roll === 0 && open.length < 2) {
      const k = r.pick(['menu', 'if'] as const);
      plan.push(k);
      open.push(k);
      continue;
    }
    if (roll === 1 && open.length) {
      plan.push('end');
      open = open.slice(0, -1);
      continue;
    }
    if (roll === 2) {
      const tristate = r.chance(0.3);
      const members: GenSym[] = [];
      const m = 2 + r.int(3);
      for (let j = 0; j < m; j++) members.push(newSym(tristate && r.chance(0.7) ? 'tristate' : 'bool', true));
      planned.push(...members);
      plan.push({ choice: members, tristate, optional: r.chance(0.3) });
      continue;
    }
    const kind: Kind = r.pick(['bool', 'bool', 'bool', 'tristate', 'tristate', 'int', 'hex', 'string']);
    const s = newSym(kind, false);
    planned.push(s);
    plan.push(s);
  }
  while (open.length) {
    plan.push('end');
    open = open.slice(0, -1);
  }
  const later = (): GenSym[] => planned.filter((p) => !syms.includes(p));
  const stack: ('menu' | 'if')[] = [];
  for (const item of plan) {
    if (item === 'menu') {
      out.push(`menu "Menu ${n}"`);
      if (syms.length && r.chance(0.5)) out.push(`\tdepends on ${expr()}`);
      if (syms.length && r.chance(0.2)) out.push(`\tvisible if ${expr()}`);
      out.push('');
      stack.push('menu');
    } else if (item === 'if') {
      out.push(`if ${syms.length ? expr() : 'y'}`, '');
      stack.push('if');
    } else if (item === 'end') {
      out.push(stack.pop() === 'menu' ? 'endmenu' : 'endif', '');
    } else if ('choice' in item) {
      out.push(
        'choice',
        `\tprompt "choice ${item.choice[0]!.name}"${r.chance(0.2) && syms.length ? ` if ${expr()}` : ''}`,
      );
      if (item.tristate) out.push('\ttristate');
      if (item.optional) out.push('\toptional');
      if (r.chance(0.5))
        out.push(
          `\tdefault ${r.pick(item.choice).name}${r.chance(0.4) && syms.length ? ` if ${expr()}` : ''}`,
        );
      if (r.chance(0.3) && syms.length) out.push(`\tdepends on ${expr()}`);
      out.push('');
      // Values may not depend on each other (that is a dependency cycle through the choice).
      for (const m of item.choice) config(m, () => later().filter((x) => !item.choice.includes(x)));
      syms.push(...item.choice);
      out.push('endchoice', '');
    } else {
      config(item, later);
      syms.push(item);
    }
    if (r.chance(0.05))
      out.push(`comment "comment ${n}"`, syms.length && r.chance(0.5) ? `\tdepends on ${expr()}` : '', '');
  }
  return { kconfig: `${out.join('\n')}\n`, syms };
}

/** A random .config / defconfig for the tree. */
export function generateConfig(r: Rng, g: Generated): string {
  const lines: string[] = [];
  for (const s of g.syms) {
    if (!r.chance(0.6)) continue;
    switch (s.kind) {
      case 'bool':
        lines.push(r.chance(0.5) ? `CONFIG_${s.name}=y` : `# CONFIG_${s.name} is not set`);
        break;
      case 'tristate': {
        const v = r.pick(['y', 'm', 'n']);
        lines.push(v === 'n' ? `# CONFIG_${s.name} is not set` : `CONFIG_${s.name}=${v}`);
        break;
      }
      case 'int':
        lines.push(`CONFIG_${s.name}=${r.int(40)}`);
        break;
      case 'hex':
        lines.push(`CONFIG_${s.name}=0x${r.int(40).toString(16)}`);
        break;
      case 'string':
        lines.push(`CONFIG_${s.name}="${r.pick(['x', 'y z', ''])}"`);
        break;
    }
  }
  for (let i = lines.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return `${lines.join('\n')}\n`;
}
