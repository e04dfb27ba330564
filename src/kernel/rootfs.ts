// The application part of an image: AppSpec → the fs stage's root filesystem
// entries (collectRootfs) and the kernel command line that starts the program.
// The archive itself is written while the image directory is assembled.

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AppSpec, RootfsFormat } from '../config/appspec.js';
import { InputError } from '../errors.js';
import { collectRootfs } from '../fs/rootfs.js';
import type { RootfsEntry } from '../fs/tree.js';
import { sha256 } from './cache.js';
import type { ManifestFile } from './manifest.js';

/** The kernel's command line buffer (boot_info) holds this many bytes. */
export const KERNEL_CMDLINE_MAX = 4095;

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
  const format = spec.rootfs ?? 'cpio';
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
    key: sha256(...parts),
    files,
    hostInputs: [...hostInputs],
    warnings: [...warnings, ...rootfs.warnings.filter((w) => !warnings.includes(w))],
  };
}

/** One command-line word: the kernel groups "..." and has no escapes. */
function cmdlineWord(word: string, what: string, spec: AppSpec, key: string): string {
  const loc = spec.locs[key] ?? { file: spec.file };
  if (word.includes('"')) {
    throw new InputError(
      `${what} ${JSON.stringify(word)} contains '"', which the kernel command line cannot carry`,
      {
        loc,
      },
    );
  }
  if ([...word].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new InputError(`${what} ${JSON.stringify(word)} contains a control character`, { loc });
  }
  if (word.startsWith('osvb.')) {
    throw new InputError(
      `${what} ${JSON.stringify(word)} starts with "osvb.", which the kernel takes as its option`,
      {
        loc,
      },
    );
  }
  return word === '' || /\s/.test(word) ? `"${word}"` : word;
}

/**
 * The kernel command line for an image: app.yaml's kernel.cmdline, then
 * `osvb.exec=PROGRAM NAME=VALUE... -- ARGS...` when there is a program.
 */
export function imageCmdline(spec: AppSpec, command: readonly string[] | undefined): string {
  const words: string[] = spec.kernel.cmdline === '' ? [] : [spec.kernel.cmdline];
  if (command !== undefined && spec.app !== undefined) {
    const [prog, ...lead] = command;
    words.push(`osvb.exec=${cmdlineWord(prog ?? '', 'program path', spec, 'app.exec')}`);
    for (const [k, v] of Object.entries(spec.app.env)) {
      words.push(cmdlineWord(`${k}=${v}`, 'app.env entry', spec, 'app.env'));
    }
    words.push('--');
    for (const a of lead) words.push(cmdlineWord(a, 'program argument', spec, 'app.exec'));
    for (const a of spec.app.args) words.push(cmdlineWord(a, 'app.args entry', spec, 'app.args'));
  }
  const line = words.join(' ');
  if (Buffer.byteLength(line) > KERNEL_CMDLINE_MAX) {
    throw new InputError(
      `the kernel command line would be ${Buffer.byteLength(line)} bytes; the kernel takes ${KERNEL_CMDLINE_MAX}`,
      {
        loc: spec.locs['app.args'] ?? { file: spec.file },
      },
    );
  }
  return line;
}
