// app.yaml → AppSpec. The schema is strict: an unknown key is an error with a
// did-you-mean, a value of the wrong shape says what was expected, and every
// error names app.yaml:line:col. Nothing downstream reads the YAML again.

import { closeSync, constants, openSync, readSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError, type SourceLocation } from '../errors.js';
import { guestDirProblem } from '../kernel/launch.js';
import { ACCEL_MODES, type AccelMode, isAccelMode } from '../hypervisor/accel-mode.js';
import { type DiskSpec, parseDisksYaml } from './disks.js';
import { readInputFile } from './inputfile.js';
import { type NicSpec, parseNetworkYaml } from './network.js';
import { parseVolumesYaml, type VolumeSpec } from './volumes.js';
import { closest } from './suggest.js';
import {
  describeNode,
  type Entry,
  entries,
  expectMap,
  expectScalarText,
  expectString,
  isNull,
  scalarText,
  YamlContext,
} from './yamlnode.js';

export type Runtime = 'elf' | 'go' | 'python';
export const RUNTIMES: readonly Runtime[] = ['elf', 'go', 'python'];

export type Hypervisor = 'qemu';
export const HYPERVISORS: readonly Hypervisor[] = ['qemu'];
/** Hypervisors osvb knows about but cannot target yet. */
export const RESERVED_HYPERVISORS: readonly string[] = ['firecracker', 'xen', 'hyperv'];

export const DEFAULT_PROFILE = 'microvm';
export const DEFAULT_MEMORY = 128 * 1024 * 1024;
export const DEFAULT_CPUS = 1;
export const MAX_CPUS = 255;
/** Longest kernel command line osvb accepts (bytes), the same limit as Linux/x86. */
export const MAX_CMDLINE = 2048;

export interface AppProgram {
  /** Absolute host path of the ELF that runs (for Python: the interpreter). */
  exec: string;
  /** True when app.exec was not written and osvb chose it (the host python3). */
  execDefaulted: boolean;
  args: string[];
  env: Record<string, string>;
  /** As written in app.yaml; undefined means "infer from the ELF" (elf unless it is a Go binary). */
  runtime: Runtime | undefined;
  /** Absolute host path of the Python script (runtime python only). */
  script: string | undefined;
  /** The program's working directory in the image (app.workdir); undefined: /. */
  workdir?: string;
}

export interface FileEntry {
  /** Absolute, normalized path inside the image. */
  guest: string;
  /** Absolute host path. */
  host: string;
  kind: 'file' | 'dir';
  loc: SourceLocation;
}

/** A `kernel.config` value as written: y/n/m, an integer (decimal or 0x hex), or a string. */
export interface ConfigValue {
  kind: 'tristate' | 'number' | 'string';
  text: string;
}

export interface KernelConfigEntry {
  symbol: string;
  value: ConfigValue;
  loc: SourceLocation;
}

export interface AppSpec {
  /** app.yaml as the user named it; used in messages. */
  file: string;
  /** Absolute directory that relative host paths resolve against. */
  baseDir: string;
  name: string;
  /** Undefined for a kernel-only image (no app.exec and no Python script). */
  app: AppProgram | undefined;
  files: FileEntry[];
  /** How the root filesystem reaches the guest: cpio initrd (default), a ZFS pool image, or a host directory over 9p. */
  rootfs: RootfsFormat;
  kernel: {
    profile: string;
    config: KernelConfigEntry[];
    /** Extra kernel command line arguments, '' when none. */
    cmdline: string;
  };
  run: {
    hypervisor: Hypervisor;
    /** Guest RAM in bytes. */
    memory: number;
    cpus: number;
    /** Accelerator preference; OSVB_ACCEL and --accel override it. */
    accel: AccelMode;
  };
  /** app.yaml disks: in order (files are checked when the VM starts); absent = none. */
  disks?: DiskSpec[];
  /** app.yaml network: NICs in order (eth0, eth1...); absent or `none` = no network. */
  network?: NicSpec[];
  /** app.yaml volumes: host directories shared over 9p; absent = none. */
  volumes?: VolumeSpec[];
  /** Where each value was written, by dotted key ('app.exec', 'kernel.profile', …). */
  locs: Record<string, SourceLocation>;
}

