// The build stages wired together: modules + config → plan → compile (cached)
// → link (cached, checked) → image directory (atomic). The CLI calls only this.

import { copyFile, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { BuildError, ConfigError, type SourceLocation, ToolMissingError } from '../errors.js';
import { checkWritableParent, makeDirs, replaceDirAtomic, writeFileAtomic } from './atomic.js';
import { BZIMAGE_FILE, makeBzImage } from './bzimage.js';
import { cacheRoot, sha256 } from './cache.js';
import { type CompiledObject, compileAll, exists, readJson } from './compile.js';
import type { BuildConfig } from './config.js';
import { resolveExternals } from './external.js';
import { linkKernel } from './link.js';
import { checkMemory, memoryArg, memoryBytes, minimumMemory } from './memory.js';
import {
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestApp,
  type ModuleSize,
  type RunDefaults,
} from './manifest.js';
import { archiveSize, sourceDateEpoch as fileTimeEpoch } from '../fs/archive.js';
import { discoverModules } from './modules.js';
import { type BuildPlan, enabledModules, planBuild } from './plan.js';
import type { RootfsPlan } from './rootfs.js';
import { findCompiler, findLinker, findQemu, type ToolEnv } from './toolchain.js';

export const ROOTFS_FILE = 'rootfs.cpio';
/** The input key of the build that wrote the image (see buildImage). */
export const INPUTS_FILE = '.inputs';
export const ROOTFS_ZFS_FILE = 'rootfs.zfs';
export const ROOTFS_DIR = 'rootfs';

export interface BuildRequest {
  /** Image name (app.yaml name). */
  name: string;
  /** Directory holding modules/ (and kconfig/). */
  srctree: string;
  config: BuildConfig;
  /** The image directory to (re)write. */
  outDir: string;
  /** Kernel command line recorded in the manifest and passed by osvb run. */
  cmdline: string;
  /** How the program starts, for run-time overrides. */
  app?: ManifestApp;
  run: RunDefaults;
  /** Where run.memory was written (app.yaml), for the error when it is too small. */
  memoryLoc?: SourceLocation;
  /** The application's root filesystem, written as rootfs.cpio (the initrd). */
  rootfs?: Pick<RootfsPlan, 'entries' | 'key' | 'files' | 'command'> & { format?: RootfsPlan['format'] };
  env?: NodeJS.ProcessEnv;
  /** Defaults to ${XDG_CACHE_HOME:-~/.cache}/osvb. */
  cacheDir?: string;
  jobs?: number;
  /** One line per unit compiled or linked ("CC arch/head.S"). */
  onProgress?: (line: string) => void;
  /** Each unit as it finishes (compiled or from the cache), for progress bars and --json events. */
  onUnit?: (u: { unit: string; compiled: boolean; done: number; total: number }) => void;
  onWarning?: (text: string) => void;
}

export interface BuildResult {
  outDir: string;
  manifest: Manifest;
  plan: BuildPlan;
  objects: CompiledObject[];
  compiled: number;
  cached: number;
  linked: boolean;
  /** The image directory already held exactly this image; nothing was written. */
  upToDate: boolean;
}

export function moduleSizes(plan: BuildPlan, objects: readonly CompiledObject[]): ModuleSize[] {
  return plan.modules.map((m) => {
    const mine = objects.filter((o) => o.unit.module === m.name);
    return {
      name: m.name,
      enabledBy: m.enabledBy,
      objects: mine.length,
      text: mine.reduce((n, o) => n + o.sizes.text, 0),
      data: mine.reduce((n, o) => n + o.sizes.data, 0),
      bss: mine.reduce((n, o) => n + o.sizes.bss, 0),
    };
  });
}

/** Writes the config header once per distinct content; its path is stable for equal contents. */
async function writeConfigHeader(cacheDir: string, text: string): Promise<string> {
  const path = join(cacheDir, 'gen', sha256(text).slice(0, 32), 'osvb', 'config.h');
  if (!(await exists(path))) await writeFileAtomic(path, text);
  return path;
}

/** SOURCE_DATE_EPOCH as an ISO date: the only time a manifest records. */
function sourceDateEpoch(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) {
    throw new BuildError(`SOURCE_DATE_EPOCH=${JSON.stringify(v)} is not a number of seconds since 1970`);
  }
  return new Date(Number(v) * 1000).toISOString();
}

