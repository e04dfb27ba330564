// Choosing the accelerator. A /dev/kvm that opens is not proof that KVM runs
// guests (a paravirtual nested hypervisor's /dev/kvm aborts QEMU's -cpu host or
// stops guests with "emulation failure"), so `auto` boots a tiny guest under
// KVM once and trusts the verdict, cached by what could change it.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { release, tmpdir, version } from 'node:os';
import { join } from 'node:path';
import { RunError } from '../errors.js';
import { writeFileAtomic } from '../kernel/atomic.js';
import { sha256 } from '../kernel/cache.js';
import type { Qemu } from '../kernel/toolchain.js';
import type { Accel, AccelMode } from './accel-mode.js';
import { qemuComplaint } from './qemu-words.js';
import { KVM_PROBE_ELF_BASE64, KVM_PROBE_EXIT_CODE } from './kvm-probe-image.js';

export type { Accel, AccelMode } from './accel-mode.js';

export const DEV_KVM = '/dev/kvm';

export interface AccelChoice {
  accel: Accel;
  reason: string;
  /** Set when `auto` fell back to TCG from a /dev/kvm that cannot run guests. */
  warning?: string;
}

export interface KvmVerdict {
  ok: boolean;
  /** Why not, in QEMU's own words; or what proved it works. */
  reason: string;
  /** The verdict came from the cache. */
  cached: boolean;
}

export interface ProbeOptions {
  qemu: Qemu;
  cacheDir: string;
  devKvm?: string;
  /** qboot.rom for the fast microvm probe; without it the probe uses q35. */
  qboot?: string;
  /** Ignore a cached verdict (doctor). */
  fresh?: boolean;
  timeoutMs?: number;
}

/** Why /dev/kvm cannot even be opened, or undefined when it can. */
async function kvmInaccessible(devKvm: string): Promise<string | undefined> {
  try {
    await access(devKvm, constants.R_OK | constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no ${devKvm}` : `${devKvm} is not accessible (${code ?? 'error'})`;
  }
}

/** The probe's cache key: the host kernel, the QEMU binary, the device node. */
async function verdictKey(opts: ProbeOptions, devKvm: string): Promise<string> {
  const st = await stat(devKvm);
  return sha256(
    'kvm-probe-1',
    release(),
    version(),
    opts.qemu.id,
    devKvm,
    `${st.rdev}:${st.ino}:${Math.trunc(st.ctimeMs)}`,
    KVM_PROBE_ELF_BASE64,
  );
}

function verdictFile(cacheDir: string, key: string): string {
  return join(cacheDir, 'accel', `kvm-${key.slice(0, 32)}.json`);
}

async function readVerdict(file: string, key: string): Promise<KvmVerdict | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    if (r.key !== key || typeof r.ok !== 'boolean' || typeof r.reason !== 'string') return undefined;
    return { ok: r.ok, reason: r.reason, cached: true };
  } catch {
    return undefined;
  }
}

/** QEMU's arguments for the probe guest: microvm when qboot is there, else q35; the CPU model osvb runs guests with. */
export function kvmProbeArgv(elf: string, accel: Accel, qboot?: string): string[] {
  const machine = qboot ? ['-M', 'microvm', '-bios', qboot] : ['-M', 'q35'];
  return [
    ...machine,
    ...['-accel', accel, '-cpu', accel === 'kvm' ? 'host' : 'max', '-m', '16M'],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'none', '-no-reboot'],
    ...['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', elf],
  ];
}

/** Boots the probe guest under KVM and says whether it reached its exit. */
export async function runKvmProbe(opts: ProbeOptions): Promise<{ ok: boolean; reason: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'osvb-kvm-probe-'));
  try {
    const elf = join(dir, 'probe.elf');
    await writeFile(elf, Buffer.from(KVM_PROBE_ELF_BASE64, 'base64'));
    const argv = kvmProbeArgv(elf, 'kvm', opts.qboot);
    const limitMs = opts.timeoutMs ?? 5000;
    return await new Promise((resolve) => {
      const child = spawn(opts.qemu.path, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, limitMs);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
        // A KVM internal error pauses the guest rather than ending QEMU.
        if (/KVM internal error|emulation failure/i.test(stderr)) child.kill('SIGKILL');
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        resolve({ ok: false, reason: `cannot start ${opts.qemu.path}: ${err.message}` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === KVM_PROBE_EXIT_CODE) {
          resolve({ ok: true, reason: 'a test guest ran under KVM' });
          return;
        }
        const said = qemuComplaint(stderr);
        let why: string;
        if (said !== '') why = said;
        else if (timedOut) why = `the test guest did not finish within ${limitMs / 1000} s`;
        else why = `QEMU exited with status ${code ?? 'none'}`;
        if (signal && !timedOut && !/KVM internal error|emulation failure/i.test(stderr)) {
          why += ` (QEMU killed by ${signal})`;
        }
        resolve({ ok: false, reason: why });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether KVM can run guests here: the cached verdict, or a fresh probe. */
export async function kvmVerdict(opts: ProbeOptions): Promise<KvmVerdict> {
  const devKvm = opts.devKvm ?? DEV_KVM;
  const missing = await kvmInaccessible(devKvm);
  if (missing) return { ok: false, reason: missing, cached: false };
  const key = await verdictKey(opts, devKvm);
  const file = verdictFile(opts.cacheDir, key);
  if (!opts.fresh) {
    const hit = await readVerdict(file, key);
    if (hit) return hit;
  }
  const probe = await runKvmProbe(opts);
  try {
    await writeFileAtomic(file, `${JSON.stringify({ key, ...probe })}\n`);
  } catch {
    // A read-only cache only costs another probe next time.
  }
  return { ...probe, cached: false };
}

export async function chooseAccel(mode: AccelMode, opts: ProbeOptions): Promise<AccelChoice> {
  if (mode === 'tcg') return { accel: 'tcg', reason: 'TCG was asked for' };
  const devKvm = opts.devKvm ?? DEV_KVM;
  const missing = await kvmInaccessible(devKvm);
  if (missing) {
    if (mode === 'kvm') throw new RunError(`KVM was asked for, but ${missing}`, { exitCode: 126 });
    return { accel: 'tcg', reason: missing };
  }
  const v = await kvmVerdict(opts);
  if (v.ok) return { accel: 'kvm', reason: `${devKvm} runs guests${v.cached ? ' (cached verdict)' : ''}` };
  const why = `${devKvm} cannot run guests: ${v.reason}`;
  if (mode === 'kvm') {
    throw new RunError(`KVM was asked for, but ${why}`, {
      exitCode: 126,
      hint: 'run with --accel tcg (or OSVB_ACCEL=tcg)',
    });
  }
  return {
    accel: 'tcg',
    reason: why,
    warning: `${why}; using TCG emulation (OSVB_ACCEL=tcg skips this check)`,
  };
}
