// Disks an image runs with: app.yaml `disks:` and `osvb run --disk`. One
// shape for both, kept in the manifest so `osvb run IMAGE_DIR` attaches them
// too. Whether the file exists is checked when the VM starts (checkDisks), not
// when the image is built: a build does not need the disk.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { ConfigError, RunError, type SourceLocation } from '../errors.js';
import { closest } from './suggest.js';
import { describeNode, entries, expectString, type YamlContext } from './yamlnode.js';

/** zfs: a raw file holding a ZFS pool, mounted read-only at `mount`. */
export type DiskFormat = 'raw' | 'qcow2' | 'zfs';
export type DiskInterface = 'virtio' | 'nvme';
export const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow2', 'zfs'];
export const DISK_INTERFACES: readonly DiskInterface[] = ['virtio', 'nvme'];

export interface DiskSpec {
  /** Absolute host path. */
  file: string;
  format: DiskFormat;
  interface: DiskInterface;
  readonly: boolean;
  /** format zfs: the guest directory its pool is mounted on. */
  mount?: string;
  /** Where it was asked for (app.yaml line, or "--disk"). */
  loc?: SourceLocation;
}

const DISK_KEYS = ['file', 'format', 'interface', 'readonly', 'mount'] as const;

function oneOf<T extends string>(
  text: string,
  allowed: readonly T[],
  what: string,
  fail: (m: string, h?: string) => never,
): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  const near = closest(text, allowed);
  return fail(
    `${what}: ${JSON.stringify(text)} is not one of ${allowed.join(', ')}`,
    near ? `did you mean ${near}?` : undefined,
  );
}

/** app.yaml `disks:` — a list of `{ file, format, interface, readonly }`. */
export function parseDisksYaml(ctx: YamlContext, node: Node | null, baseDir: string): DiskSpec[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) return ctx.fail(node, `disks: expected a list, got ${describeNode(node)}`);
  const out: DiskSpec[] = [];
  for (const [i, item] of node.items.entries()) {
    const where = `disks[${i}]`;
    const itemNode = item as Node;
    if (!isMap(itemNode)) {
      ctx.fail(
        itemNode,
        `${where}: expected a map with file, format, interface, readonly, got ${describeNode(itemNode)}`,
      );
    }
    const disk: DiskSpec = {
      file: '',
      format: 'raw',
      interface: 'virtio',
      readonly: false,
      loc: ctx.loc(itemNode),
    };
    for (const e of entries(ctx, itemNode, where)) {
      const fail = (m: string, h?: string): never => ctx.fail(e.value ?? e.keyNode, m, h);
      switch (e.key) {
        case 'file': {
          const text = expectString(ctx, e.value, `${where}.file`);
          if (text === '' || text.includes('\0')) fail(`${where}.file: not a usable path`);
          disk.file = path.resolve(baseDir, text);
          break;
        }
        case 'format':
          disk.format = oneOf(
            expectString(ctx, e.value, `${where}.format`),
            DISK_FORMATS,
            `${where}.format`,
            fail,
          );
          break;
        case 'interface':
          disk.interface = oneOf(
            expectString(ctx, e.value, `${where}.interface`),
            DISK_INTERFACES,
            `${where}.interface`,
            fail,
          );
          break;
        case 'mount': {
          const text = expectString(ctx, e.value, `${where}.mount`);
          if (!path.posix.isAbsolute(text) || text.includes('\0') || /[\s:]/.test(text) || text === '/')
            fail(`${where}.mount: expected an absolute guest directory (not /, no spaces or colons)`);
          disk.mount = path.posix.normalize(text).replace(/(.)\/+$/, '$1');
          break;
        }
        case 'readonly': {
          const v = isScalar(e.value) ? e.value.value : undefined;
          if (typeof v !== 'boolean')
            fail(`${where}.readonly: expected true or false, got ${describeNode(e.value)}`);
          disk.readonly = v as boolean;
          break;
        }
        default: {
          const near = closest(e.key, DISK_KEYS);
          ctx.fail(
            e.keyNode,
            `unknown key \`${where}.${e.key}\``,
            near ? `did you mean ${near}?` : `known keys: ${DISK_KEYS.join(', ')}`,
          );
        }
      }
    }
    if (disk.file === '') ctx.fail(itemNode, `${where}: missing required key \`file\``);
    if ((disk.format === 'zfs') !== (disk.mount !== undefined))
      ctx.fail(
        itemNode,
        `${where}: format zfs and mount go together (a ZFS pool is mounted at a guest directory)`,
      );
    // The kernel reads pools only: the disk is attached read-only.
    if (disk.format === 'zfs') disk.readonly = true;
    out.push(disk);
  }
  return out;
}

