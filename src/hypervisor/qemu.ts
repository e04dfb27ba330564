// The QEMU launcher: image + run options → argv (pure), then a supervised run
// that streams the guest console, enforces the timeout, forwards signals and
// maps the end of QEMU to the guest's exit status.

import { existsSync } from 'node:fs';
import { open, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DiskSpec } from '../config/disks.js';
import type { VolumeSpec } from '../config/volumes.js';
import { BASE_DRIVERS, DEVICE_DRIVERS, driverArgs } from '../drivers/index.js';
import { RunError } from '../errors.js';
import type { Machine } from '../kernel/manifest.js';
import { BacktraceRewriter, type Symbolizer } from '../kernel/symbolize.js';
import type { Accel } from './accel.js';
import { classify, type GuestOutcome } from './status.js';

export interface QemuSpec {
  qemuPath: string;
  kernelPath: string;
  cmdline: string;
  /** The root filesystem archive, when the image has one. */
  initrd?: string;
  machine: Machine;
  memory: string;
  cpus: number;
  accel: Accel;
  /** qboot for microvm; undefined = QEMU's default firmware. */
  bios?: string;
  exitRecordPath: string;
  /** Disks, in guest order. */
  disks?: readonly DiskSpec[];
  /** Host directories shared over 9p, in tag order. */
  volumes?: readonly VolumeSpec[];
  /** Host directory served as the root over 9p (rootfs: 9p). */
  root9p?: string;
}

/** Firmware file names QEMU looks up in its data directory. */
export const QBOOT = 'qboot.rom';

/** QEMU's data directories, nearest to the binary first. */
export async function qemuDataDirs(qemuPath: string): Promise<string[]> {
  const dirs: string[] = [];
  try {
    dirs.push(join(dirname(dirname(await realpath(qemuPath))), 'share', 'qemu'));
  } catch {
    // fall through to the usual places
  }
  dirs.push('/usr/share/qemu', '/usr/local/share/qemu');
  return [...new Set(dirs)];
}

export async function findQboot(qemuPath: string): Promise<string | undefined> {
  for (const d of await qemuDataDirs(qemuPath)) {
    const p = join(d, QBOOT);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function parseMemory(value: string): string {
  const m = /^(\d+)([KMGkmg]?)$/.exec(value.trim());
  if (!m || Number(m[1]) === 0) {
    throw new RunError(`memory size "${value}" is not a size like 128M or 1G`, { exitCode: 2 });
  }
  return `${m[1]}${(m[2] || 'M').toUpperCase()}`;
}

export function qemuArgv(spec: QemuSpec): string[] {
  const argv = [spec.qemuPath, '-M', spec.machine];
  if (spec.bios) argv.push('-bios', spec.bios);
  argv.push('-accel', spec.accel, '-cpu', spec.accel === 'kvm' ? 'host' : 'max');
  argv.push('-m', spec.memory, '-smp', String(spec.cpus));
  argv.push('-nodefaults', '-no-user-config', '-nographic', '-no-reboot');
  if (spec.machine !== 'microvm') {
    // SeaBIOS would print its banner on the serial console; keep the console the guest's.
    argv.push('-fw_cfg', 'name=etc/sercon-port,string=0');
  }
  const ctx = {
    machine: spec.machine,
    exitRecordPath: spec.exitRecordPath,
    disks: spec.disks,
    volumes: spec.volumes,
    root9p: spec.root9p,
  };
  argv.push(...driverArgs(BASE_DRIVERS, ctx), ...driverArgs(DEVICE_DRIVERS, ctx));
  argv.push('-kernel', spec.kernelPath);
  if (spec.initrd) argv.push('-initrd', spec.initrd);
  if (spec.cmdline !== '') argv.push('-append', spec.cmdline);
  return argv;
}

export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A fresh path for the COM2 record in the temp directory; QEMU creates the file. */
export function exitRecordPath(): string {
  return join(tmpdir(), `osvb-exit-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** QEMU stderr lines that are expected noise for our own arguments. */
const QEMU_NOISE = [/externally provided fw_cfg item names should be prefixed with "opt\/"/];

export interface SuperviseOptions {
  timeoutSeconds?: number;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  symbolize?: Symbolizer;
  /** Grace period between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export interface RunOutcome {
  outcome: GuestOutcome;
  qemuStderr: string;
  /** What the guest wrote on the exit-record channel (COM2). */
  record: string;
  wallMs: number;
}

export async function runQemu(spec: QemuSpec, opts: SuperviseOptions): Promise<RunOutcome> {
  const { execa } = await import('execa');
  const argv = qemuArgv(spec);
  // Create the record file ourselves (exclusive, private) so QEMU cannot be pointed at another file.
  const fh = await open(spec.exitRecordPath, 'wx', 0o600);
  await fh.close();
  const started = performance.now();
  const child = execa(argv[0]!, argv.slice(1), {
    stdin: process.stdin.isTTY ? 'inherit' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    reject: false,
    encoding: 'utf8',
    buffer: false,
  });
  const rewriter = opts.symbolize ? new BacktraceRewriter(opts.symbolize, opts.stdout) : undefined;
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (rewriter ? rewriter.push(d) : opts.stdout(d)));
  let qemuStderr = '';
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    stderrTail += d;
    const lines = stderrTail.split('\n');
    stderrTail = lines.pop() ?? '';
    for (const l of lines) {
      if (QEMU_NOISE.some((re) => re.test(l))) continue;
      qemuStderr += `${l}\n`;
      opts.stderr(`${l}\n`);
    }
  });

  let timedOut = false;
  let forwarded: NodeJS.Signals | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const terminate = () => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000);
  };
  const timer =
    opts.timeoutSeconds && opts.timeoutSeconds > 0
      ? setTimeout(() => {
          timedOut = true;
          terminate();
        }, opts.timeoutSeconds * 1000)
      : undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    forwarded ??= sig;
    child.kill(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const r = await child;
    const wallMs = performance.now() - started;
    if (stderrTail && !QEMU_NOISE.some((re) => re.test(stderrTail))) {
      qemuStderr += stderrTail;
      opts.stderr(stderrTail);
    }
    await rewriter?.end();
    if (r.failed && r.exitCode === undefined && !r.signal && !timedOut) {
      throw new RunError(`cannot start ${argv[0]}: ${r.shortMessage ?? r.message}`);
    }
    const record = await readFile(spec.exitRecordPath, 'latin1').catch(() => '');
    const outcome = classify({
      exitCode: r.exitCode,
      signal: r.signal,
      forwarded,
      timedOut,
      timeoutSeconds: opts.timeoutSeconds ?? 0,
      record,
      qemuStderr,
    });
    return { outcome, qemuStderr, record, wallMs };
  } finally {
    if (timer) clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    await rm(spec.exitRecordPath, { force: true });
  }
}
