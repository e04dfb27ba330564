// AppSpec + resolved config → the build request for one image, and the stages
// wired together for the CLI: loadAppSpec → resolve → buildImage.

import { join, resolve } from 'node:path';
import { type AppSpec, loadAppSpec } from '../config/appspec.js';
import type { DiskSpec } from '../config/disks.js';
import { withDefaultNetwork } from '../config/network.js';
import type { VolumeSpec } from '../config/volumes.js';
import { inspectForConfig } from '../config/requirements.js';
import {
  formatUnmet,
  overriddenRequirements,
  resolveAppConfig,
  unmetUserRequestsError,
} from '../config/resolve.js';
import { formatLocation } from '../errors.js';
import { ConfigError } from '../errors.js';
import { cacheRoot } from './cache.js';
import type { BuildConfig } from './config.js';
import { type Machine, MACHINES, type ManifestApp, type RunDefaults } from './manifest.js';
import { memoryArg } from './memory.js';
import { type BuildRequest, type BuildResult, buildImage } from './pipeline.js';
import { packageRoot } from './paths.js';
import { appLaunch, imageCmdline, planRootfs, type RootfsPlan } from './rootfs.js';
import { writeStamp } from './stamp.js';

/** <app.yaml dir>/.osvb/<name>/ */
export function defaultImageDir(spec: AppSpec): string {
  return join(spec.baseDir, '.osvb', spec.name);
}

/** The QEMU machine the configuration was built for (CONFIG_QEMU_MACHINE), else the profile's name. */
export function machineFor(spec: AppSpec, config: BuildConfig): Machine {
  const m = config.get('QEMU_MACHINE') ?? spec.kernel.profile;
  if (!MACHINES.includes(m as Machine)) {
    throw new ConfigError(`QEMU machine "${m}" is not one of ${MACHINES.join(', ')}`, {
      loc: spec.locs['kernel.profile'] ?? { file: spec.file },
    });
  }
  return m as Machine;
}

export { memoryArg };

