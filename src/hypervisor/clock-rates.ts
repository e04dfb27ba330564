// Under TCG the guest's TSC is the host's and QEMU's APIC timer has a fixed
// rate, so the clock rates a kernel measured on this host hold for every later
// boot here. The kernel reports its PIT measurement on the exit-record channel
// ("osvb-clock: tsc_khz=N apic_timer_khz=M"); osvb run keeps it per host boot
// and QEMU binary and passes it back as osvb.tsc_khz / osvb.apic_timer_khz, so
// only the first boot on a host runs a calibration loop.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../kernel/atomic.js';
import { sha256 } from '../kernel/cache.js';

export interface ClockRates {
  tscKhz: number;
  apicTimerKhz: number;
}

const RECORD = /^osvb-clock: tsc_khz=(\d{4,9}) apic_timer_khz=(\d{1,9})\r?$/m;

/** The kernel's clock record in the COM2 text, if it wrote one. */
export function parseClockRecord(text: string): ClockRates | undefined {
  const m = RECORD.exec(text);
  if (!m) return undefined;
  const rates = { tscKhz: Number(m[1]), apicTimerKhz: Number(m[2]) };
  return rates.tscKhz >= 1000 && rates.apicTimerKhz >= 1 ? rates : undefined;
}

/** Kernel command line options that hand the rates to the kernel. */
export function clockRateArgs(r: ClockRates): string {
  return `osvb.tsc_khz=${r.tscKhz} osvb.apic_timer_khz=${r.apicTimerKhz}`;
}

/** Where the rates for this host boot and QEMU binary are kept. */
export async function clockRatesFile(cacheDir: string, qemuId: string): Promise<string> {
  // A host reboot (or a migrated VM) may change the TSC rate.
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown');
  return join(cacheDir, 'clock', `tcg-${sha256(bootId.trim(), qemuId).slice(0, 32)}.json`);
}

export async function readClockRates(file: string): Promise<ClockRates | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    if (typeof r.tscKhz !== 'number' || typeof r.apicTimerKhz !== 'number') return undefined;
    return { tscKhz: r.tscKhz, apicTimerKhz: r.apicTimerKhz };
  } catch {
    return undefined;
  }
}

export async function saveClockRates(file: string, r: ClockRates): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(r)}\n`);
  } catch {
    // A read-only cache only costs the next boot a calibration.
  }
}
