// Running an image directory under QEMU: manifest → QemuSpec → supervised run
// → the status osvb run exits with (and the one line explaining it).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { DiskInterface, DiskSpec } from '../config/disks.js';
import type { NicMode, NicSpec, PortForward } from '../config/network.js';
import type { Sink, TtySize } from '../drivers/console.js';
import { nvmeMachineError } from '../drivers/nvme.js';
import { checkVolumes, type VolumeSpec, volumeCmdline } from '../config/volumes.js';
import { ROOT_TAG } from '../drivers/virtio-9p.js';
import { RunError, ToolMissingError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { type Machine, type Manifest, type ManifestRootfs, readManifest } from '../kernel/manifest.js';
import { BacktraceRewriter, type Symbolizer } from '../kernel/backtrace.js';
import { guestDirProblem, launchCmdline } from '../kernel/launch.js';
import { checkMemory, memoryArg, memoryBytes, minimumMemory } from '../kernel/memory.js';
import { findBinutil, findQemu, type ToolEnv } from '../kernel/toolchain.js';
import { type AccelChoice, chooseAccel } from './accel.js';
import { accelMode } from './accel-mode.js';
import type { BootMode } from './boot-mode.js';
import {
  clockRateArgs,
  clockRatesFile,
  parseClockRecord,
  readClockRates,
  saveClockRates,
} from './clock-rates.js';
import { findQboot, parseMemory, type QemuSpec, qemuArgv, runQemu } from './qemu.js';
import { newRunDir } from './rundir.js';
import { type GuestOutcome, STATUS_PANIC, STATUS_QEMU, STATUS_TIMEOUT } from './status.js';

export interface RunOptions {
  memory?: string;
  cpus?: number;
  machine?: Machine;
  /** rootfs: zfs: how the pool image is attached (default virtio when the kernel has virtio_blk). */
  rootDisk?: DiskInterface;
  /** Disks after the manifest's (osvb run --disk). */
  disks?: DiskSpec[];
  /** osvb run -p: host ports forwarded to the guest (user-mode networking). */
  ports?: PortForward[];
  /** osvb run --net: what the first NIC attaches to; null = no NIC at all. */
  net?: { mode: NicMode; tap?: string; queues?: number } | null;
  /** Volumes after the manifest's (osvb run -v). */
  volumes?: VolumeSpec[];
  /** Appended to the manifest's kernel command line. */
  append?: string;
  /** How QEMU loads the kernel: kernel.elf through its PVH note (default), or the bzImage through the Linux boot protocol. */
  boot?: BootMode;
  /** Only print the command: nothing of this run's own directory may be named in it. */
  dryRun?: boolean;
  /** osvb run -e / -w / -- ARG...: replace parts of how the program starts. */
  overrides?: LaunchOverrides;
  timeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
  /** --accel; OSVB_ACCEL and the image's run.accel apply when absent. */
  accel?: string;
  devKvm?: string;
  /** The program's stdout, exact bytes. */
  stdout: Sink;
  /** osvb's and QEMU's own lines; also the kernel's (unless `log`) and the program's stderr (unless `appStderr`). */
  stderr: (s: string) => void;
  /** The program's stderr, exact bytes. */
  appStderr?: Sink;
  /** Kernel messages (symbolized backtraces included). */
  log?: (s: string) => void;
  /** osvb's stdin, forwarded to the program with its end of file; undefined: end of file at once. */
  stdin?: Readable;
  /** The guest claims a terminal (isatty) of this size. */
  tty?: TtySize;
  /** Kernel log level (osvb.loglevel) unless the image's command line sets one. */
  logLevel?: number;
  /** Say which accelerator was chosen. */
  announceAccel?: boolean;
}

function kernelFile(manifest: Manifest, boot: BootMode): string {
  if (boot === 'pvh') return manifest.kernel.file;
  if (!manifest.kernel.bzImage) {
    throw new RunError('--boot linux: this image has no bzImage (built without BOOT_LINUX)', {
      exitCode: 2,
      hint: 'rebuild with kernel.config BOOT_LINUX: y (the default)',
    });
  }
  return manifest.kernel.bzImage.file;
}

/** The guest's name for each disk: vda, vdb... and nvme0n1, nvme0n2... in attach order. */
export function guestDiskNames(disks: readonly DiskSpec[]): string[] {
  let vd = 0;
  let ns = 0;
  return disks.map((d) => (d.interface === 'nvme' ? `nvme0n${++ns}` : `vd${diskLetters(vd++)}`));
}

function diskLetters(i: number): string {
  return i < 26 ? String.fromCharCode(97 + i) : diskLetters(Math.floor(i / 26) - 1) + diskLetters(i % 26);
}

/** A ZFS root: the pool image as the first disk, read-only (the kernel only reads pools). */
function zfsRootDisk(dir: string, manifest: Manifest, want: DiskInterface | undefined): DiskSpec {
  const file = join(dir, manifest.rootfs?.file ?? '');
  const have = new Set(manifest.modules.map((m) => m.name));
  if (!have.has('zfs')) {
    throw new RunError('this image has a ZFS root filesystem but its kernel has no ZFS reader', {
      exitCode: 2,
      hint: 'rebuild it with this osvb (rootfs: zfs requests the zfs module)',
    });
  }
  const iface: DiskInterface = want ?? (have.has('virtio_blk') ? 'virtio' : 'nvme');
  return { file, format: 'raw', interface: iface, readonly: true, loc: { file: '--root-disk' } };
}

/** zfs.root= for the root pool (the first disk), zfs.mount= for format: zfs disks. */
function zfsCmdline(disks: readonly DiskSpec[], root: boolean): string {
  const names = guestDiskNames(disks);
  const words = disks.flatMap((d, i) =>
    d.format === 'zfs' && d.mount ? [`zfs.mount=${names[i]}:${d.mount}`] : [],
  );
  return [root ? `zfs.root=${names[0]}` : '', ...words].filter((w) => w !== '').join(' ');
}

export interface PreparedRun {
  spec: QemuSpec;
  /** TCG: where this host's clock rates are kept, and whether they were passed to the kernel. */
  clock?: { file: string; known: boolean };
  argv: string[];
  manifest: Manifest;
  accel: AccelChoice;
}

/** Kernel module each disk interface needs; a disk the image cannot drive is an error, not a silent no-op. */
const DISK_MODULES: Record<DiskSpec['interface'], string> = { virtio: 'virtio_blk', nvme: 'nvme' };

function checkDiskDrivers(disks: readonly DiskSpec[], manifest: Manifest): void {
  const have = new Set(manifest.modules.map((m) => m.name));
  for (const d of disks) {
    if (d.format === 'zfs' && !have.has('zfs')) {
      throw new RunError(`disk ${d.file} (format zfs): the image has no ZFS reader`, {
        exitCode: 2,
        hint: 'list the disk under disks: in app.yaml and rebuild, or run with --config app.yaml',
      });
    }
    const mod = DISK_MODULES[d.interface];
    if (!have.has(mod)) {
      throw new RunError(`disk ${d.file} (interface ${d.interface}): the image has no ${mod} driver`, {
        exitCode: 2,
        hint: 'list the disk under disks: in app.yaml and rebuild, or run with --config app.yaml',
      });
    }
  }
}

/** The root filesystem must be the one the manifest describes: a changed or cut archive is refused before booting. */
async function checkRootfs(dir: string, rootfs: ManifestRootfs): Promise<void> {
  const file = join(dir, rootfs.file);
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new RunError(
      `cannot read the root filesystem (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      {
        loc: { file },
      },
    );
  }
  if (hash.digest('hex') !== rootfs.sha256) {
    throw new RunError('the root filesystem does not match the checksum in manifest.json', {
      loc: { file },
      hint: 'rebuild the image with osvb build',
    });
  }
}

/** The manifest's NICs with --net applied to the first; -p needs a user-mode NIC. */
function runNics(manifest: Manifest, opts: RunOptions): NicSpec[] {
  let nics = [...(manifest.run.network ?? [])];
  if (opts.net === null) nics = [];
  else if (opts.net) {
    if (nics.length === 0) {
      throw new RunError('--net: the image has no network interface', {
        exitCode: 2,
        hint: 'add network: to app.yaml (e.g. network: [{ mode: user }]) and rebuild',
      });
    }
    nics[0] = {
      ...nics[0]!,
      mode: opts.net.mode,
      tap: opts.net.tap,
      queues: opts.net.queues ?? nics[0]!.queues,
    };
  }
  if (opts.ports?.length && !nics.some((n) => n.mode === 'user')) {
    throw new RunError(
      nics.length === 0
        ? '-p: the image has no network interface'
        : '-p: no user-mode NIC to forward ports to',
      {
        exitCode: 2,
        hint:
          nics.length === 0
            ? 'add network: to app.yaml (e.g. network: [{ mode: user }]) and rebuild'
            : 'port forwards need mode: user (with tap, reach the guest at its own address)',
      },
    );
  }
  return nics;
}

export interface LaunchOverrides {
  /** NAME=VALUE words, added to (and replacing) app.env. */
  env?: string[];
  /** Replace app.args. */
  args?: string[];
  /** Replace app.workdir. */
  workdir?: string;
}

/** The image's command line with env, args and workdir replaced as osvb run was told. */
export function overriddenCmdline(manifest: Manifest, o: LaunchOverrides): string {
  if (!o.env?.length && o.args === undefined && o.workdir === undefined) return manifest.kernel.cmdline;
  const app = manifest.app;
  if (!app) {
    throw new RunError(
      manifest.rootfs
        ? 'this image was built by an older osvb and records no program launch; -e, -w and -- need a rebuild'
        : 'this image runs no program: -e, -w and -- have nothing to apply to',
      { exitCode: 2, hint: manifest.rootfs ? 'rebuild it with osvb build' : undefined },
    );
  }
  const env = { ...app.env };
  for (const kv of o.env ?? []) {
    const i = kv.indexOf('=');
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  let workdir = o.workdir ?? app.workdir;
  if (o.workdir !== undefined) {
    const why = guestDirProblem(o.workdir);
    if (why) throw new RunError(`-w ${JSON.stringify(o.workdir)} ${why}`, { exitCode: 2 });
    const known = manifest.rootfs?.files.some((f) => f.path === o.workdir && f.kind === 'dir');
    if (!known && !['/', '/tmp', '/dev', '/proc', '/sys'].includes(o.workdir)) {
      throw new RunError(`-w ${o.workdir}: no such directory in the image`, {
        exitCode: 2,
        hint: 'osvb inspect IMAGE lists its files',
      });
    }
    workdir = o.workdir;
  }
  const FLAG: Record<string, string> = { 'app.env': '-e', 'app.args': '--', 'app.workdir': '-w' };
  return launchCmdline(
    app.kernelArgs,
    { command: app.command, args: o.args ?? app.args, env, ...(workdir ? { workdir } : {}) },
    (key, message) => {
      throw new RunError(`${FLAG[key] ?? key}: ${message}`, { exitCode: 2 });
    },
  );
}

export async function prepareRun(imageDir: string, opts: RunOptions): Promise<PreparedRun> {
  const env = opts.env ?? process.env;
  const dir = resolve(imageDir);
  const manifest = await readManifest(dir);
  const te: ToolEnv = { env, cacheDir: cacheRoot(env) };
  const qemu = await findQemu(te);
  const machine = opts.machine ?? manifest.run.machine;
  const cpus = opts.cpus ?? manifest.run.cpus;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
    throw new RunError(`cpu count ${cpus} must be an integer from 1 to 255`, { exitCode: 2 });
  }
  // Images from before SMP do not say; theirs start one CPU whatever -smp is.
  const maxCpus = manifest.run.maxCpus;
  if (maxCpus !== undefined && cpus > maxCpus) {
    throw new RunError(
      `${cpus} CPUs requested, but this image's kernel starts at most ${maxCpus} (${maxCpus === 1 ? 'built without SMP' : 'NR_CPUS'})`,
      {
        exitCode: 2,
        hint:
          maxCpus === 1
            ? 'rebuild the image with SMP on (the default; kernel.config SMP: y)'
            : 'rebuild with a larger kernel.config NR_CPUS',
      },
    );
  }
  const memory = parseMemory(opts.memory ?? manifest.run.memory);
  // What -m leaves the program, in numbers (a rootfs too large for it); then the floor any image needs.
  // A 9p or ZFS root stays on the host or the disk: only a cpio initrd takes guest memory.
  const inRam = manifest.rootfs && manifest.rootfs.format !== '9p' && manifest.rootfs.format !== 'zfs';
  if (opts.memory !== undefined && manifest.rootfs && inRam) {
    checkMemory(memory, manifest.kernel.loadSize, manifest.rootfs.size, '-m', { file: dir });
  }
  const need = minimumMemory(
    manifest.kernel.memSize ?? manifest.kernel.loadSize,
    inRam ? (manifest.rootfs?.size ?? 0) : 0,
  );
  if (memoryBytes(memory) < need) {
    throw new RunError(
      `${memory} of memory is too little for this image: it needs at least ${memoryArg(need)}`,
      {
        exitCode: 2,
      },
    );
  }
  // A 9p root is a directory served live: nothing to checksum.
  if (manifest.rootfs && manifest.rootfs.format !== '9p') await checkRootfs(dir, manifest.rootfs);
  const rootZfs = manifest.rootfs?.format === 'zfs' ? zfsRootDisk(dir, manifest, opts.rootDisk) : undefined;
  const disks = [...(rootZfs ? [rootZfs] : []), ...(manifest.run.disks ?? []), ...(opts.disks ?? [])];
  if (disks.length) (await import('../config/disks.js')).checkDisks(disks); // loads the YAML parser
  const nvmeErr = nvmeMachineError(disks, machine); // before "no nvme driver": the machine is the cause
  if (nvmeErr) throw nvmeErr;
  checkDiskDrivers(disks, manifest);
  const nics = runNics(manifest, opts);
  const volumes = [...(manifest.run.volumes ?? []), ...(opts.volumes ?? [])];
  checkVolumes(volumes);
  if (volumes.length > 0 && !manifest.modules.some((m) => m.name === 'virtio_9p')) {
    throw new RunError('volumes need the virtio_9p driver, which this image does not have', {
      exitCode: 2,
      hint: 'list the volume under volumes: in app.yaml and rebuild, or run with --config app.yaml',
    });
  }
  const qboot = await findQboot(qemu.path);
  const accel = await chooseAccel(accelMode(opts.accel, env, manifest.run.accel), {
    qemu,
    cacheDir: te.cacheDir,
    devKvm: opts.devKvm,
    qboot,
  });
  let clock: PreparedRun['clock'];
  let rateArgs = '';
  // Only a kernel with osvb's time module measures and understands the rates.
  if (accel.accel === 'tcg' && manifest.modules.some((m) => m.name === 'time')) {
    const file = await clockRatesFile(te.cacheDir, qemu.id);
    const rates = await readClockRates(file);
    clock = { file, known: rates !== undefined };
    if (rates) rateArgs = clockRateArgs(rates);
  }
  // An SMP kernel checks it started as many CPUs as the VM has, and says so when not.
  const cpuArg = maxCpus !== undefined && maxCpus > 1 && cpus > 1 ? `osvb.cpus=${cpus}` : '';
  // The rates go first so that a user's own osvb.tsc_khz (later on the line) wins.
  const base = opts.overrides ? overriddenCmdline(manifest, opts.overrides) : manifest.kernel.cmdline;
  const root9p = manifest.rootfs?.format === '9p' ? join(dir, manifest.rootfs.file) : undefined;
  const cmdline = [
    rateArgs,
    cpuArg,
    root9p ? `9p.root=${ROOT_TAG}` : '',
    zfsCmdline(disks, rootZfs !== undefined),
    volumeCmdline(volumes),
    base,
    opts.append ?? '',
  ]
    .filter((s) => s.trim() !== '')
    .join(' ');
  const spec: QemuSpec = {
    qemuPath: qemu.path,
    kernelPath: join(dir, kernelFile(manifest, opts.boot ?? 'pvh')),
    initrd: manifest.rootfs && !root9p && !rootZfs ? join(dir, manifest.rootfs.file) : undefined,
    root9p,
    cmdline,
    machine,
    memory,
    cpus,
    accel: accel.accel,
    bios: machine === 'microvm' ? qboot : undefined,
    // A printed command (--dry-run) outlives this process and its run directory:
    // its record goes to a plain file QEMU creates itself.
    exitRecordPath: opts.dryRun ? join(tmpdir(), `osvb-exit-${basename(dir)}`) : join(newRunDir(), 'exit'),
    disks,
    nics,
    ports: opts.ports,
    volumes,
  };
  return { spec, clock, argv: qemuArgv(spec), manifest, accel };
}