/** The most CPUs the kernel starts (CONFIG_NR_CPUS; 1 without SMP). */
export function maxCpusOf(config: BuildConfig): number {
  const n = Number(config.get('NR_CPUS') ?? '1');
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** run.cpus must fit the kernel: a VM with more CPUs than it starts would silently run on fewer. */
function checkCpus(spec: AppSpec, config: BuildConfig): number {
  const max = maxCpusOf(config);
  if (spec.run.cpus > max) {
    const smpOff = config.get('SMP') !== 'y';
    throw new ConfigError(
      `run.cpus is ${spec.run.cpus}, but this kernel ${smpOff ? 'is built without SMP and uses 1 CPU' : `uses at most ${max} CPUs (NR_CPUS)`}`,
      {
        loc: spec.locs['run.cpus'] ?? { file: spec.file },
        hint: smpOff
          ? 'remove SMP: n from kernel.config, or set run.cpus to 1'
          : 'set kernel.config NR_CPUS (up to 64) to at least run.cpus',
      },
    );
  }
  return max;
}

export function runDefaults(spec: AppSpec, config: BuildConfig): RunDefaults {
  const run: RunDefaults = {
    machine: machineFor(spec, config),
    memory: memoryArg(spec.run.memory),
    cpus: spec.run.cpus,
    accel: spec.run.accel,
    maxCpus: checkCpus(spec, config),
  };
  if (spec.disks?.length) run.disks = spec.disks;
  if (spec.network?.length) run.network = spec.network;
  if (spec.volumes?.length) run.volumes = spec.volumes;
  return run;
}

function manifestApp(spec: AppSpec, command: readonly string[] | undefined): ManifestApp | undefined {
  const launch = appLaunch(spec, command);
  return launch ? { kernelArgs: spec.kernel.cmdline, ...launch } : undefined;
}

export function imageRequest(
  spec: AppSpec,
  config: BuildConfig,
  opts: { srctree: string; outDir?: string; rootfs?: RootfsPlan },
): Omit<BuildRequest, 'env' | 'cacheDir' | 'onProgress' | 'onWarning' | 'jobs'> {
  return {
    name: spec.name,
    srctree: opts.srctree,
    config,
    outDir: opts.outDir ?? defaultImageDir(spec),
    cmdline: imageCmdline(spec, opts.rootfs?.command),
    app: manifestApp(spec, opts.rootfs?.command),
    run: runDefaults(spec, config),
    memoryLoc: spec.locs['run.memory'] ?? { file: spec.file },
    rootfs: opts.rootfs,
  };
}

export interface BuildAppOptions {
  srctree?: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
  jobs?: number;
  onProgress?: (line: string) => void;
  onUnit?: BuildRequest['onUnit'];
  onWarning?: (text: string) => void;
  /**
   * Builds a variant of app.yaml's image (osvb pkg's disk kernel): the spec is
   * adjusted in memory and the image goes to <default dir>-<suffix>; no stamp.
   */
  variant?: { suffix: string; adjust: (spec: AppSpec) => AppSpec };
  /** Disks osvb run attaches besides app.yaml's (--disk): their drivers are built in, the manifest does not list them. */
  extraDisks?: DiskSpec[];
  /** Volumes osvb run -v shares besides app.yaml's: the 9p drivers are built in. */
  extraVolumes?: VolumeSpec[];
}

/** The whole build for one app.yaml: loadAppSpec → resolve → plan → compile/link → image dir. */
export async function buildApp(file: string, opts: BuildAppOptions = {}): Promise<BuildResult> {
  const started = Date.now();
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? cacheRoot(env);
  const loaded = await loadAppSpec(file);
  const adjusted = opts.variant ? opts.variant.adjust(loaded) : loaded;
  const requirements = await inspectForConfig(adjusted);
  const spec = withDefaultNetwork(adjusted, requirements);
  const srctree = resolve(opts.srctree ?? packageRoot());
  const forConfig = {
    ...spec,
    disks: [...(spec.disks ?? []), ...(opts.extraDisks ?? [])],
    volumes: [...(spec.volumes ?? []), ...(opts.extraVolumes ?? [])],
  };
  const cfg = await resolveAppConfig({
    spec: forConfig,
    requirements,
    srctree,
  });
  // A request app.yaml made that the resolver could not honour is an error; others are warnings.
  const unmetErr = unmetUserRequestsError(cfg);
  if (unmetErr) throw unmetErr;
  const warnings = [
    ...cfg.diagnostics
      .filter((d) => d.level !== 'info')
      .map((d) => `${d.level}: ${d.loc ? `${formatLocation(d.loc)}: ` : ''}${d.message}`),
    ...cfg.unmet.map((u) => `warning: ${formatUnmet(u)}`),
    ...overriddenRequirements(cfg).map((w) => `warning: ${w}`),
  ];
  const rootfs = await planRootfs(spec);
  warnings.push(...(rootfs?.warnings ?? []).map((w) => `warning: ${w}`));
  for (const w of warnings) opts.onWarning?.(`osvb: ${w}\n`);
  const config = cfg.config;
  const outDir = opts.outDir
    ? resolve(opts.outDir)
    : opts.variant
      ? `${defaultImageDir(spec)}-${opts.variant.suffix}`
      : undefined;
  const result = await buildImage({
    ...imageRequest(spec, config, { srctree, outDir, rootfs }),
    env,
    cacheDir,
    jobs: opts.jobs,
    onProgress: opts.onProgress,
    onUnit: opts.onUnit,
    onWarning: opts.onWarning,
  });
  if (result.compiled > 0 || result.linked) {
    // New objects went in: keep the cache under its cap (least recently used out first).
    const { cacheMax, pruneCache } = await import('./lru.js');
    await pruneCache(cacheDir, { maxBytes: cacheMax(env) }).catch(() => undefined);
  }
  if (opts.variant) return result;
  try {
    await writeStamp(
      { appFile: file, srctree, outDir: opts.outDir, cacheDir, env },
      { outDir: result.outDir, buildKey: result.manifest.buildKey, kernelFile: result.manifest.kernel.file },
      started,
      rootfs?.hostInputs,
    );
  } catch {
    // Without a stamp the next build only takes the longer (content-checked) path.
  }
  return result;
}

export { packageRoot };
