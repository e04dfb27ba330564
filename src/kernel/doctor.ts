// Host checks for `osvb doctor`: each tool or resource, whether it is fine, and
// the Debian package that fixes it.

import { ToolMissingError } from '../errors.js';
import { DEV_KVM, kvmVerdict } from '../hypervisor/accel.js';
import { findQboot } from '../hypervisor/qemu.js';
import { cacheRoot } from './cache.js';
import {
  findBinutil,
  findCompiler,
  findLinker,
  findQemu,
  type Qemu,
  type Tool,
  type ToolEnv,
} from './toolchain.js';

export interface Check {
  name: string;
  ok: boolean;
  /** A missing required item makes doctor fail. */
  required: boolean;
  detail: string;
  /** Debian package that provides or fixes it. */
  package?: string;
  /** What to do, when not ok. */
  fix?: string;
}

async function toolCheck(name: string, required: boolean, find: () => Promise<Tool>): Promise<Check> {
  try {
    const t = await find();
    return { name, ok: true, required, detail: `${t.path} (${t.version})` };
  } catch (err) {
    if (!(err instanceof ToolMissingError)) throw err;
    return {
      name,
      ok: false,
      required,
      detail: err.message,
      package: err.debianPackage,
      fix: err.hint,
    };
  }
}

/** The same probe osvb run trusts, run afresh: a /dev/kvm that opens but cannot run guests is a problem. */
async function kvmCheck(
  qemu: Qemu | undefined,
  qboot: string | undefined,
  cacheDir: string,
  devKvm?: string,
): Promise<Check> {
  const dev = devKvm ?? DEV_KVM;
  if (!qemu) return { name: 'kvm', ok: false, required: false, detail: 'not checked: QEMU is missing' };
  const v = await kvmVerdict({ qemu, qboot, cacheDir, devKvm, fresh: true });
  if (v.ok) return { name: 'kvm', ok: true, required: false, detail: `${dev}: ${v.reason}` };
  const exists = !v.reason.startsWith('no ') && !v.reason.includes('not accessible');
  return {
    name: 'kvm',
    ok: false,
    required: false,
    detail: exists
      ? `${dev} cannot run guests: ${v.reason}; guests run under TCG emulation (slower)`
      : `${v.reason}: guests run under TCG emulation (slower)`,
    fix: exists
      ? "this host's KVM is unusable for QEMU (e.g. a nested paravirtual hypervisor); set OSVB_ACCEL=tcg to skip the check"
      : 'enable virtualization, load kvm_intel/kvm_amd, add yourself to group kvm',
  };
}

export async function runChecks(env: NodeJS.ProcessEnv = process.env, devKvm?: string): Promise<Check[]> {
  const te: ToolEnv = { env, cacheDir: cacheRoot(env) };
  const checks = await Promise.all([
    toolCheck('gcc', true, () => findCompiler(te)),
    toolCheck('ld', true, () => findLinker(te)),
    toolCheck('nm', false, () => findBinutil('nm', te)),
    toolCheck('addr2line', false, () => findBinutil('addr2line', te)),
    toolCheck('qemu-system-x86_64', true, () => findQemu(te)),
  ]);
  let qemu: Qemu | undefined;
  let qboot: string | undefined;
  try {
    qemu = await findQemu(te);
    qboot = await findQboot(qemu.path);
  } catch (err) {
    if (!(err instanceof ToolMissingError)) throw err;
  }
  checks.push(await kvmCheck(qemu, qboot, te.cacheDir, devKvm));
  checks.push({
    name: 'qboot',
    ok: qboot !== undefined,
    required: false,
    detail: qboot ?? 'qboot.rom not found: microvm boots through SeaBIOS (slower)',
    package: 'qemu-system-data',
    fix: qboot ? undefined : 'install it: apt-get install qemu-system-data',
  });
  return checks;
}

export function doctorFailed(checks: readonly Check[]): boolean {
  return checks.some((c) => c.required && !c.ok);
}
