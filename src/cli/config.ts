// `osvb config show` and `osvb config explain SYMBOL`: the kernel configuration
// an app gets, and why each option has its value.

import type { Command } from 'commander';
import { type AppSpec, loadAppSpec } from '../config/appspec.js';
import type { Diagnostic, ResolvedConfig } from '../config/kconfig/index.js';
import { type ConfigRequest, showRequest } from '../config/requests.js';
import { withDefaultNetwork } from '../config/network.js';
import { inspectForConfig, NO_REQUIREMENTS } from '../config/requirements.js';
import {
  type AppConfig,
  formatUnmet,
  overriddenRequirements,
  resolveAppConfig,
  type UnmetRequest,
} from '../config/resolve.js';
import { closestSymbol } from '../config/suggest.js';
import { ConfigError, formatLocation, type SourceLocation } from '../errors.js';

interface CommonOptions {
  config?: string;
  profile?: string;
  srctree?: string;
  json?: boolean;
}

async function resolveFor(opts: CommonOptions): Promise<{ spec: AppSpec | undefined; cfg: AppConfig }> {
  const loaded = opts.config === undefined ? undefined : await loadAppSpec(opts.config);
  const requirements = loaded === undefined ? NO_REQUIREMENTS : await inspectForConfig(loaded);
  const spec = loaded && withDefaultNetwork(loaded, requirements);
  const cfg = await resolveAppConfig({ spec, requirements, profile: opts.profile, srctree: opts.srctree });
  return { spec, cfg };
}

function where(loc: SourceLocation | undefined): string {
  return loc === undefined ? '' : `${formatLocation(loc)}: `;
}

/** Warnings for stderr: engine warnings, unmet requests, overridden requirements. */
function warnings(cfg: AppConfig): string[] {
  return [
    ...cfg.diagnostics
      .filter((d: Diagnostic) => d.level !== 'info')
      .map((d) => `${d.level}: ${where(d.loc)}${d.message}`),
    ...cfg.unmet.map((u) => `warning: ${formatUnmet(u)}`),
    ...overriddenRequirements(cfg).map((w) => `warning: ${w}`),
  ];
}

function printWarnings(cfg: AppConfig): void {
  for (const w of warnings(cfg)) process.stderr.write(`osvb: ${w}\n`);
}

interface Group {
  menu: string;
  symbols: string[];
}

/**
 * The set symbols grouped by menu, read from the .config the engine writes
 * (menu headers are "#\n# Title\n#" blocks closed by "# end of Title").
 */
export function groupSetSymbols(dotconfig: string): Group[] {
  const lines = dotconfig.split('\n');
  const stack: string[] = [];
  const groups: Group[] = [];
  const groupFor = (menu: string): Group => {
    const last = groups[groups.length - 1];
    if (last?.menu === menu) return last;
    const g = { menu, symbols: [] };
    groups.push(g);
    return g;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '#' && lines[i + 2] === '#' && lines[i + 1]?.startsWith('# ')) {
      const title = (lines[i + 1] ?? '').slice(2);
      if (i > 0) stack.push(title); // the first block is the file header
      i += 2;
      continue;
    }
    const end = /^# end of (.*)$/.exec(line);
    if (end !== null) {
      if (stack[stack.length - 1] === end[1]) stack.pop();
      continue;
    }
    const set = /^CONFIG_([A-Za-z0-9_]+)=/.exec(line);
    if (set?.[1] !== undefined) groupFor(stack.join(' > ') || '(top level)').symbols.push(set[1]);
  }
  return groups.filter((g) => g.symbols.length > 0);
}

function requestJson(r: ConfigRequest): Record<string, unknown> {
  return {
    symbol: r.symbol,
    value: r.value.text,
    origin: r.origin,
    reason: r.reason,
    loc: r.loc,
    overridden: r.overriddenBy !== undefined,
  };
}

function unmetJson(u: UnmetRequest): Record<string, unknown> {
  return {
    symbol: u.request.symbol,
    requested: u.request.value.text,
    got: u.got ?? null,
    reason: u.reason,
    origin: u.request.origin,
    loc: u.request.loc,
    message: formatUnmet(u),
  };
}

function configMap(config: ResolvedConfig, groups: Group[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of groups) for (const s of g.symbols) out[s] = config.get(s) ?? '';
  return out;
}

