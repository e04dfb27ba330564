import { relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { DiskSpec } from '../config/disks.js';
import type { VolumeSpec } from '../config/volumes.js';
import { cacheRoot } from '../kernel/cache.js';
import type { Manifest } from '../kernel/manifest.js';
import { packageRoot } from '../kernel/paths.js';
import { quickUpToDate } from '../kernel/stamp.js';

// Only light modules are imported statically: an unchanged rebuild is answered
// by the stamp check without loading the YAML parser, the Kconfig engine, elfy
// or execa. The full pipeline is imported when there is work to do.

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

export interface BuildOutcome {
  outDir: string;
  manifest: Manifest;
  upToDate: boolean;
  compiled: number;
  cached: number;
  linked: boolean;
}

export function buildSummary(r: BuildOutcome): string {
  const work = r.upToDate
    ? 'up to date'
    : `${r.compiled} compiled, ${r.cached} cached${r.linked ? ', linked' : ''}`;
  return `${r.manifest.name}: ${displayPath(r.outDir)} (kernel.elf ${kib(r.manifest.kernel.size)}, ${r.manifest.modules.length} modules; ${work})`;
}

export function buildJson(r: BuildOutcome): Record<string, unknown> {
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

export interface BuildEntryOptions {
  srctree?: string;
  out?: string;
  jobs?: number;
  onProgress?: (line: string) => void;
  /** Each compile unit as it finishes (progress bar, --json events). */
  onUnit?: (u: { unit: string; compiled: boolean; done: number; total: number }) => void;
  onWarning?: (text: string) => void;
  /** osvb run --disk: disks whose drivers the image must have. */
  extraDisks?: DiskSpec[];
  /** osvb run -v: volumes whose 9p drivers the image must have. */
  extraVolumes?: VolumeSpec[];
}

/** Builds app.yaml's image unless the stamp shows nothing changed. */
export async function buildOrReuse(appFile: string, opts: BuildEntryOptions): Promise<BuildOutcome> {
  const srctree = resolve(opts.srctree ?? packageRoot());
  const cacheDir = cacheRoot(process.env);
  // Extra disks can change the configuration: take the checked path then.
  const quick =
    opts.extraDisks?.length || opts.extraVolumes?.length
      ? undefined
      : quickUpToDate(appFile, { srctree, outDir: opts.out, cacheDir });
  if (quick) {
    const manifest = JSON.parse(quick.manifestText) as Manifest;
    return { outDir: quick.outDir, manifest, upToDate: true, compiled: 0, cached: 0, linked: false };
  }
  const { buildApp } = await import('../kernel/app.js');
  const r = await buildApp(appFile, {
    srctree,
    outDir: opts.out,
    cacheDir,
    jobs: opts.jobs,
    onProgress: opts.onProgress,
    onUnit: opts.onUnit,
    onWarning: opts.onWarning,
    extraDisks: opts.extraDisks,
    extraVolumes: opts.extraVolumes,
  });
  return r;
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
      // A bar on a terminal (compile lines with -v), JSON events with --json.
      const { progress } = await import('./progress.js');
      const bar = progress({ json: flags.json });
      const r = await buildOrReuse(flags.config, {
        srctree: flags.srctree,
        out: flags.out,
        jobs: flags.jobs,
        onProgress: flags.verbose ? (l) => process.stderr.write(`${l}\n`) : undefined,
        onUnit: (u) =>
          flags.json ? bar.event('unit', u) : flags.verbose ? undefined : bar.step(u.unit, u.done, u.total),
        onWarning: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
      }).finally(() => bar.end());
      process.stdout.write(
        flags.json ? `${JSON.stringify({ event: 'result', ...buildJson(r) })}\n` : `${buildSummary(r)}\n`,
      );
    });
}
