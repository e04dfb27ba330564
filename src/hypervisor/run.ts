// Running an image directory under QEMU: manifest → QemuSpec → supervised run
// → the status osvb run exits with (and the one line explaining it).

import { join, resolve } from 'node:path';
import { RunError, ToolMissingError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { type Machine, type Manifest, readManifest } from '../kernel/manifest.js';
import { createSymbolizer, type Symbolizer } from '../kernel/symbolize.js';
import { findBinutil, findQemu, type ToolEnv } from '../kernel/toolchain.js';
import { type AccelChoice, chooseAccel } from './accel.js';
import { exitRecordPath, findQboot, parseMemory, type QemuSpec, qemuArgv, runQemu } from './qemu.js';
import { type GuestOutcome, STATUS_PANIC, STATUS_TIMEOUT } from './status.js';

export interface RunOptions {
  memory?: string;
  cpus?: number;
  machine?: Machine;
  /** Appended to the manifest's kernel command line. */
  append?: string;
  timeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
  devKvm?: string;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Say which accelerator was chosen. */
  announceAccel?: boolean;
}

export interface PreparedRun {
  spec: QemuSpec;
  argv: string[];
  manifest: Manifest;
  accel: AccelChoice;
}

export async function prepareRun(imageDir: string, opts: RunOptions): Promise<PreparedRun> {
  const env = opts.env ?? process.env;
  const dir = resolve(imageDir);
  const manifest = await readManifest(dir);
  const te: ToolEnv = { env, cacheDir: cacheRoot(env) };
  const qemu = await findQemu(te);
  const accel = await chooseAccel(opts.devKvm);
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
  const cmdline = [manifest.kernel.cmdline, opts.append ?? ''].filter((s) => s.trim() !== '').join(' ');
  const spec: QemuSpec = {
    qemuPath: qemu.path,
    kernelPath: join(dir, manifest.kernel.file),
    initrd: manifest.rootfs ? join(dir, manifest.rootfs.file) : undefined,
    cmdline,
    machine,
    memory: parseMemory(opts.memory ?? manifest.run.memory),
    cpus,
    accel: accel.accel,
    bios: machine === 'microvm' ? await findQboot(qemu.path) : undefined,
    exitRecordPath: exitRecordPath(),
  };
  return { spec, argv: qemuArgv(spec), manifest, accel };
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
    case 'qemu-error':
      throw new RunError(`qemu-system-x86_64 failed (exit ${outcome.exitCode})`, { exitCode: 126 });
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
  const { status, message } = statusOf(r.outcome);
  return { status, outcome: r.outcome, message, wallMs: r.wallMs, accel: prep.accel, argv: prep.argv };
}

export async function runImage(imageDir: string, opts: RunOptions): Promise<RunResult> {
  return runPrepared(await prepareRun(imageDir, opts), opts);
}