/** Split at single commas; ",," is a comma (QEMU's escape), so any file name can be given. */
function splitOptions(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== ',') cur += c;
    else if (text[i + 1] === ',') {
      cur += ',';
      i++;
    } else {
      out.push(cur);
      cur = '';
    }
  }
  out.push(cur);
  return out;
}

/** `--disk FILE[,if=virtio|nvme][,ro][,format=raw|qcow2|zfs][,mount=/DIR]`, relative to cwd. */
export function parseDiskOption(text: string, cwd = process.cwd()): DiskSpec {
  const fail = (m: string, hint?: string): never => {
    throw new ConfigError(`--disk ${text}: ${m}`, { exitCode: 2, hint });
  };
  const [file, ...opts] = splitOptions(text);
  if (file === undefined || file === '')
    fail('no file named', 'write --disk FILE[,if=nvme][,ro][,format=qcow2]');
  const disk: DiskSpec = {
    file: path.resolve(cwd, file as string),
    format: 'raw',
    interface: 'virtio',
    readonly: false,
    loc: { file: '--disk' },
  };
  for (const o of opts) {
    const [k, v] = o.split('=', 2) as [string, string | undefined];
    if (k === 'ro' && v === undefined) disk.readonly = true;
    else if (k === 'if' && v !== undefined) disk.interface = oneOf(v, DISK_INTERFACES, 'if', fail);
    else if (k === 'format' && v !== undefined) disk.format = oneOf(v, DISK_FORMATS, 'format', fail);
    else if (k === 'mount' && v !== undefined) disk.mount = v;
    else fail(`unknown option "${o}"`, 'options are if=virtio|nvme, ro, format=raw|qcow2|zfs, mount=/DIR');
  }
  if ((disk.format === 'zfs') !== (disk.mount !== undefined))
    fail('format=zfs and mount=/DIR go together', 'write --disk POOL.img,format=zfs,mount=/data');
  if (disk.mount !== undefined) {
    if (!path.posix.isAbsolute(disk.mount) || /[\s:]/.test(disk.mount) || disk.mount === '/')
      fail(`mount=${disk.mount}: expected an absolute guest directory (not /, no spaces or colons)`);
    disk.mount = path.posix.normalize(disk.mount).replace(/(.)\/+$/, '$1');
    disk.readonly = true;
  }
  return disk;
}

/** Every disk file must exist and be a regular file or a block device; the first that is not is the error. */
export function checkDisks(disks: readonly DiskSpec[]): void {
  for (const d of disks) {
    const at = d.loc && d.loc.file !== '--disk' ? d.loc : undefined;
    if (!existsSync(d.file)) {
      throw new RunError(`disk file ${d.file} not found`, {
        loc: at,
        hint: `create it (e.g. truncate -s 64M ${d.file}) or fix the path`,
      });
    }
    const st = statSync(d.file);
    if (!st.isFile() && !st.isBlockDevice()) {
      throw new RunError(`disk file ${d.file} is not a regular file or block device`, { loc: at });
    }
  }
}

export { driveArg, driveId } from './drive.js';
