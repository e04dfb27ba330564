// Booting a disk image the way a cloud does: firmware (SeaBIOS or OVMF) finds
// the boot loader on the disk; no -kernel. Used by the tests of osvb pkg, with
// the same serial console and exit-record devices as osvb run.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_DRIVERS, driverArgs } from '../drivers/index.js';
import { RunError } from '../errors.js';
import { newRunDir } from '../hypervisor/rundir.js';
import { classify, type GuestOutcome } from '../hypervisor/status.js';
import type { DiskFormat } from './disk.js';

export type Firmware = 'bios' | 'uefi';

export interface DiskBootSpec {
  qemuPath: string;
  disk: string;
  format: DiskFormat;
  firmware: Firmware;
  /** OVMF.fd, for firmware 'uefi'. */
  ovmf?: string;
  machine?: 'q35' | 'pc';
  memory?: string;
  exitRecordPath: string;
}

export function diskBootArgv(spec: DiskBootSpec): string[] {
  const machine = spec.machine ?? 'q35';
  const argv = [spec.qemuPath, '-M', machine, '-accel', 'tcg', '-cpu', 'max', '-m', spec.memory ?? '128M'];
  if (spec.firmware === 'uefi') {
    if (!spec.ovmf) throw new RunError('no OVMF firmware; install it: apt-get install ovmf');
    argv.push('-bios', spec.ovmf);
  } else {
    // SeaBIOS would print its banner on the serial console; keep the console the guest's.
    argv.push('-fw_cfg', 'name=etc/sercon-port,string=0');
  }
  argv.push('-nodefaults', '-no-user-config', '-nographic', '-no-reboot');
  argv.push(...driverArgs(BASE_DRIVERS, { machine, exitRecordPath: spec.exitRecordPath }));
  argv.push('-drive', `file=${spec.disk.replace(/,/g, ',,')},format=${spec.format},if=none,id=osvb-disk`);
  argv.push('-device', 'virtio-blk-pci,drive=osvb-disk,bootindex=0');
  return argv;
}

export interface DiskBootResult {
  outcome: GuestOutcome;
  console: string;
  stderr: string;
}

export async function bootDisk(
  spec: Omit<DiskBootSpec, 'exitRecordPath'>,
  timeoutSeconds: number,
): Promise<DiskBootResult> {
  const { execa } = await import('execa');
  const runDir = newRunDir();
  const record = join(runDir, 'exit-record');
  await (await open(record, 'wx', 0o600)).close();
  try {
    const argv = diskBootArgv({ ...spec, exitRecordPath: record });
    const r = await execa(argv[0]!, argv.slice(1), {
      reject: false,
      stdin: 'ignore',
      timeout: timeoutSeconds * 1000,
      encoding: 'utf8',
      stripFinalNewline: false,
    });
    const text = await readFile(record, 'latin1').catch(() => '');
    const outcome = classify({
      exitCode: r.exitCode,
      signal: r.timedOut ? undefined : r.signal,
      timedOut: Boolean(r.timedOut),
      timeoutSeconds,
      record: text,
      qemuStderr: String(r.stderr),
    });
    return { outcome, console: String(r.stdout), stderr: String(r.stderr) };
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
