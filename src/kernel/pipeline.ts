// The build stages wired together: modules + config → plan → compile (cached)
// → link (cached, checked) → image directory (atomic). The CLI calls only this.

import { copyFile, mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ToolMissingError } from '../errors.js';
import { replaceDirAtomic, writeFileAtomic } from './atomic.js';
import { cacheRoot, sha256 } from './cache.js';
import { type CompiledObject, compileAll, exists, readJson } from './compile.js';
import type { BuildConfig } from './config.js';
import { linkKernel } from './link.js';
import { MANIFEST_FORMAT, type Manifest, type ModuleSize, type RunDefaults } from './manifest.js';
import { discoverModules } from './modules.js';
import { type BuildPlan, planBuild } from './plan.js';
import type { RootfsPlan } from './rootfs.js';
import { findCompiler, findLinker, findQemu, type ToolEnv } from './toolchain.js';

export const ROOTFS_FILE = 'rootfs.cpio';
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
  run: RunDefaults;
  /** The application's root filesystem, written as rootfs.cpio (the initrd). */
  rootfs?: Pick<RootfsPlan, 'entries' | 'key' | 'files' | 'command'> & { format?: RootfsPlan['format'] };
  env?: NodeJS.ProcessEnv;
  /** Defaults to ${XDG_CACHE_HOME:-~/.cache}/osvb. */
  cacheDir?: string;
  jobs?: number;
  /** One line per unit compiled or linked ("CC arch/head.S"). */
  onProgress?: (line: string) => void;
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

export async function buildImage(req: BuildRequest): Promise<BuildResult> {
  const started = process.hrtime.bigint();
  const env = req.env ?? process.env;
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
  const plan = planBuild(req.srctree, modules, req.config);
  const configHeaderPath = await writeConfigHeader(cacheDir, plan.configHeader);

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
  const buildKey = sha256(
    MANIFEST_FORMAT,
    link.key,
    req.name,
    req.cmdline,
    JSON.stringify(req.run),
    configHash,
    JSON.stringify(tools),
    req.rootfs?.key ?? 'no rootfs',
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
  if (existing?.buildKey === buildKey) {
    const st = await stat(join(req.outDir, existing.kernel.file)).catch(() => undefined);
    if (st?.size === existing.kernel.size) return { ...base, manifest: existing, upToDate: true };
  }

  const elfSize = (await stat(link.path)).size;
  const rootfs = req.rootfs;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name: req.name,
    builtAt: new Date().toISOString(),
    buildKey,
    configHash,
    srctree: req.srctree,
    kernel: {
      file: 'kernel.elf',
      size: elfSize,
      loadSize: link.info.loadSize,
      entry: link.info.entry,
      pvhEntry: link.info.pvhEntry,
      cmdline: req.cmdline,
    },
    modules: moduleSizes(plan, objects),
    tools,
    run: req.run,
    buildSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  await mkdir(join(req.outDir, '..'), { recursive: true });
  await replaceDirAtomic(req.outDir, async (tmp) => {
    await copyFile(link.path, join(tmp, 'kernel.elf'));
    if (rootfs?.format === '9p') {
      const { writeShareDir } = await import('../fs/sharedir.js');
      const d = await writeShareDir(rootfs.entries, join(tmp, ROOTFS_DIR));
      manifest.rootfs = {
        file: ROOTFS_DIR,
        format: '9p',
        size: d.bytes,
        sha256: sha256(rootfs.key),
        key: rootfs.key,
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
        key: rootfs.key,
        command: rootfs.command,
        files: rootfs.files,
      };
    } else if (rootfs) {
      const { writeCpioArchive } = await import('../fs/archive.js');
      const a = await writeCpioArchive(rootfs.entries, join(tmp, ROOTFS_FILE));
      manifest.rootfs = {
        file: ROOTFS_FILE,
        size: a.size,
        sha256: a.sha256,
        key: rootfs.key,
        command: rootfs.command,
        files: rootfs.files,
      };
    }
    await writeFileAtomic(join(tmp, 'config.h'), plan.configHeader);
    if (req.config.dotconfig) await writeFileAtomic(join(tmp, '.config'), req.config.dotconfig());
    await writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return { ...base, manifest, upToDate: false };
}
