// Running an image directory under QEMU: manifest → QemuSpec → supervised run
// → the status osvb run exits with (and the one line explaining it).

import { join, resolve } from 'node:path';
import { checkDisks, type DiskSpec } from '../config/disks.js';
import { checkVolumes, type VolumeSpec, volumeCmdline } from '../config/volumes.js';
import { ROOT_TAG } from '../drivers/virtio-9p.js';
import { RunError, ToolMissingError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { type Machine, type Manifest, readManifest } from '../kernel/manifest.js';
import { createSymbolizer, type Symbolizer } from '../kernel/symbolize.js';
import { findBinutil, findQemu, type ToolEnv } from '../kernel/toolchain.js';
import { type AccelChoice, chooseAccel } from './accel.js';
import { accelMode } from './accel-mode.js';
import {
  clockRateArgs,
  clockRatesFile,
  parseClockRecord,
  readClockRates,
  saveClockRates,
} from './clock-rates.js';
import { exitRecordPath, findQboot, parseMemory, type QemuSpec, qemuArgv, runQemu } from './qemu.js';
import { type GuestOutcome, STATUS_PANIC, STATUS_QEMU, STATUS_TIMEOUT } from './status.js';

export interface RunOptions {
  memory?: string;
  cpus?: number;
  machine?: Machine;
  /** Disks after the manifest's (osvb run --disk). */
  disks?: DiskSpec[];
  /** Volumes after the manifest's (osvb run -v). */
  volumes?: VolumeSpec[];
  /** Appended to the manifest's kernel command line. */
  append?: string;
  timeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
  /** --accel; OSVB_ACCEL and the image's run.accel apply when absent. */
  accel?: string;
  devKvm?: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Say which accelerator was chosen. */
  announceAccel?: boolean;
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
    const mod = DISK_MODULES[d.interface];
    if (!have.has(mod)) {
      throw new RunError(`disk ${d.file} (interface ${d.interface}): the image has no ${mod} driver`, {
        exitCode: 2,
        hint: 'list the disk under disks: in app.yaml and rebuild, or run with --config app.yaml',
      });
    }
  }
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
  if (manifest.rootfs?.format === 'zfs') {
    // The pool image is written and zdb-checked; the kernel's ZFS reader is not there yet.
    throw new RunError(
      'this image has a ZFS root filesystem (rootfs: zfs), which the kernel cannot mount yet',
      {
        hint: 'build it with rootfs: cpio to run it',
      },
    );
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
  const disks = [...(manifest.run.disks ?? []), ...(opts.disks ?? [])];
  checkDisks(disks);
  checkDiskDrivers(disks, manifest);
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
  // The rates go first so that a user's own osvb.tsc_khz (later on the line) wins.
  const root9p = manifest.rootfs?.format === '9p' ? join(dir, manifest.rootfs.file) : undefined;
  const cmdline = [
    rateArgs,
    root9p ? `9p.root=${ROOT_TAG}` : '',
    volumeCmdline(volumes),
    manifest.kernel.cmdline,
    opts.append ?? '',
  ]
    .filter((s) => s.trim() !== '')
    .join(' ');
  const spec: QemuSpec = {
    qemuPath: qemu.path,
    kernelPath: join(dir, manifest.kernel.file),
    initrd: manifest.rootfs && !root9p ? join(dir, manifest.rootfs.file) : undefined,
    root9p,
    cmdline,
    machine,
    memory: parseMemory(opts.memory ?? manifest.run.memory),
    cpus,
    accel: accel.accel,
    bios: machine === 'microvm' ? qboot : undefined,
    exitRecordPath: exitRecordPath(),
    disks,
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
  let addr2line: string | undefined;
  try {
    addr2line = (await findBinutil('addr2line', { env, cacheDir: cacheRoot(env) })).path;
  } catch (err) {
    if (!(err instanceof ToolMissingError)) throw err;
  }
  try {
    return await createSymbolizer(prep.spec.kernelPath, { addr2line, srctree: prep.manifest.srctree, env });
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
  const r = await runQemu(prep.spec, {
    timeoutSeconds: opts.timeoutSeconds,
    stdout: opts.stdout,
    stderr: opts.stderr,
    symbolize: await symbolizerFor(prep, env),
  });
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
