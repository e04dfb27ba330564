// Builds the osvb side of bench/userland.sh through osvb's own pipeline (the
// compiled dist/, as bin/osvb.js uses it): for each app an app.yaml, buildApp
// (Kconfig resolve + compile + link, so the kernel holds only what that app
// needs), collectRootfs + writeCpioArchive for the rootfs, and prepareRun for
// the QEMU argv `osvb run` would use. The Linux guest gets the same argv with
// only -kernel/-append swapped, so both run on the same machine and devices.
//
// Usage: node bench/userland/prepare.mjs WORK
//   WORK/bin holds hello, getpid (static musl binaries) and hi.py; writes
//   WORK/img/<app>/image/, WORK/<app>.cpio and prints one JSON object on stdout.

import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { collectRootfs, writeCpioArchive } from '../../dist/fs/index.js';
import { qemuArgv } from '../../dist/hypervisor/qemu.js';
import { prepareRun } from '../../dist/hypervisor/run.js';
import { buildApp } from '../../dist/kernel/app.js';

const work = process.argv[2];
if (!work) {
  process.stderr.write('usage: node bench/userland/prepare.mjs WORK\n');
  process.exit(2);
}

/**
 * @typedef {{ name: string, yaml: string, rootfs: import('../../dist/fs/index.js').RootfsInput,
 *   memory: string, args: string[] }} App
 */

/** @type {App[]} */
const APPS = [
  {
    name: 'hello',
    yaml: `name: bench-hello\napp:\n  exec: ${join(work, 'bin', 'hello')}\n`,
    rootfs: { exec: join(work, 'bin', 'hello') },
    memory: '128M',
    args: [],
  },
  {
    name: 'getpid',
    yaml: `name: bench-getpid\napp:\n  exec: ${join(work, 'bin', 'getpid')}\n`,
    rootfs: { exec: join(work, 'bin', 'getpid') },
    memory: '128M',
    args: [process.env.GETPID_CALLS ?? '1000000'],
  },
  {
    name: 'python',
    yaml: `name: bench-python\napp:\n  runtime: python\n  script: ${join(work, 'bin', 'hi.py')}\n`,
    rootfs: { runtime: 'python', script: join(work, 'bin', 'hi.py') },
    memory: '256M',
    args: [],
  },
];

/** The Linux guest's command line: the program is /init (rdinit), its arguments follow `--`. */
function linuxCmdline(command, args) {
  const [prog, ...rest] = command;
  const words = [...rest, ...args];
  // panic=-1 + QEMU's -no-reboot: when /init exits the kernel panics and resets at once, QEMU exits.
  // reboot=t: reset by triple fault straight away (no ACPI/keyboard-controller attempts first).
  // tsc_early_khz: under TCG Linux cannot calibrate the TSC against the PIT on a busy host and hangs;
  // the host's TSC rate is what the guest's rdtsc counts at under TCG.
  const base = `console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=${process.env.TSC_KHZ} rdinit=${prog}`;
  return words.length ? `${base} -- ${words.join(' ')}` : base;
}

const out = {};
for (const app of APPS) {
  const dir = join(work, 'img', app.name);
  const yaml = join(work, `${app.name}.yaml`);
  await writeFile(yaml, `${app.yaml}run:\n  memory: ${app.memory}\n`);
  const built = await buildApp(yaml, { outDir: join(dir, 'image'), cacheDir: join(work, 'cache'), jobs: 2 });
  const rootfs = await collectRootfs(app.rootfs);
  const archive = join(work, `${app.name}.cpio`);
  await writeCpioArchive(rootfs.entries, archive);
  const [prog, ...lead] = rootfs.command;
  const append = [`osvb.exec=${prog}`, '--', ...lead, ...app.args].join(' ');
  const prep = await prepareRun(built.outDir, { append, stdout: () => {}, stderr: () => {} });
  const linux = qemuArgv({
    ...prep.spec,
    kernelPath: process.env.VMLINUZ ?? '',
    cmdline: linuxCmdline(rootfs.command, app.args),
  });
  // The COM2 exit record: QEMU (re)creates it on every run; the script removes it.
  await rm(prep.spec.exitRecordPath, { force: true });
  out[app.name] = {
    kernel: join(built.outDir, built.manifest.kernel.file),
    archive,
    record: prep.spec.exitRecordPath,
    machine: prep.spec.machine,
    modules: built.manifest.modules?.length,
    osvb: [...prep.argv, '-initrd', archive],
    linux: [...linux, '-initrd', archive],
  };
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
