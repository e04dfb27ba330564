// External sources (DESIGN.md section 3): a library a module builds but osvb
// does not carry, e.g. lwIP. The tree comes from the module's environment
// variable (OSVB_LWIP_SRC=DIR) when set, else from the user's cache, where
// `apt-get source PACKAGE=VERSION` unpacked it once after every downloaded
// file matched the sha256 pinned in module.yaml.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildError } from '../errors.js';
import type { ExternalSource, KernelModule } from './modules.js';
import { execTool, firstLines } from './spawn.js';

/** Where each enabled module's external tree is, by module name. */
export type ExternalRoots = ReadonlyMap<string, string>;

export interface ExternalOptions {
  env: NodeJS.ProcessEnv;
  /** ${XDG_CACHE_HOME:-~/.cache}/osvb */
  cacheDir: string;
  onProgress?: (line: string) => void;
}

function hasTree(dir: string, ext: ExternalSource): boolean {
  return existsSync(join(dir, ext.check)) && ext.sources.every((s) => existsSync(join(dir, s)));
}

/** The cache directory of one pinned version (a version is not a path: keep it to safe characters). */
export function externalCacheDir(cacheDir: string, ext: ExternalSource): string {
  return join(cacheDir, 'external', `${ext.package}-${ext.version.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Downloads and unpacks with apt-get source in a scratch directory; returns the unpacked tree or why not. */
async function fetchWithApt(
  ext: ExternalSource,
  dest: string,
  opts: ExternalOptions,
): Promise<{ ok: true } | { ok: false; why: string }> {
  const scratchRoot = join(opts.cacheDir, 'external', 'tmp');
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, `${ext.package}-`));
  try {
    opts.onProgress?.(`  FETCH  apt-get source ${ext.package}=${ext.version}`);
    let r: Awaited<ReturnType<typeof execTool>>;
    try {
      r = await execTool(
        'apt-get',
        ['source', '-qq', `${ext.package}=${ext.version}`],
        { ...opts.env, LC_ALL: 'C' },
        scratch,
      );
    } catch (err) {
      return { ok: false, why: `cannot run apt-get (${(err as Error).message})` };
    }
    if (r.exitCode !== 0) {
      const msg = firstLines(
        r.stderr
          .split('\n')
          .filter((l) => !l.startsWith('W:'))
          .join('\n') || r.stdout,
      );
      return { ok: false, why: `apt-get source ${ext.package}=${ext.version} failed: ${msg}` };
    }
    for (const [file, want] of Object.entries(ext.sha256)) {
      const p = join(scratch, file);
      if (!existsSync(p)) return { ok: false, why: `apt-get source did not download ${file}` };
      const got = await sha256File(p);
      if (got !== want) return { ok: false, why: `${file} has sha256 ${got}, module.yaml pins ${want}` };
    }
    const dirs = (await readdir(scratch, { withFileTypes: true })).filter((e) => e.isDirectory());
    const tree = dirs.map((d) => join(scratch, d.name)).find((d) => hasTree(d, ext));
    if (!tree) return { ok: false, why: `the unpacked ${ext.package} source has no ${ext.check}` };
    // Rename last: a cache directory that exists is complete. Another build
    // may have won the race; its tree is as good as ours.
    if (hasTree(dest, ext)) return { ok: true };
    await rm(dest, { recursive: true, force: true });
    try {
      await rename(tree, dest);
    } catch (err) {
      if (!hasTree(dest, ext)) throw err;
    }
    return { ok: true };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Finds (fetching once) the external tree of one module. */
export async function resolveExternal(mod: KernelModule, opts: ExternalOptions): Promise<string> {
  const ext = mod.external;
  if (!ext)
    throw new BuildError(`module ${mod.name} has no external source`, { loc: { file: mod.yamlFile } });
  const fromEnv = opts.env[ext.env];
  if (fromEnv !== undefined && fromEnv !== '') {
    const dir = resolve(fromEnv);
    if (existsSync(dir) && statSync(dir).isDirectory() && hasTree(dir, ext)) return dir;
    const missing = [ext.check, ...ext.sources].find((s) => !existsSync(join(dir, s)));
    throw new BuildError(`${ext.env}=${fromEnv} is not a ${ext.package} source tree: it has no ${missing}`, {
      loc: ext.loc,
      hint: `point ${ext.env} at an unpacked ${ext.package} ${ext.version} tree, or unset it to use apt-get source`,
    });
  }
  const dest = externalCacheDir(opts.cacheDir, ext);
  if (hasTree(dest, ext)) return dest;
  const r = await fetchWithApt(ext, dest, opts);
  if (r.ok) return dest;
  throw new BuildError(
    `the ${ext.package} ${ext.version} source is needed by module ${mod.name} and is not available: ${r.why}`,
    {
      loc: ext.loc,
      hint: `either enable deb-src entries for Debian bookworm main in apt (scripts/setup does) so that \`apt-get source ${ext.package}=${ext.version}\` works, or set ${ext.env}=DIR to an unpacked ${ext.package} tree`,
    },
  );
}

/** The external trees of the enabled modules that name one. */
export async function resolveExternals(
  modules: readonly KernelModule[],
  opts: ExternalOptions,
): Promise<Map<string, string>> {
  const roots = new Map<string, string>();
  for (const m of modules) if (m.external) roots.set(m.name, await resolveExternal(m, opts));
  return roots;
}
