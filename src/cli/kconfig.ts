// `osvb kconfig <target>`: runs the Kconfig engine on any Kconfig tree (osvb's
// or Linux's) like Linux's scripts/kconfig/conf, reading the same environment
// variables (srctree, SRCARCH, ARCH, CC, LD, KCONFIG_CONFIG, KCONFIG_ALLCONFIG,
// KBUILD_KCONFIG, KBUILD_DEFCONFIG, CONFIG_, ...). Output is written atomically.

import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  type ConfigText,
  type Diagnostic,
  loadKconfig,
  mergeConfigs,
  readConfigText,
  type Target,
  TARGETS,
  type Unmet,
} from '../config/kconfig/index.js';
import { formatLocation, KconfigError, OsvbError } from '../errors.js';

const CLI_TARGETS = [...TARGETS, 'tinyconfig'] as const;
type CliTarget = (typeof CLI_TARGETS)[number];

interface KconfigOptions {
  srctree?: string;
  kconfig?: string;
  config?: string;
  defconfig?: string;
  out?: string;
  autoconf?: string;
  shellCache?: string;
  json?: boolean;
  verbose?: boolean;
  silent?: boolean;
}

/** At most this many "used but never defined" warnings are printed unless --verbose. */
const UNDEFINED_LIMIT = 10;

/** Writes a file atomically: a temporary file in the same directory, then rename. */
export function writeAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, 'latin1');
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new OsvbError(`cannot write ${file}: ${(err as Error).message}`, { loc: { file }, cause: err });
  }
}

