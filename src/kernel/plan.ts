// Config + modules → BuildPlan: which modules and sources build, with which
// include path and linker script.

import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BuildError } from '../errors.js';
import type { BuildConfig } from './config.js';
import type { ExternalRoots } from './external.js';
import type { KernelModule, Platform } from './modules.js';

export interface CompileUnit {
  module: string;
  /** Absolute source path. */
  source: string;
  /** Path relative to srctree, for messages. */
  display: string;
  lang: 'c' | 'asm';
  /** The module's extra cflags. */
  cflags: string[];
  /** Linked into this platform's own sections (modules/README.md, "Runtime disposal"). */
  platform?: Platform;
}

export interface BuildPlan {
  srctree: string;
  /** Enabled modules, sorted by name. */
  modules: KernelModule[];
  units: CompileUnit[];
  /** Every enabled module's include/ directory, in module order. */
  includeDirs: string[];
  linkerScript: string;
  /** Contents of the generated config header. */
  configHeader: string;
}

/** The enabled modules of a configuration (the ones whose external sources a build needs). */
export function enabledModules(modules: readonly KernelModule[], config: BuildConfig): KernelModule[] {
  return modules.filter((m) => config.isEnabled(m.enabledBy));
}

export function planBuild(
  srctree: string,
  modules: readonly KernelModule[],
  config: BuildConfig,
  externals: ExternalRoots = new Map(),
): BuildPlan {
  const enabled = enabledModules(modules, config);
  if (enabled.length === 0) {
    throw new BuildError('the configuration enables no kernel module', {
      hint: `modules are enabled by: ${modules.map((m) => `${m.enabledBy} (${m.name})`).join(', ')}`,
    });
  }
  const withScript = enabled.filter((m) => m.linkerScript !== undefined);
  if (withScript.length === 0) {
    throw new BuildError('no enabled module provides a linker script', {
      hint: 'enable the arch module (the one whose module.yaml has linker-script:)',
    });
  }
  if (withScript.length > 1) {
    throw new BuildError(
      `more than one enabled module has a linker script: ${withScript.map((m) => m.name).join(', ')}`,
      { loc: { file: withScript[1]!.yamlFile } },
    );
  }
  const units: CompileUnit[] = [];
  for (const m of enabled) {
    const cflags = [...m.cflags, ...m.privateIncludes.flatMap((d) => ['-I', d])];
    for (const s of m.sources) {
      if (s.if && config.isEnabled(s.if.symbol) === s.if.negate) continue;
      if (s.if && !existsSync(s.path)) {
        throw new BuildError(
          `source "${s.file}" does not exist (needed because ${s.if.negate ? '!' : ''}${s.if.symbol})`,
          {
            loc: s.loc,
          },
        );
      }
      const platform = s.platform ?? m.platform;
      units.push({
        module: m.name,
        source: s.path,
        display: relative(srctree, s.path),
        lang: s.path.endsWith('.S') ? 'asm' : 'c',
        cflags,
        ...(platform ? { platform } : {}),
      });
    }
    if (m.external) {
      const root = externals.get(m.name);
      if (root === undefined) {
        throw new BuildError(
          `module ${m.name} needs its external source ${m.external.package}, which was not resolved`,
          {
            loc: m.external.loc,
          },
        );
      }
      for (const s of m.external.sources) {
        units.push({
          module: m.name,
          source: join(root, s),
          display: `${m.name}:${m.external.package}/${s}`,
          lang: s.endsWith('.S') ? 'asm' : 'c',
          cflags,
          ...(m.platform ? { platform: m.platform } : {}),
        });
      }
    }
  }
  return {
    srctree,
    modules: enabled,
    units,
    includeDirs: enabled.flatMap((m) => [
      ...(m.includeDir ? [m.includeDir] : []),
      ...(m.external ? m.external.include.map((d) => join(externals.get(m.name)!, d)) : []),
    ]),
    linkerScript: withScript[0]!.linkerScript!,
    configHeader: config.autoconfH(),
  };
}

/** The compile flags every kernel source gets (BRIEF.md), before include paths. */
export function baseCflags(compilerIncludeDir: string): string[] {
  return [
    '-std=gnu11',
    '-ffreestanding',
    '-fno-pic',
    '-fno-pie',
    '-mcmodel=kernel',
    '-mno-red-zone',
    '-mno-mmx',
    '-mno-sse',
    '-mno-sse2',
    '-mno-avx',
    '-fno-stack-protector',
    '-fno-omit-frame-pointer',
    '-O2',
    '-g',
    '-Wall',
    '-Wextra',
    '-nostdinc',
    '-isystem',
    compilerIncludeDir,
  ];
}

export const LDFLAGS = ['-nostdlib', '-z', 'max-page-size=4096'];
