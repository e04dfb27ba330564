import { relative } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { buildApp } from '../kernel/app.js';
import type { BuildResult } from '../kernel/pipeline.js';

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return n;
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

export function buildSummary(r: BuildResult): string {
  const work = r.upToDate
    ? 'up to date'
    : `${r.compiled} compiled, ${r.cached} cached${r.linked ? ', linked' : ''}`;
  return `${r.manifest.name}: ${displayPath(r.outDir)} (kernel.elf ${kib(r.manifest.kernel.size)}, ${r.manifest.modules.length} modules; ${work})`;
}

export function buildJson(r: BuildResult): Record<string, unknown> {
  return {
    image: r.outDir,
    name: r.manifest.name,
    upToDate: r.upToDate,
    compiled: r.compiled,
    cached: r.cached,
    linked: r.linked,
    kernel: r.manifest.kernel,
    configHash: r.manifest.configHash,
    modules: r.manifest.modules,
  };
}

interface BuildFlags {
  config: string;
  out?: string;
  srctree?: string;
  jobs?: number;
  json?: boolean;
  verbose?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build the image directory (kernel.elf, manifest.json) for an app.yaml')
    .option('--config <file>', 'the application description', 'app.yaml')
    .option('--out <dir>', 'image directory (default: <app.yaml dir>/.osvb/<name>)')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .option('-j, --jobs <n>', 'parallel compiles (default: the number of CPUs)', parsePositiveInt)
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'print each compile step')
    .action(async (flags: BuildFlags) => {
      process.exitCode = 0;
      const progress = flags.verbose || (process.stderr.isTTY && !flags.json);
      const r = await buildApp(flags.config, {
        srctree: flags.srctree,
        outDir: flags.out,
        jobs: flags.jobs,
        onProgress: progress ? (l) => process.stderr.write(`${l}\n`) : undefined,
        onWarning: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(buildJson(r), null, 2)}\n` : `${buildSummary(r)}\n`,
      );
    });
}