/** Like conf's zconf_fopen: the name as given (relative to the cwd), else relative to srctree. */
function locate(name: string, srctree: string): string | undefined {
  if (existsSync(name)) return name;
  if (!path.isAbsolute(name)) {
    const p = path.join(srctree, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function readInput(name: string, srctree: string, what: string): ConfigText {
  const file = locate(name, srctree);
  if (!file) throw new KconfigError(`${what} ${name} not found`, { loc: { file: name } });
  return { ...readConfigText(file), file: name };
}

function defaultDefconfig(env: NodeJS.ProcessEnv, srctree: string): string {
  const arch = env.SRCARCH;
  const names = env.KBUILD_DEFCONFIG
    ? [env.KBUILD_DEFCONFIG]
    : [...(env.ARCH ? [`${env.ARCH}_defconfig`] : []), 'defconfig'];
  if (arch) {
    for (const n of names) {
      const p = `arch/${arch}/configs/${n}`;
      if (locate(p, srctree)) return p;
    }
  }
  throw new OsvbError('no defconfig file given', {
    exitCode: 2,
    hint: 'pass --defconfig FILE (or set SRCARCH and ARCH for a Linux tree)',
  });
}

/** KCONFIG_ALLCONFIG, as conf reads it for the all*config targets. */
function allconfigInput(target: Target, env: NodeJS.ProcessEnv, srctree: string): ConfigText | undefined {
  const v = env.KCONFIG_ALLCONFIG;
  if (v === undefined) return undefined;
  if (v !== '' && v !== '1') return readInput(v, srctree, 'KCONFIG_ALLCONFIG file');
  const specific = `${target.replace(/config$/, '')}.config`;
  for (const n of [specific, 'all.config']) {
    if (locate(n, srctree)) return readInput(n, srctree, 'KCONFIG_ALLCONFIG file');
  }
  throw new KconfigError(`KCONFIG_ALLCONFIG set, but no "${specific}" or "all.config" file found`);
}

function formatUnmet(u: Unmet): string {
  const at = u.loc ? `${formatLocation(u.loc)}: ` : '';
  return `${at}${u.symbol}=${u.requested} requested, got ${u.got}: ${u.reason}`;
}

export async function runKconfig(targetArg: string, opts: KconfigOptions): Promise<number> {
  if (!(CLI_TARGETS as readonly string[]).includes(targetArg)) {
    throw new OsvbError(`unknown target '${targetArg}'`, {
      exitCode: 2,
      hint: `use one of: ${CLI_TARGETS.join(', ')}`,
    });
  }
  const target = targetArg as CliTarget;
  const env = process.env;
  const srctree = opts.srctree ?? env.srctree ?? '.';
  const kconfigFile = opts.kconfig ?? env.KBUILD_KCONFIG ?? 'Kconfig';
  const configName = opts.config ?? env.KCONFIG_CONFIG ?? '.config';
  const prefix = env.CONFIG_ ?? 'CONFIG_';

  const diags: Diagnostic[] = [];
  const kc = await loadKconfig({
    srctree,
    kconfig: kconfigFile,
    env: { ...env, srctree },
    onDiagnostic: (d) => {
      if (d.level === 'info') process.stdout.write(`${d.message}\n`);
      else diags.push(d);
    },
    shellCacheFile: opts.shellCache,
  });

  let out = opts.out;
  let resolved: ReturnType<typeof kc.resolve>;
  let showUnmet = true;
  switch (target) {
    case 'defconfig': {
      const def = readInput(opts.defconfig ?? defaultDefconfig(env, srctree), srctree, 'defconfig file');
      resolved = kc.resolve({ target, base: def });
      break;
    }
    case 'olddefconfig':
    case 'savedefconfig': {
      const file = locate(configName, srctree);
      const base = file ? { ...readConfigText(file), file: configName } : undefined;
      if (!base && target === 'savedefconfig') {
        throw new KconfigError(`${configName} not found`, {
          hint: 'savedefconfig minimizes an existing .config',
        });
      }
      resolved = kc.resolve({ target, base });
      // A .config is a full snapshot; values that moved are expected, not requests.
      showUnmet = !!opts.verbose;
      break;
    }
    case 'tinyconfig': {
      // Linux: allnoconfig with kernel/configs/tiny-base.config, then the tiny.config fragments, then olddefconfig.
      const baseFrag = locate('kernel/configs/tiny-base.config', srctree)
        ? readInput('kernel/configs/tiny-base.config', srctree, 'fragment')
        : undefined;
      const frags = ['kernel/configs/tiny.config', `arch/${env.SRCARCH ?? ''}/configs/tiny.config`]
        .filter((f) => locate(f, srctree))
        .map((f) => readInput(f, srctree, 'fragment'));
      if (!frags.length) throw new KconfigError('tinyconfig: no tiny.config fragment in this tree');
      const first = kc.resolve({ target: 'allnoconfig', allconfig: baseFrag });
      const merged = mergeConfigs({ text: first.dotconfig(), file: configName }, frags, prefix);
      resolved = kc.resolve({ target: 'olddefconfig', base: merged });
      showUnmet = false;
      break;
    }
    default:
      resolved = kc.resolve({ target, allconfig: allconfigInput(target, env, srctree) });
  }

  // Diagnostics: one line each; undefined-symbol warnings are summarized (Linux's tree has hundreds).
  const undefinedRe = / is used but never defined$/;
  let undefinedCount = 0;
  const lines: string[] = [];
  for (const d of diags) {
    if (undefinedRe.test(d.message) && !opts.verbose) {
      if (++undefinedCount > UNDEFINED_LIMIT) continue;
    }
    lines.push(`osvb: ${d.loc ? `${formatLocation(d.loc)}: ` : ''}${d.level}: ${d.message}`);
  }
  if (undefinedCount > UNDEFINED_LIMIT) {
    lines.push(
      `osvb: warning: ${undefinedCount - UNDEFINED_LIMIT} more symbols are used but never defined (--verbose lists them)`,
    );
  }
  const unmet = resolved.unmet();
  if (showUnmet) for (const u of unmet) lines.push(`osvb: warning: ${formatUnmet(u)}`);
  if (!opts.json && !opts.silent) for (const l of lines) process.stderr.write(`${l}\n`);

  if (target === 'savedefconfig') {
    out ??= 'defconfig';
    writeAtomic(out, resolved.savedefconfig());
  } else {
    out ??= configName;
    writeAtomic(out, resolved.dotconfig());
  }
  if (opts.autoconf) writeAtomic(opts.autoconf, resolved.autoconfH());

  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          target,
          out,
          autoconf: opts.autoconf ?? null,
          unmet,
          diagnostics: diags,
        },
        null,
        2,
      )}\n`,
    );
  }
  const werror = env.KCONFIG_WERROR;
  if (werror && diags.some((d) => d.level === 'warning' && !undefinedRe.test(d.message))) {
    process.stderr.write('osvb: warnings treated as errors (KCONFIG_WERROR is set)\n');
    return 1;
  }
  return 0;
}

export function registerKconfig(program: Command): void {
  program
    .command('kconfig')
    .description(
      `run the Kconfig engine on a Kconfig tree like Linux's conf (targets: ${CLI_TARGETS.join(', ')})`,
    )
    .argument('<target>', 'what to produce')
    .option('--srctree <dir>', 'source tree `source` paths are relative to (default: $srctree or .)')
    .option(
      '--kconfig <file>',
      'root Kconfig file, relative to srctree (default: $KBUILD_KCONFIG or Kconfig)',
    )
    .option('--config <file>', 'the .config to read and write (default: $KCONFIG_CONFIG or .config)')
    .option('--defconfig <file>', 'defconfig for the defconfig target (default: arch/$SRCARCH/configs/...)')
    .option('--out <file>', 'where to write (default: the --config file; savedefconfig: ./defconfig)')
    .option('--autoconf <file>', 'also write the C header (autoconf.h style) here')
    .option('--shell-cache <file>', 'keep $(shell,...) results in this file and reuse them')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('-v, --verbose', 'list every warning')
    .option('-s, --silent', 'print no warnings (like conf -s)')
    .action(async (target: string, opts: KconfigOptions) => {
      const status = await runKconfig(target, opts);
      if (status !== 0) process.exitCode = status;
    });
}
