// The QEMU launcher: image + run options → argv (pure), then a supervised run
// that streams the guest console, enforces the timeout, forwards signals and
// maps the end of QEMU to the guest's exit status.

import { existsSync } from 'node:fs';
import { open, readFile, realpath, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { DiskSpec } from '../config/disks.js';
import type { NicSpec, PortForward } from '../config/network.js';
import {
  ConsoleRelay,
  type ConsoleMode,
  type RelayStreams,
  relayCmdline,
  type TtySize,
} from '../drivers/console.js';
import type { VolumeSpec } from '../config/volumes.js';
import { BASE_DRIVERS, DEVICE_DRIVERS, driverArgs } from '../drivers/index.js';
import { RunError } from '../errors.js';
import type { Machine } from '../kernel/manifest.js';
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
  /** The COM2 record file, inside this run's own directory (rundir.ts). */
  exitRecordPath: string;
  /** Disks, in guest order. */
  disks?: readonly DiskSpec[];
  /** NICs and port forwards (src/drivers/virtio-net.ts). */
  nics?: readonly NicSpec[];
  ports?: readonly PortForward[];
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

/** QEMU's argv; `stdio` (the default) is a command a person can run as printed. */
export function qemuArgv(spec: QemuSpec, console: ConsoleMode = 'stdio'): string[] {
  // microvm's built-in COM1 would come before the others; the stdio console adds its own.
  const argv = [
    spec.qemuPath,
    '-M',
    console === 'stdio' && spec.machine === 'microvm' ? 'microvm,isa-serial=off' : spec.machine,
  ];
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
    nics: spec.nics,
    ports: spec.ports,
    console,
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

/** QEMU stderr lines that are expected noise for our own arguments. */
const QEMU_NOISE = [/externally provided fw_cfg item names should be prefixed with "opt\/"/];

/** util-linux's setpriv, when the host has it: QEMU then dies with osvb (PR_SET_PDEATHSIG). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface SuperviseOptions {
  timeoutSeconds?: number;
  /** The program's streams and the kernel's messages (drivers/console.ts). */
  streams: RelayStreams;
  /** osvb's and QEMU's own lines. */
  say: (s: string) => void;
  /** The guest claims a terminal of this size (osvb's stdout is one). */
  tty?: TtySize;
  /** Kernel arguments put first (later ones on the image's line win). */
  cmdlinePrefix?: string[];
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

/** The argv osvb run starts: the console relayed over inherited sockets. */
export function relayArgv(spec: QemuSpec, opts: Pick<SuperviseOptions, 'tty' | 'cmdlinePrefix'>): string[] {
  const cmdline = [...(opts.cmdlinePrefix ?? []), ...relayCmdline(opts.tty), spec.cmdline]
    .filter((w) => w !== '')
    .join(' ');
  return qemuArgv({ ...spec, cmdline }, 'relay');
}

export async function runQemu(spec: QemuSpec, opts: SuperviseOptions): Promise<RunOutcome> {
  const { spawn } = await import('node:child_process');
  const argv = relayArgv(spec, opts);
  // Create the record file ourselves (exclusive, private) so QEMU cannot be pointed at another file.
  const fh = await open(spec.exitRecordPath, 'wx', 0o600);
  await fh.close();
  const started = performance.now();
  const [file, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
  // fd 0 and 1 of QEMU are unused; 2 is QEMU's own messages; 3..5 the UARTs.
  const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  const spawnError = new Promise<Error>((res) => child.once('error', res));
  const [, , errPipe, con, appErr, log] = child.stdio as unknown as [
    null,
    null,
    Readable,
    Duplex,
    Readable,
    Readable,
  ];
  const relay = new ConsoleRelay(con, appErr, log, opts.streams);
  let qemuStderr = '';
  let stderrTail = '';
  errPipe.setEncoding('utf8');
  errPipe.on('data', (d: string) => {
    stderrTail += d;
    const lines = stderrTail.split('\n');
    stderrTail = lines.pop() ?? '';
    for (const l of lines) {
      if (QEMU_NOISE.some((re) => re.test(l))) continue;
      qemuStderr += `${l}\n`;
      opts.say(`${l}\n`);
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
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.once('exit', (code, signal) => res({ code, signal })),
    );
    const r = await Promise.race([ended, spawnError]);
    if (r instanceof Error) throw new RunError(`cannot start ${argv[0]}: ${r.message}`);
    const wallMs = performance.now() - started;
    relay.close();
    await relay.done; // every byte the guest wrote, before the status
    if (stderrTail && !QEMU_NOISE.some((re) => re.test(stderrTail))) {
      qemuStderr += stderrTail;
      opts.say(stderrTail);
    }
    const record = await readFile(spec.exitRecordPath, 'latin1').catch(() => '');
    const outcome = classify({
      exitCode: r.code ?? undefined,
      signal: r.signal ?? undefined,
      forwarded,
      timedOut,
      timeoutSeconds: opts.timeoutSeconds ?? 0,
      record,
      qemuStderr,
    });
    return { outcome, qemuStderr, record, wallMs };
  } finally {
    relay.close();
    if (timer) clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    await rm(dirname(spec.exitRecordPath), { recursive: true, force: true });
  }
}