export const ROOTFS_FORMATS = ['cpio', 'zfs', '9p'] as const;
export type RootfsFormat = (typeof ROOTFS_FORMATS)[number];

/** What the parser needs to know about the host; tests substitute a fake one. */
export interface HostProbe {
  /** What is at an absolute host path, following symlinks. */
  kind(p: string): 'file' | 'dir' | 'other' | 'missing';
  /** Up to n leading bytes of a file. */
  head(p: string, n: number): Uint8Array;
  /** Absolute paths of a command on PATH, in PATH order. */
  which(cmd: string): string[];
  /** The name of the kernel-generated filesystem (proc, sysfs ...) p is on, if it is on one. */
  pseudoFs?(p: string): string | undefined;
}

/** statfs f_type of the filesystems whose files the kernel generates rather than stores. */
const PSEUDO_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
]);

export const nodeHostProbe: HostProbe = {
  kind(p) {
    try {
      const st = statSync(p);
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    } catch {
      return 'missing';
    }
  },
  head(p, n) {
    // Non-blocking (a FIFO), and a file that cannot be read reads as empty:
    // the caller then says it is not an ELF, naming app.yaml's line.
    const buf = Buffer.alloc(n);
    let fd: number;
    try {
      fd = openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return buf.subarray(0, 0);
    }
    try {
      return buf.subarray(0, readSync(fd, buf, 0, n, 0));
    } catch {
      return buf.subarray(0, 0);
    } finally {
      closeSync(fd);
    }
  },
  pseudoFs(p) {
    try {
      return PSEUDO_FS.get(Number(statfsSync(p).type));
    } catch {
      return undefined;
    }
  },
  which(cmd) {
    return (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => dir !== '' && path.isAbsolute(dir))
      .map((dir) => path.join(dir, cmd))
      .filter((candidate) => nodeHostProbe.kind(candidate) === 'file');
  },
};

/** The schema: section → its keys. Order is the order of the documentation. */
const SCHEMA = {
  '': ['name', 'app', 'files', 'rootfs', 'kernel', 'run', 'disks', 'network', 'volumes'],
  app: ['exec', 'args', 'env', 'runtime', 'script', 'workdir'],
  kernel: ['profile', 'config', 'cmdline'],
  run: ['hypervisor', 'memory', 'cpus', 'accel'],
} as const;

const ALL_KEYS: string[] = Object.entries(SCHEMA).flatMap(([section, keys]) =>
  keys.map((k) => (section === '' ? k : `${section}.${k}`)),
);

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PROFILE_RE = /^[a-z0-9][a-z0-9_-]*$/;
const SYMBOL_RE = /^[A-Z0-9_]+$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DECIMAL_RE = /^-?[0-9]+$/;
const HEX_RE = /^0[xX][0-9a-fA-F]+$/;

/**
 * Reads and parses an app.yaml (or DIR/app.yaml when given a directory). Host
 * paths resolve relative to its directory.
 */
export async function loadAppSpec(fileOrDir: string, probe: HostProbe = nodeHostProbe): Promise<AppSpec> {
  const file = probe.kind(fileOrDir) === 'dir' ? path.join(fileOrDir, 'app.yaml') : fileOrDir;
  let text: string;
  try {
    text = readInputFile(file).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(`${file} not found`, {
        hint: 'pass the application description with --config PATH/app.yaml',
        exitCode: 1,
      });
    }
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseAppSpec(text, file, path.dirname(path.resolve(file)), probe);
}

/**
 * Parses app.yaml text. `file` is used in messages only; `baseDir` is where
 * relative host paths resolve. The host is consulted only through `probe`.
 */