export interface RunResult {
  status: number;
  outcome: GuestOutcome;
  /** The one line printed for anything but a normal guest exit. */
  message?: string;
  wallMs: number;
  accel: AccelChoice;
  argv: string[];
}

export function statusOf(outcome: GuestOutcome): { status: number; message?: string } {
  switch (outcome.kind) {
    case 'exit':
      return { status: outcome.status };
    case 'panic':
      return { status: STATUS_PANIC, message: `kernel panic; exit status ${STATUS_PANIC}` };
    case 'timeout':
      return {
        status: STATUS_TIMEOUT,
        message: `guest did not exit within ${outcome.seconds} s; killed`,
      };
    case 'signal':
      return { status: outcome.status, message: `interrupted by ${outcome.signal}; guest stopped` };
    case 'no-status':
      return {
        status: STATUS_PANIC,
        message: `guest reset or powered off without an exit status (a triple fault?); exit status ${STATUS_PANIC}`,
      };
    case 'qemu-error': {
      const how = outcome.signal ? `killed by ${outcome.signal}` : `exit ${outcome.exitCode ?? '?'}`;
      const said = outcome.said.replace(/^qemu-system-x86_64: /, '');
      throw new RunError(`QEMU failed (${how})${said ? `: ${said}` : ''}`, { exitCode: STATUS_QEMU });
    }
  }
}