/** Refuses run.memory below what the kernel and the root filesystem need to boot. */
function checkMinimumMemory(req: BuildRequest, kernelMem: number, rootfsSize: number): void {
  const need = minimumMemory(kernelMem, rootfsSize);
  const have = memoryBytes(req.run.memory);
  if (have < need) {
    throw new ConfigError(
      `run.memory: ${req.run.memory} is too little for this image: it needs at least ${memoryArg(need)} ` +
        `(the kernel ${kib(kernelMem)} above the first MiB, the root filesystem ${kib(rootfsSize)} twice: archive and unpacked)`,
      { loc: req.memoryLoc },
    );
  }
}

function kib(n: number): string {
  return `${Math.ceil(n / 1024)} KiB`;
}

export async function buildImage(req: BuildRequest): Promise<BuildResult> {
  const env = req.env ?? process.env;
  // Before any compiling: an output place osvb cannot write is one line, not a stack trace.
  await checkWritableParent(req.outDir);
  const cacheDir = req.cacheDir ?? cacheRoot(env);
  const te: ToolEnv = { env, cacheDir };
  const [compiler, linker] = await Promise.all([findCompiler(te), findLinker(te)]);
  let qemu: string | null = null;
  try {
    qemu = (await findQemu(te)).version;
  } catch (err) {
    if (!(err instanceof ToolMissingError)) throw err;
  }

  const modules = await discoverModules(req.srctree);
  // External trees live in the user's cache even when objects go elsewhere (tests).
  const externals = await resolveExternals(enabledModules(modules, req.config), {
    env,
    cacheDir: cacheRoot(env),
    onProgress: req.onProgress,
  });
  const plan = planBuild(req.srctree, modules, req.config, externals);
  const configHeaderPath = await writeConfigHeader(cacheDir, plan.configHeader);

  let unitsDone = 0;
  const objects = await compileAll({
    plan,
    config: req.config,
    compiler,
    objectDir: join(cacheDir, 'objects'),
    configHeaderPath,
    env,
    jobs: req.jobs ?? availableParallelism(),
    onUnit: (o) => {
      if (o.compiled) req.onProgress?.(`  ${o.unit.lang === 'asm' ? 'AS' : 'CC'}  ${o.unit.display}`);
      req.onUnit?.({
        unit: o.unit.display,
        compiled: o.compiled,
        done: ++unitsDone,
        total: plan.units.length,
      });
    },
    onWarning: req.onWarning,
  });
  const link = await linkKernel({
    objects,
    linkerScript: plan.linkerScript,
    linker,
    linkDir: join(cacheDir, 'link'),
    env,
  });
  if (link.linked) req.onProgress?.('  LD  kernel.elf');

  const configHash = sha256(plan.configHeader);
  const tools = { gcc: compiler.version, ld: linker.version, qemu };
  // What the build read, host paths and file identities included: equal key,
  // nothing to do. Kept beside the image (INPUTS_FILE), not in the manifest,
  // which says only what the image is and so is the same in any checkout.
  const inputKey = sha256(
    MANIFEST_FORMAT,
    link.key,
    req.name,
    req.cmdline,
    JSON.stringify(req.run),
    configHash,
    JSON.stringify(tools),
    req.rootfs?.key ?? 'no rootfs',
    // The archive's times come from here when set.
    `SOURCE_DATE_EPOCH=${sourceDateEpoch(env) ?? ''}`,
  );
  const compiled = objects.filter((o) => o.compiled).length;
  const base = {
    outDir: req.outDir,
    plan,
    objects,
    compiled,
    cached: objects.length - compiled,
    linked: link.linked,
  };

  const existing = await readJson<Manifest>(join(req.outDir, 'manifest.json'));
  const existingInputs = await readFile(join(req.outDir, INPUTS_FILE), 'utf8').catch(() => '');
  if (existing && existingInputs.trim() === inputKey) {
    const st = await stat(join(req.outDir, existing.kernel.file)).catch(() => undefined);
    if (st?.size === existing.kernel.size) return { ...base, manifest: existing, upToDate: true };
  }

  const elf = await readFile(link.path);
  const elfSize = elf.length;
  const rootfs = req.rootfs;
  const epoch = sourceDateEpoch(env);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name: req.name,
    ...(epoch !== undefined ? { builtAt: epoch } : {}),
    buildKey: '',
    configHash,
    kernel: {
      file: 'kernel.elf',
      size: elfSize,
      loadSize: link.info.loadSize,
      memSize: link.info.memSize,
      entry: link.info.entry,
      pvhEntry: link.info.pvhEntry,
      cmdline: req.cmdline,
      ...(link.info.platforms ? { platforms: link.info.platforms } : {}),
    },
    modules: moduleSizes(plan, objects),
    tools,
    run: req.run,
    ...(req.app ? { app: req.app } : {}),
  };
  if (rootfs) {
    const loc = req.memoryLoc ?? { file: req.name };
    checkMemory(req.run.memory, link.info.loadSize, archiveSize(rootfs.entries), 'run.memory', loc);
  }
  await makeDirs(dirname(req.outDir));
  await replaceDirAtomic(req.outDir, async (tmp) => {
    await copyFile(link.path, join(tmp, 'kernel.elf'));
    const bz = makeBzImage(await readFile(link.path), 'kernel.elf');
    if (bz) {
      await writeFileAtomic(join(tmp, BZIMAGE_FILE), bz);
      manifest.kernel.bzImage = { file: BZIMAGE_FILE, size: bz.length };
    }
    if (rootfs?.format === '9p') {
      const { writeShareDir } = await import('../fs/sharedir.js');
      const d = await writeShareDir(rootfs.entries, join(tmp, ROOTFS_DIR));
      manifest.rootfs = {
        file: ROOTFS_DIR,
        format: '9p',
        size: d.bytes,
        sha256: sha256(rootfs.key),
        command: rootfs.command,
        files: rootfs.files,
      };
    } else if (rootfs?.format === 'zfs') {
      const { writeZfsPool } = await import('../fs/zfs/pool.js');
      const z = await writeZfsPool(rootfs.entries, join(tmp, ROOTFS_ZFS_FILE));
      manifest.rootfs = {
        file: ROOTFS_ZFS_FILE,
        format: 'zfs',
        size: z.size,
        sha256: z.sha256,
        command: rootfs.command,
        files: rootfs.files,
      };
    } else if (rootfs) {
      const { writeCpioArchive } = await import('../fs/archive.js');
      const a = await writeCpioArchive(rootfs.entries, join(tmp, ROOTFS_FILE), {
        mtime: fileTimeEpoch(env),
      });
      manifest.rootfs = {
        file: ROOTFS_FILE,
        size: a.size,
        sha256: a.sha256,
        command: rootfs.command,
        files: rootfs.files,
      };
      checkMinimumMemory(req, link.info.memSize, a.size);
    } else checkMinimumMemory(req, link.info.memSize, 0);
    // The image's identity: its contents only.
    manifest.buildKey = sha256(
      MANIFEST_FORMAT,
      sha256(elf),
      req.cmdline,
      JSON.stringify(req.run),
      configHash,
      JSON.stringify(tools),
      manifest.rootfs?.sha256 ?? 'no rootfs',
    );
    await writeFileAtomic(join(tmp, INPUTS_FILE), `${inputKey}\n`);
    await writeFileAtomic(join(tmp, 'config.h'), plan.configHeader);
    if (req.config.dotconfig) await writeFileAtomic(join(tmp, '.config'), req.config.dotconfig());
    await writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return { ...base, manifest, upToDate: false };
}
