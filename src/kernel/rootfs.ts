// The application part of an image: AppSpec → the fs stage's root filesystem
// entries (collectRootfs) and the kernel command line that starts the program.
// The archive itself is written while the image directory is assembled.

import { stat } from 'node:fs/promises';
import { networkEtcFiles, nicCmdline } from '../config/network.js';
import { dirname } from 'node:path';
import type { AppSpec, RootfsFormat } from '../config/appspec.js';
import { InputError } from '../errors.js';
import { collectRootfs } from '../fs/rootfs.js';
import type { RootfsEntry } from '../fs/tree.js';
import { sha256, sha256Of } from './cache.js';
import { type AppLaunch, launchCmdline } from './launch.js';
import type { ManifestFile } from './manifest.js';

export { type AppLaunch, KERNEL_CMDLINE_MAX, launchCmdline } from './launch.js';

export interface RootfsPlan {
  /** How the image carries it: a cpio initrd or a ZFS pool image (app.yaml `rootfs:`). */
  format: RootfsFormat;
  entries: RootfsEntry[];
  /** What the kernel runs before app.args: [program] or [python, script]. */
  command: string[];
  /** Hash over every entry and the identity (size, mtime) of every host file it copies. */
  key: string;
  files: ManifestFile[];
  /** Host files and directories the rootfs was read from (inputs of the build stamp). */
  hostInputs: string[];
  warnings: string[];
}

export async function planRootfs(spec: AppSpec): Promise<RootfsPlan | undefined> {
  const app = spec.app;
  if (app === undefined) return undefined;
  const warnings: string[] = [];
  const rootfs = await collectRootfs(
    {
      runtime: app.runtime,
      exec: app.runtime === 'python' && app.execDefaulted ? undefined : app.exec,
      script: app.script,
      files: spec.files.map((f) => ({ guest: f.guest, host: f.host, loc: f.loc })),
      specFile: spec.file,
    },
    { onWarning: (w) => warnings.push(w) },
  );
  // Name resolution files for images with NICs, unless files: brought its own.
  for (const f of networkEtcFiles(spec.name, spec.network ?? [])) {
    if (rootfs.entries.some((e) => e.path === f.path)) continue;
    if (!rootfs.entries.some((e) => e.path === '/etc'))
      rootfs.entries.push({ kind: 'dir', path: '/etc', mode: 0o755 });
    const data = new TextEncoder().encode(f.text);
    rootfs.entries.push({
      kind: 'file',
      path: f.path,
      mode: 0o644,
      size: data.length,
      data,
      origin: 'network:',
    });
  }
  addWorkdir(spec, rootfs.entries);
  const format = spec.rootfs ?? 'cpio';
  // A ZFS root is read-only in the guest: mount points for zfs disks and volumes must be in it.
  if (format === 'zfs') {
    const mounts = [
      ...(spec.disks ?? []).flatMap((d) => (d.mount ? [d.mount] : [])),
      ...(spec.volumes ?? []).map((v) => v.guest),
    ];
    for (const m of mounts) {
      const parts = m.split('/').filter((x) => x !== '');
      for (let i = 1; i <= parts.length; i++) {
        const path = `/${parts.slice(0, i).join('/')}`;
        if (!rootfs.entries.some((e) => e.path === path))
          rootfs.entries.push({ kind: 'dir', path, mode: 0o755 });
      }
    }
  }
  rootfs.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: string[] = ['osvb-rootfs-1', format];
  const hostInputs = new Set<string>();
  for (const e of rootfs.entries) {
    parts.push(e.kind, e.path, String(e.mode));
    if (e.kind === 'symlink') parts.push(e.target);
    if (e.kind !== 'file') continue;
    parts.push(String(e.size));
    if (e.source !== undefined) {
      const st = await stat(e.source);
      parts.push(e.source, String(st.size), String(st.mtimeMs), String(st.ino));
      hostInputs.add(e.source);
      hostInputs.add(dirname(e.source));
    }
    if (e.data !== undefined) parts.push(sha256(e.data));
    if (e.patch !== undefined) parts.push(String(e.patch.offset), sha256(e.patch.bytes));
  }
  for (const f of spec.files) hostInputs.add(f.host);
  const files: ManifestFile[] = rootfs.entries.map((e) => ({
    path: e.path,
    kind: e.kind,
    size: e.kind === 'file' ? e.size : 0,
    mode: `0${e.mode.toString(8)}`,
  }));
  return {
    format,
    entries: rootfs.entries,
    command: rootfs.command,
    key: sha256Of(parts),
    files,
    hostInputs: [...hostInputs],
    warnings: [...warnings, ...rootfs.warnings.filter((w) => !warnings.includes(w))],
  };
}

/**
 * app.workdir must be a directory when the program starts. Like a Dockerfile's
 * WORKDIR, a missing one is created (empty, with its missing parents); one that
 * names a file in the image is an error at its app.yaml line. A symlink, or a
 * workdir inside a volume, is checked by the guest when it starts.
 */
function addWorkdir(spec: AppSpec, entries: RootfsEntry[]): void {
  const wd = spec.app?.workdir;
  if (wd === undefined || wd === '/') return;
  const inside = (dir: string, p: string): boolean =>
    p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
  if ((spec.volumes ?? []).some((v) => inside(v.guest, wd))) return;
  const parts = wd.split('/').filter((p) => p !== '');
  for (let i = 1; i <= parts.length; i++) {
    const path = `/${parts.slice(0, i).join('/')}`;
    const e = entries.find((x) => x.path === path);
    if (e === undefined) {
      entries.push({ kind: 'dir', path, mode: 0o755 });
    } else if (e.kind === 'symlink') {
      return;
    } else if (e.kind === 'file') {
      throw new InputError(
        `app.workdir ${JSON.stringify(wd)}: ${path} is a file in the image, not a directory`,
        { loc: spec.locs['app.workdir'] ?? { file: spec.file } },
      );
    }
  }
}

/** The launch an app.yaml describes, given the rootfs command. */
export function appLaunch(spec: AppSpec, command: readonly string[] | undefined): AppLaunch | undefined {
  if (command === undefined || spec.app === undefined) return undefined;
  const { args, env, workdir } = spec.app;
  return { command: [...command], args, env, ...(workdir !== undefined ? { workdir } : {}) };
}

/** The kernel command line for an image built from app.yaml; errors name app.yaml. */
export function imageCmdline(spec: AppSpec, command: readonly string[] | undefined): string {
  const kernelArgs = [spec.kernel.cmdline, ...nicCmdline(spec.network ?? [])]
    .filter((w) => w !== '')
    .join(' ');
  return launchCmdline(kernelArgs, appLaunch(spec, command), (key, message) => {
    throw new InputError(message, { loc: spec.locs[key] ?? { file: spec.file } });
  });
}