async function symbolizerFor(prep: PreparedRun, env: NodeJS.ProcessEnv): Promise<Symbolizer | undefined> {
  const { createSymbolizer } = await import('../kernel/symbolize.js');
  let addr2line: string | undefined;
  try {
    addr2line = (await findBinutil('addr2line', { env, cacheDir: cacheRoot(env) })).path;
  } catch (err) {
    if (!(err instanceof ToolMissingError)) throw err;
  }
  try {
    // Source paths in kernel.elf are relative to the source tree already (-ffile-prefix-map).
    return await createSymbolizer(prep.spec.kernelPath, { addr2line, env });
  } catch {
    return undefined; // an unreadable symbol table only costs the symbols
  }
}

export async function runPrepared(prep: PreparedRun, opts: RunOptions): Promise<RunResult> {
  const env = opts.env ?? process.env;
  if (prep.accel.warning) opts.stderr(`osvb: warning: ${prep.accel.warning}\n`);
  if (opts.announceAccel) {
    const what = prep.accel.accel === 'kvm' ? 'KVM' : 'TCG emulation';
    opts.stderr(`osvb: running on ${prep.spec.machine} with ${what} (${prep.accel.reason})\n`);
  }
  // The symbolizer is prepared on the first backtrace only: most runs have none.
  let symbolizer: Promise<Symbolizer | undefined> | undefined;
  const lazy: Symbolizer = async (addr) => {
    symbolizer ??= symbolizerFor(prep, env);
    const s = await symbolizer;
    return s ? s(addr) : undefined;
  };
  const log = opts.log ?? opts.stderr;
  const rewriter = new BacktraceRewriter(lazy, log);
  const setsLevel = /(^|\s)osvb\.loglevel=/.test(prep.spec.cmdline);
  const r = await runQemu(prep.spec, {
    timeoutSeconds: opts.timeoutSeconds,
    say: opts.stderr,
    tty: opts.tty,
    cmdlinePrefix: opts.logLevel !== undefined && !setsLevel ? [`osvb.loglevel=${opts.logLevel}`] : [],
    streams: {
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.appStderr ?? ((b: Buffer) => opts.stderr(b.toString('utf8'))),
      log: (t) => rewriter.push(t),
    },
  });
  await rewriter.end();
  if (prep.clock && !prep.clock.known) {
    const rates = parseClockRecord(r.record);
    if (rates) await saveClockRates(prep.clock.file, rates);
  }
  const { status, message } = statusOf(r.outcome);
  return { status, outcome: r.outcome, message, wallMs: r.wallMs, accel: prep.accel, argv: prep.argv };
}

export async function runImage(imageDir: string, opts: RunOptions): Promise<RunResult> {
  return runPrepared(await prepareRun(imageDir, opts), opts);
}