async function show(opts: CommonOptions): Promise<void> {
  const { spec, cfg } = await resolveFor({ ...opts, config: opts.config ?? 'app.yaml' });
  const groups = groupSetSymbols(cfg.config.dotconfig());
  if (opts.json) {
    const out = {
      app: spec?.file,
      name: spec?.name,
      profile: cfg.profile.name,
      qemuMachine: cfg.qemuMachine ?? null,
      config: configMap(cfg.config, groups),
      groups,
      requests: cfg.requests.map(requestJson),
      unmet: cfg.unmet.map(unmetJson),
      warnings: warnings(cfg),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [
    `# ${spec?.name ?? 'kernel'}: ${spec?.file ?? ''}, profile ${cfg.profile.name}` +
      (cfg.qemuMachine === undefined ? '' : `, QEMU machine ${cfg.qemuMachine}`),
  ];
  for (const g of groups) {
    lines.push('', `${g.menu}:`);
    for (const s of g.symbols) {
      const line = cfg.config
        .dotconfig()
        .split('\n')
        .find((l) => l.startsWith(`CONFIG_${s}=`));
      lines.push(`  ${line ?? `CONFIG_${s}=${cfg.config.get(s) ?? ''}`}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  printWarnings(cfg);
}

/** One line per osvb request for a symbol: what, why, from where, and what became of it. */
function requestLines(symbol: string, cfg: AppConfig): string[] {
  const unmet = cfg.unmet.find((u) => u.request.symbol === symbol);
  return cfg.requests
    .filter((r) => r.symbol === symbol)
    .map((r) => {
      const at = r.origin === 'requirement' && r.loc !== undefined ? ` (${formatLocation(r.loc)})` : '';
      const state =
        r.overriddenBy !== undefined
          ? `, overridden by ${showRequest(r.overriddenBy)} ${r.overriddenBy.reason}`
          : unmet?.request === r
            ? `, not honoured: ${unmet.got === undefined ? 'no such symbol' : `got ${unmet.got}`}: ${unmet.reason}`
            : '';
      return `osvb: ${showRequest(r)} ${r.reason}${at}${state}`;
    });
}

async function explain(symbolArg: string, opts: CommonOptions): Promise<void> {
  const symbol = symbolArg.replace(/^CONFIG_/, '');
  const { cfg } = await resolveFor(opts);
  const requests = cfg.requests.filter((r) => r.symbol === symbol);
  const unmet = cfg.unmet.find((u) => u.request.symbol === symbol);
  if (!cfg.symbolNames.includes(symbol)) {
    const near = closestSymbol(symbol, cfg.symbolNames);
    const hint = near === undefined ? undefined : `did you mean ${near}?`;
    // osvb may have asked for a symbol no module defines yet: say why it asked.
    if (requests.length === 0) throw new ConfigError(`unknown Kconfig symbol ${symbol}`, { hint });
    if (opts.json) {
      const out = { symbol, defined: false, profile: cfg.profile.name, requests: requests.map(requestJson) };
      process.stdout.write(
        `${JSON.stringify({ ...out, unmet: unmet ? unmetJson(unmet) : null }, null, 2)}\n`,
      );
      return;
    }
    const lines = [`Symbol: ${symbol} is not defined in the Kconfig tree${hint ? ` (${hint})` : ''}`, ''];
    process.stdout.write(`${[...lines, ...requestLines(symbol, cfg)].join('\n')}\n`);
    return;
  }
  const ex = cfg.config.explain(symbol);
  if (opts.json) {
    const out = {
      symbol: ex.symbol,
      defined: true,
      type: ex.type,
      value: ex.value,
      prompt: ex.prompt,
      definedAt: ex.definedAt,
      dependsOn: ex.dependsOn,
      selectedBy: ex.selectedBy,
      impliedBy: ex.impliedBy,
      reason: ex.reason,
      profile: cfg.profile.name,
      requests: requests.map(requestJson),
      unmet: unmet === undefined ? null : unmetJson(unmet),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [ex.text().replace(/\n+$/, ''), ''];
  if (requests.length === 0) {
    lines.push(
      `osvb: no request for ${symbol} (profile ${cfg.profile.name}); its value comes from the Kconfig tree`,
    );
  }
  process.stdout.write(`${[...lines, ...requestLines(symbol, cfg)].join('\n')}\n`);
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('show the kernel configuration of an app and explain its options');
  config
    .command('show')
    .description('print the resolved kernel configuration (the symbols that are set, by menu)')
    .option('--config <app.yaml>', 'the application description', 'app.yaml')
    .option('--profile <name>', 'use this kconfig/profiles/ profile instead of kernel.profile')
    .option('--srctree <dir>', 'osvb source tree holding kconfig/ and modules/')
    .option('--json', 'machine-readable output')
    .action(async (opts: CommonOptions) => show(opts));
  config
    .command('explain')
    .description("explain a Kconfig symbol's value, and why osvb requested it")
    .argument('<symbol>', 'Kconfig symbol, with or without CONFIG_')
    .option('--config <app.yaml>', 'explain in the context of this app (default: the profile alone)')
    .option('--profile <name>', 'use this kconfig/profiles/ profile instead of kernel.profile')
    .option('--srctree <dir>', 'osvb source tree holding kconfig/ and modules/')
    .option('--json', 'machine-readable output')
    .action(async (symbol: string, opts: CommonOptions) => explain(symbol, opts));
}
