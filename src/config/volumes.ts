// Host directories shared with the guest over 9p: app.yaml `volumes:` and
// `osvb run -v HOST:GUEST[:ro]`. One shape for both, kept in the manifest so
// `osvb run IMAGE_DIR` shares them too. The guest mounts volume i (mount tag
// "vol<i>") where 9p.mount=vol<i>:GUEST says; read-only volumes are read-only
// on both sides (QEMU's fsdev readonly=on, the guest's EROFS).

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { ConfigError, RunError, type SourceLocation } from '../errors.js';
import { closest } from './suggest.js';
import { describeNode, entries, expectString, type YamlContext } from './yamlnode.js';

export interface VolumeSpec {
  /** Absolute host directory. */
  host: string;
  /** Absolute guest path (normalized). */
  guest: string;
  readonly: boolean;
  /** Where it was asked for (app.yaml line, or "-v"). */
  loc?: SourceLocation;
}

const VOLUME_KEYS = ['host', 'guest', 'readonly'] as const;

/** The guest path as the kernel takes it, or a reason it cannot be one. */
function guestPath(text: string): string | string[] {
  if (!text.startsWith('/')) return ['is not absolute'];
  if (/[\s:"\0]/.test(text)) return ['contains a space, a colon, a quote or a NUL'];
  const parts = text.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return ['contains ".."'];
  if (parts.length === 0) return ['is / (a volume cannot replace the root; see rootfs:)'];
  const norm = `/${parts.join('/')}`;
  if (['/dev', '/proc', '/sys'].some((p) => norm === p || norm.startsWith(`${p}/`)))
    return [`is inside ${norm.split('/').slice(0, 2).join('/')}, which the kernel provides`];
  return norm;
}

/** app.yaml `volumes:` — a list of `{ host, guest, readonly }`. */
export function parseVolumesYaml(ctx: YamlContext, node: Node | null, baseDir: string): VolumeSpec[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) return ctx.fail(node, `volumes: expected a list, got ${describeNode(node)}`);
  const out: VolumeSpec[] = [];
  for (const [i, item] of node.items.entries()) {
    const where = `volumes[${i}]`;
    const itemNode = item as Node;
    if (!isMap(itemNode)) ctx.fail(itemNode, `${where}: expected a map with host, guest, readonly`);
    const v: VolumeSpec = { host: '', guest: '', readonly: false, loc: ctx.loc(itemNode) };
    for (const e of entries(ctx, itemNode, where)) {
      const fail = (m: string, h?: string): never => ctx.fail(e.value ?? e.keyNode, m, h);
      if (e.key === 'host') {
        const text = expectString(ctx, e.value, `${where}.host`);
        if (text === '' || text.includes('\0') || text.includes(','))
          fail(`${where}.host: not a usable directory path`);
        v.host = path.resolve(baseDir, text);
      } else if (e.key === 'guest') {
        const g = guestPath(expectString(ctx, e.value, `${where}.guest`));
        if (Array.isArray(g)) fail(`${where}.guest ${g[0]}`);
        v.guest = g as string;
      } else if (e.key === 'readonly') {
        const val = isScalar(e.value) ? e.value.value : undefined;
        if (typeof val !== 'boolean')
          fail(`${where}.readonly: expected true or false, got ${describeNode(e.value)}`);
        v.readonly = val as boolean;
      } else {
        const near = closest(e.key, VOLUME_KEYS);
        ctx.fail(
          e.keyNode,
          `unknown key \`${where}.${e.key}\``,
          near ? `did you mean ${near}?` : `known keys: ${VOLUME_KEYS.join(', ')}`,
        );
      }
    }
    if (v.host === '') ctx.fail(itemNode, `${where}: missing required key \`host\``);
    if (v.guest === '') ctx.fail(itemNode, `${where}: missing required key \`guest\``);
    out.push(v);
  }
  checkDistinct(out);
  return out;
}

/** `-v HOST:GUEST[:ro]` (HOST relative to the current directory). */
export function parseVolumeOption(text: string): VolumeSpec {
  const m = /^(.+?):(\/[^:]*)(?::(ro|rw))?$/.exec(text);
  if (!m) {
    throw new ConfigError(`-v ${text}: expected HOST_DIR:/GUEST_PATH or HOST_DIR:/GUEST_PATH:ro`, {
      exitCode: 2,
    });
  }
  const g = guestPath(m[2]!);
  if (Array.isArray(g)) throw new ConfigError(`-v ${text}: the guest path ${g[0]}`, { exitCode: 2 });
  if (m[1]!.includes(','))
    throw new ConfigError(`-v ${text}: the host path contains a comma`, { exitCode: 2 });
  return { host: path.resolve(m[1]!), guest: g as string, readonly: m[3] === 'ro', loc: { file: '-v' } };
}

function checkDistinct(vols: readonly VolumeSpec[]): void {
  const seen = new Set<string>();
  for (const v of vols) {
    if (seen.has(v.guest))
      throw new ConfigError(`volumes: ${v.guest} is given twice`, { loc: v.loc ?? { file: 'app.yaml' } });
    seen.add(v.guest);
  }
}

/** Checked when the VM starts: every host directory exists. */
export function checkVolumes(vols: readonly VolumeSpec[]): void {
  checkDistinct(vols);
  for (const v of vols) {
    if (!existsSync(v.host) || !statSync(v.host).isDirectory()) {
      throw new RunError(`volume ${v.guest}: host directory ${v.host} does not exist`, {
        loc: v.loc,
        exitCode: 2,
      });
    }
  }
}

export const volumeTag = (i: number): string => `vol${i}`;

/** The kernel command line words that mount the volumes. */
export function volumeCmdline(vols: readonly VolumeSpec[]): string {
  return vols.map((v, i) => `9p.mount=${volumeTag(i)}:${v.guest}${v.readonly ? ':ro' : ''}`).join(' ');
}