export function parseAppSpec(
  text: string,
  file: string,
  baseDir: string,
  probe: HostProbe = nodeHostProbe,
): AppSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx = new YamlContext(file, lines);
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const message = yamlError.code === 'DUPLICATE_KEY' ? 'duplicate key' : yamlError.message;
    throw new ConfigError(
      `invalid YAML: ${message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
      {
        loc: ctx.locAt(yamlError.pos[0]),
      },
    );
  }
  const root = doc.contents;
  if (isNull(root)) {
    throw new ConfigError('app.yaml is empty', {
      loc: { file },
      hint: 'it needs at least `name: <image name>`',
    });
  }
  if (!isMap(root)) {
    return ctx.fail(root, `expected a map of settings at the top of app.yaml, got ${describeNode(root)}`);
  }
  return new Parser(ctx, path.resolve(baseDir), probe).parse(entries(ctx, root, 'app.yaml'));
}

class Parser {
  private readonly locs: Record<string, SourceLocation> = {};

  constructor(
    private readonly ctx: YamlContext,
    private readonly baseDir: string,
    private readonly probe: HostProbe,
  ) {}

  parse(top: Entry[]): AppSpec {
    const sections = this.checkKeys(top, '');
    const nameEntry = sections.get('name');
    if (nameEntry === undefined) {
      throw new ConfigError('missing required key `name`', {
        loc: { file: this.ctx.file },
        hint: 'add `name: <image name>` (letters, digits, . _ -)',
      });
    }
    const name = this.parseName(nameEntry);
    const app = this.parseApp(sections.get('app'));
    const files = this.parseFiles(sections.get('files'));
    const rootfs = this.parseRootfs(sections.get('rootfs'));
    const kernel = this.parseKernel(sections.get('kernel'));
    const run = this.parseRun(sections.get('run'));
    const disksEntry = sections.get('disks');
    const disks = disksEntry ? parseDisksYaml(this.ctx, disksEntry.value, this.baseDir) : [];
    if (disksEntry) this.note('disks', disksEntry.value);
    const networkEntry = sections.get('network');
    const network = networkEntry ? parseNetworkYaml(this.ctx, networkEntry.value) : [];
    if (networkEntry) this.note('network', networkEntry.value);
    const volumesEntry = sections.get('volumes');
    const volumes = volumesEntry ? parseVolumesYaml(this.ctx, volumesEntry.value, this.baseDir) : [];
    if (volumesEntry) this.note('volumes', volumesEntry.value);
    return {
      file: this.ctx.file,
      baseDir: this.baseDir,
      name,
      app,
      files,
      rootfs,
      kernel,
      run,
      disks,
      network,
      volumes,
      locs: this.locs,
    };
  }

  /** Checks keys against the schema; an unknown key is an error with a did-you-mean. */
  private checkKeys(list: Entry[], section: keyof typeof SCHEMA): Map<string, Entry> {
    const allowed: readonly string[] = SCHEMA[section];
    const where = section === '' ? 'app.yaml' : section;
    const seen = new Map<string, Entry>();
    for (const e of list) {
      if (!allowed.includes(e.key)) {
        const full = section === '' ? e.key : `${section}.${e.key}`;
        // A key that belongs to another section ("memory" at the top) is
        // suggested by its full name; otherwise the closest key here.
        const elsewhere = ALL_KEYS.find((k) => k.endsWith(`.${e.key}`) || k === e.key);
        const near = closest(e.key, allowed);
        const suggestion =
          elsewhere !== undefined && elsewhere !== full
            ? `did you mean ${elsewhere}?`
            : near !== undefined
              ? `did you mean ${section === '' ? near : `${section}.${near}`}?`
              : `known keys in ${where}: ${allowed.join(', ')}`;
        this.ctx.fail(e.keyNode, `unknown key \`${full}\``, suggestion);
      }
      seen.set(e.key, e);
    }
    return seen;
  }

  private note(key: string, node: Node | null): void {
    this.locs[key] = this.ctx.loc(node);
  }

  private parseRootfs(e: Entry | undefined): RootfsFormat {
    if (e === undefined) return 'cpio';
    const text = expectString(this.ctx, e.value, 'rootfs');
    this.note('rootfs', e.value);
    if (!(ROOTFS_FORMATS as readonly string[]).includes(text)) {
      const near = closest(text, [...ROOTFS_FORMATS]);
      this.ctx.fail(
        e.value,
        `rootfs: unknown format ${JSON.stringify(text)}`,
        near ? `did you mean ${near}?` : `use ${ROOTFS_FORMATS.join(' or ')}`,
      );
    }
    return text as RootfsFormat;
  }

  private parseName(e: Entry): string {
    const name = expectString(this.ctx, e.value, 'name');
    this.note('name', e.value);
    if (!NAME_RE.test(name)) {
      this.ctx.fail(
        e.value,
        `name ${JSON.stringify(name)} is not a valid image name`,
        'use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    return name;
  }

  private parseApp(e: Entry | undefined): AppProgram | undefined {
    if (e === undefined) return undefined;
    const keys = this.checkKeys(entries(this.ctx, expectMap(this.ctx, e.value, 'app'), 'app'), 'app');

    let runtime: Runtime | undefined;
    const rt = keys.get('runtime');
    if (rt !== undefined) {
      const text = expectString(this.ctx, rt.value, 'app.runtime');
      this.note('app.runtime', rt.value);
      if (!(RUNTIMES as readonly string[]).includes(text)) {
        const near = closest(text, RUNTIMES);
        this.ctx.fail(
          rt.value,
          `app.runtime: unknown runtime ${JSON.stringify(text)}`,
          near ? `did you mean ${near}?` : `use one of ${RUNTIMES.join(', ')}`,
        );
      }
      runtime = text as Runtime;
    }

    let script: string | undefined;
    const sc = keys.get('script');
    if (sc !== undefined) {
      if (runtime !== 'python') {
        this.ctx.fail(
          sc.keyNode,
          'app.script is only used with `app.runtime: python`',
          'add `runtime: python`',
        );
      }
      script = this.hostPath(sc.value, 'app.script', 'file');
    }

    let exec: string | undefined;
    let execDefaulted = false;
    const ex = keys.get('exec');
    if (ex !== undefined) {
      exec = this.hostPath(ex.value, 'app.exec', 'file');
      this.checkElf(ex.value, exec);
    }

    if (runtime === 'python') {
      if (script === undefined) {
        this.ctx.fail(rt?.value, '`app.runtime: python` needs `app.script`', 'add `script: path/to/main.py`');
      }
      if (exec === undefined) {
        // The first python3 on PATH that is a real ELF: wrappers such as
        // pyenv's shims are shell scripts and cannot run in the image.
        const found = this.probe.which('python3');
        exec = found.find((p) => isElf(this.probe.head(p, 4)));
        execDefaulted = true;
        if (exec === undefined) {
          this.ctx.fail(
            rt?.value,
            found.length === 0
              ? 'app.runtime python: python3 not found on the host PATH'
              : `app.runtime python: no python3 on the host PATH is an ELF executable (${found.join(', ')})`,
            found.length === 0
              ? 'install it: apt-get install python3, or set app.exec to a python3 binary'
              : 'set app.exec to the python3 binary, e.g. /usr/bin/python3',
          );
        }
      }
    } else if (runtime !== undefined && exec === undefined) {
      this.ctx.fail(
        rt?.value,
        `\`app.runtime: ${runtime}\` needs \`app.exec\``,
        'add `exec: path/to/binary`',
      );
    }

    const args = this.parseArgs(keys.get('args'));
    const env = this.parseEnv(keys.get('env'));
    if (exec === undefined) {
      // A kernel-only image: nothing runs, so nothing may be passed to it.
      const stray = keys.get('args') ?? keys.get('env');
      if (stray !== undefined) {
        this.ctx.fail(stray.keyNode, `app.${stray.key} given but there is no app.exec to pass it to`);
      }
      return undefined;
    }
    let workdir: string | undefined;
    const wd = keys.get('workdir');
    if (wd !== undefined) {
      this.note('app.workdir', wd.value);
      workdir = expectString(this.ctx, wd.value, 'app.workdir');
      const why = guestDirProblem(workdir);
      if (why) this.ctx.fail(wd.value, `app.workdir ${JSON.stringify(workdir)} ${why}`);
    }
    return { exec, execDefaulted, args, env, runtime, script, workdir };
  }

  private parseArgs(e: Entry | undefined): string[] {
    if (e === undefined || isNull(e.value)) return [];
    this.note('app.args', e.value);
    if (!isSeq(e.value)) {
      const hint = isScalar(e.value) ? 'write a YAML list, e.g. [--port, "8080"]' : undefined;
      return this.ctx.fail(
        e.value,
        `app.args: expected a list of strings, got ${describeNode(e.value)}`,
        hint,
      );
    }
    return e.value.items.map((item, i) => {
      const node = item as Node | null;
      const text = node === null ? undefined : scalarText(node);
      if (text === undefined) {
        this.ctx.fail(node ?? e.value, `app.args[${i}]: expected a string, got ${describeNode(node)}`);
      }
      if (text.includes('\0')) this.ctx.fail(node, `app.args[${i}]: contains a NUL byte`);
      return text;
    });
  }

  private parseEnv(e: Entry | undefined): Record<string, string> {
    const env: Record<string, string> = {};
    if (e === undefined) return env;
    this.note('app.env', e.value);
    const map = expectMap(this.ctx, e.value, 'app.env');
    for (const v of entries(this.ctx, map, 'app.env')) {
      if (!ENV_RE.test(v.key)) {
        this.ctx.fail(
          v.keyNode,
          `app.env: ${JSON.stringify(v.key)} is not a valid environment variable name`,
          'use letters, digits and _, not starting with a digit',
        );
      }
      if (isNull(v.value)) this.ctx.fail(v.keyNode, `app.env.${v.key}: expected a string, got nothing`);
      const text = expectScalarText(this.ctx, v.value, `app.env.${v.key}`);
      if (text.includes('\0')) this.ctx.fail(v.value, `app.env.${v.key}: contains a NUL byte`);
      env[v.key] = text;
    }
    return env;
  }

  private parseFiles(e: Entry | undefined): FileEntry[] {
    if (e === undefined) return [];
    const map = expectMap(this.ctx, e.value, 'files');
    const out: FileEntry[] = [];
    for (const f of entries(this.ctx, map, 'files')) {
      const guest = this.guestPath(f);
      const host = this.hostPath(f.value, `files.${guest}`, 'any');
      const kind = this.probe.kind(host) === 'dir' ? 'dir' : 'file';
      if (guest === '/' && kind !== 'dir') {
        this.ctx.fail(f.value, 'files: only a directory can be mapped to /');
      }
      out.push({ guest, host, kind, loc: this.ctx.loc(f.keyNode) });
    }
    // A path inside a guest path that is a file cannot exist.
    for (const a of out) {
      if (a.kind !== 'file') continue;
      const inside = out.find((b) => b.guest.startsWith(`${a.guest}/`));
      if (inside !== undefined) {
        throw new ConfigError(`files: ${inside.guest} is inside ${a.guest}, which is a file`, {
          loc: inside.loc,
        });
      }
    }
    return out;
  }

  /** A guest path: absolute and normalized, so it cannot climb out of the rootfs. */
  private guestPath(f: Entry): string {
    const g = f.key;
    const fail = (why: string, hint?: string): never =>
      this.ctx.fail(f.keyNode, `files: guest path ${JSON.stringify(g)} ${why}`, hint);
    if (!g.startsWith('/')) fail('must be absolute', `write /${g.replace(/^\.?\/*/, '')}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(g)) fail('contains a control character');
    if (g.length > 4096) fail('is longer than 4096 bytes');
    if (g === '/') return g;
    const parts = g.slice(1).split('/');
    if (parts.includes('..')) {
      let depth = 0;
      for (const p of parts) {
        depth += p === '..' ? -1 : p === '.' || p === '' ? 0 : 1;
        if (depth < 0) fail('climbs out of the root filesystem with ".."');
      }
      fail('contains ".."', `write ${path.posix.normalize(g).replace(/(.)\/$/, '$1')}`);
    }
    if (parts.includes('.') || parts.includes('')) {
      fail('is not normalized', `write ${path.posix.normalize(g).replace(/(.)\/$/, '$1')}`);
    }
    if (parts.some((p) => p.length > 255)) fail('has a component longer than 255 bytes');
    return g;
  }

  /** A host path relative to the app.yaml directory that must exist. */
  private hostPath(node: Node | null, what: string, want: 'file' | 'any'): string {
    const text = expectString(this.ctx, node, what);
    if (text === '') this.ctx.fail(node, `${what}: empty path`);
    if (text.includes('\0')) this.ctx.fail(node, `${what}: path contains a NUL byte`);
    const abs = path.resolve(this.baseDir, text);
    this.note(what, node);
    const kind = this.probe.kind(abs);
    const shown = text === abs ? abs : `${text} (${abs})`;
    if (kind === 'missing') this.ctx.fail(node, `${what}: no such file ${shown}`);
    if (want === 'file' && kind !== 'file') {
      this.ctx.fail(node, `${what}: ${shown} is ${kind === 'dir' ? 'a directory' : 'not a regular file'}`);
    }
    if (want === 'any' && kind === 'other') {
      this.ctx.fail(node, `${what}: ${shown} is neither a regular file nor a directory`);
    }
    const pseudo = this.probe.pseudoFs?.(abs);
    if (pseudo !== undefined) {
      this.ctx.fail(
        node,
        `${what}: ${shown} is on the host's ${pseudo} filesystem, whose files the kernel generates as they are read`,
        what.startsWith('files') ? 'copy what the app needs into a directory and name that' : undefined,
      );
    }
    if (want === 'any' && abs === '/') {
      this.ctx.fail(node, `${what}: / is the whole host filesystem`, 'name the directories the app needs');
    }
    return abs;
  }

  /** An early, clear refusal of what can never run; the full inspection comes later. */
  private checkElf(node: Node | null, file: string): void {
    const head = this.probe.head(file, 20);
    if (!isElf(head)) {
      const script = head[0] === 0x23 && head[1] === 0x21;
      const shebang = Buffer.from(this.probe.head(file, 128)).toString('latin1').split('\n')[0] ?? '';
      const python = file.endsWith('.py') || (script && /python/.test(shebang));
      const name = path.basename(file);
      this.ctx.fail(
        node,
        `app.exec: ${file} is not an ELF executable${script ? ' (it is a #! script)' : ''}`,
        python
          ? `a Python script runs with \`runtime: python\` and \`script: ${name}\` (app.exec then defaults to the host's python3)`
          : script
            ? 'app.exec is the interpreter (an ELF); a script goes in files:'
            : undefined,
      );
    }
    if (head.length >= 20) {
      if (head[4] !== 2) this.ctx.fail(node, `app.exec: ${file} is a 32-bit ELF; osvb runs x86-64 binaries`);
      const machine = (head[18] ?? 0) | ((head[19] ?? 0) << 8);
      if (head[5] === 1 && machine !== 62) {
        this.ctx.fail(
          node,
          `app.exec: ${file} is an ELF for another machine (e_machine ${machine}), not x86-64`,
        );
      }
    }
  }

  private parseKernel(e: Entry | undefined): AppSpec['kernel'] {
    const keys = this.checkKeys(
      e === undefined ? [] : entries(this.ctx, expectMap(this.ctx, e.value, 'kernel'), 'kernel'),
      'kernel',
    );
    let profile = DEFAULT_PROFILE;
    const pr = keys.get('profile');
    if (pr !== undefined) {
      profile = expectString(this.ctx, pr.value, 'kernel.profile');
      this.note('kernel.profile', pr.value);
      if (!PROFILE_RE.test(profile)) {
        this.ctx.fail(
          pr.value,
          `kernel.profile: ${JSON.stringify(profile)} is not a profile name`,
          'a profile is named by its file in kconfig/profiles/, e.g. microvm',
        );
      }
    }
    const config = this.parseKernelConfig(keys.get('config'));
    let cmdline = '';
    const cl = keys.get('cmdline');
    if (cl !== undefined && !isNull(cl.value)) {
      this.note('kernel.cmdline', cl.value);
      if (isSeq(cl.value)) {
        // One list item is one kernel argument: quoted when it holds a space.
        cmdline = cl.value.items
          .map((item, i) => {
            const word = expectScalarText(this.ctx, item as Node | null, `kernel.cmdline[${i}]`);
            if (word.includes('"')) {
              this.ctx.fail(
                item as Node,
                `kernel.cmdline[${i}]: contains '"'; the kernel cannot take it in a list item`,
              );
            }
            return word === '' || /\s/.test(word) ? `"${word}"` : word;
          })
          .join(' ');
      } else if (isScalar(cl.value)) {
        cmdline = expectScalarText(this.ctx, cl.value, 'kernel.cmdline').trim();
      } else {
        this.ctx.fail(cl.value, `kernel.cmdline: expected a string, got ${describeNode(cl.value)}`);
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
      if (/[\u0000-\u001f\u007f]/.test(cmdline.replace(/\t/g, ' '))) {
        this.ctx.fail(cl.value, 'kernel.cmdline: contains a newline or control character');
      }
      // The kernel groups "..." into one word: an unpaired quote would swallow
      // the rest of the line, osvb.exec= included, and nothing would run.
      if ((cmdline.match(/"/g)?.length ?? 0) % 2 === 1) {
        this.ctx.fail(
          cl.value,
          `kernel.cmdline: unpaired '"'; the kernel would read the rest of the command line, the program to run included, as one quoted word`,
          'close the quote or remove it',
        );
      }
      if (Buffer.byteLength(cmdline) > MAX_CMDLINE) {
        this.ctx.fail(cl.value, `kernel.cmdline: longer than ${MAX_CMDLINE} bytes`);
      }
    }
    return { profile, config, cmdline };
  }

  private parseKernelConfig(e: Entry | undefined): KernelConfigEntry[] {
    if (e === undefined) return [];
    const map = expectMap(this.ctx, e.value, 'kernel.config');
    return entries(this.ctx, map, 'kernel.config').map((c) => {
      const symbol = c.key;
      // A name in the wrong case goes on to the resolver, which knows the
      // tree's symbols and suggests only one that exists.
      if (!SYMBOL_RE.test(symbol) && !SYMBOL_RE.test(symbol.toUpperCase())) {
        const hint = symbol.startsWith('CONFIG_')
          ? undefined
          : 'symbol names are upper case letters, digits and _';
        this.ctx.fail(
          c.keyNode,
          `kernel.config: ${JSON.stringify(symbol)} is not a Kconfig symbol name`,
          hint,
        );
      }
      if (symbol.startsWith('CONFIG_')) {
        this.ctx.fail(
          c.keyNode,
          `kernel.config: write ${symbol.slice(7)}, without the CONFIG_ prefix`,
          'kernel.config takes symbol names as they appear in Kconfig files',
        );
      }
      const loc = this.ctx.loc(c.keyNode);
      this.locs[`kernel.config.${symbol}`] = loc;
      return { symbol, value: this.configValue(c), loc };
    });
  }

  private configValue(c: Entry): ConfigValue {
    const node = c.value;
    const what = `kernel.config.${c.key}`;
    const expected = 'expected y, n, m, an integer or a string';
    if (!isScalar(node) || node.value === null) {
      return this.ctx.fail(
        isNull(node) ? c.keyNode : node,
        `${what}: ${expected}, got ${describeNode(node)}`,
      );
    }
    const v = node.value;
    if (typeof v === 'boolean') return { kind: 'tristate', text: v ? 'y' : 'n' };
    if (typeof v === 'number' || typeof v === 'bigint') {
      const text = node.source ?? String(v);
      if (!DECIMAL_RE.test(text) && !HEX_RE.test(text)) {
        this.ctx.fail(
          node,
          `${what}: ${text} is not an integer Kconfig understands`,
          'write decimal or 0x hex',
        );
      }
      return { kind: 'number', text };
    }
    if (typeof v !== 'string') return this.ctx.fail(node, `${what}: ${expected}`);
    if (v.includes('\n') || v.includes('\0')) this.ctx.fail(node, `${what}: contains a newline or NUL`);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    if (!quoted && (v === 'y' || v === 'n' || v === 'm')) return { kind: 'tristate', text: v };
    return { kind: 'string', text: v };
  }

  private parseRun(e: Entry | undefined): AppSpec['run'] {
    const keys = this.checkKeys(
      e === undefined ? [] : entries(this.ctx, expectMap(this.ctx, e.value, 'run'), 'run'),
      'run',
    );
    let hypervisor: Hypervisor = 'qemu';
    const hv = keys.get('hypervisor');
    if (hv !== undefined) {
      const text = expectString(this.ctx, hv.value, 'run.hypervisor');
      this.note('run.hypervisor', hv.value);
      if (RESERVED_HYPERVISORS.includes(text)) {
        this.ctx.fail(hv.value, `run.hypervisor: ${text} is not supported yet`, 'use qemu');
      }
      if (!(HYPERVISORS as readonly string[]).includes(text)) {
        const near = closest(text, [...HYPERVISORS, ...RESERVED_HYPERVISORS]);
        this.ctx.fail(
          hv.value,
          `run.hypervisor: unknown hypervisor ${JSON.stringify(text)}`,
          near ? `did you mean ${near}?` : `use ${HYPERVISORS.join(', ')}`,
        );
      }
      hypervisor = text as Hypervisor;
    }
    let memory = DEFAULT_MEMORY;
    const mem = keys.get('memory');
    if (mem !== undefined) {
      this.note('run.memory', mem.value);
      const text = isScalar(mem.value) && mem.value.value !== null ? scalarText(mem.value) : undefined;
      if (text === undefined) {
        this.ctx.fail(mem.value, `run.memory: expected a size such as 128M, got ${describeNode(mem.value)}`);
      }
      const parsed = parseMemorySize(text);
      if (typeof parsed === 'string') this.ctx.fail(mem.value, `run.memory: ${parsed}`);
      memory = parsed;
    }
    let cpus = DEFAULT_CPUS;
    const cp = keys.get('cpus');
    if (cp !== undefined) {
      this.note('run.cpus', cp.value);
      const v = isScalar(cp.value) ? cp.value.value : undefined;
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        this.ctx.fail(cp.value, `run.cpus: expected a whole number, got ${describeNode(cp.value)}`);
      }
      if (v < 1 || v > MAX_CPUS) this.ctx.fail(cp.value, `run.cpus: ${v} is out of range 1..${MAX_CPUS}`);
      cpus = v;
    }
    let accel: AccelMode = 'auto';
    const ac = keys.get('accel');
    if (ac !== undefined) {
      const text = expectString(this.ctx, ac.value, 'run.accel');
      this.note('run.accel', ac.value);
      if (!isAccelMode(text)) {
        this.ctx.fail(
          ac.value,
          `run.accel: ${JSON.stringify(text)} is not an accelerator`,
          `use ${ACCEL_MODES.join(', ')}`,
        );
      }
      accel = text;
    }
    return { hypervisor, memory, cpus, accel };
  }
}

function isElf(head: Uint8Array): boolean {
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * "128M", "1G", "512MiB" → bytes (binary units). Returns the reason as a string
 * when the text is not a size osvb accepts.
 */
export function parseMemorySize(text: string): number | string {
  const m = /^\s*([0-9]+)\s*([KMGTkmgt])(?:i?[Bb])?\s*$/.exec(text);
  if (m === null) {
    return /^\s*[0-9]+\s*$/.test(text)
      ? `${text} has no unit; write e.g. ${text}M`
      : `${JSON.stringify(text)} is not a size; write e.g. 128M or 1G`;
  }
  const bytes = Number(m[1]) * (UNITS[(m[2] ?? 'M').toUpperCase()] ?? 1);
  if (bytes < 2 ** 20) return `${text} is less than 1M`;
  if (bytes % 2 ** 20 !== 0) return `${text} is not a whole number of megabytes`;
  if (bytes > 2 ** 40) return `${text} is more than 1T`;
  return bytes;
}
