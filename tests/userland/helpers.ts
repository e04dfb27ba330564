// Booting real Linux programs on the osvb kernel: the kernel image is built by
// the osvb pipeline (buildApp), the root filesystem by the fs stage
// (collectRootfs + writeCpioArchive), and QEMU gets the pipeline's own argv
// plus `-initrd` (until `osvb run` passes the image's rootfs itself).

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll } from 'vitest';
import { collectRootfs, writeCpioArchive } from '../../src/fs/index.js';
import type { RootfsInput } from '../../src/fs/rootfs.js';
import { prepareRun } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';

export const PROGRAMS = resolve(import.meta.dirname, 'programs');

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

export async function tempDir(prefix = 'osvb-userland-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Builds the kernel with the Linux ABI (the default configuration) into dir/image. */
export async function buildKernel(dir: string): Promise<string> {
  const app = join(dir, 'app.yaml');
  await writeFile(
    app,
    'name: userland\nkernel:\n  config:\n    LINUX_ABI: y\n    RUNTIME_GO: y\n    RUNTIME_PYTHON: y\n',
  );
  const outDir = join(dir, 'image');
  await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
  return outDir;
}

/** Compiles a C file from programs/ with cc (gcc or musl-gcc) into dir. */
export function compile(dir: string, source: string, out: string, cc: string, args: string[] = []): string {
  const path = join(dir, out);
  execFileSync(cc, ['-O1', '-o', path, join(PROGRAMS, source), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return path;
}

export interface Rootfs {
  archive: string;
  /** The guest command: [program] or [python, script]. */
  command: string[];
}

/** The fs stage: the program, its loader and libraries (and Python's stdlib) into a newc archive. */
export async function packRootfs(dir: string, name: string, input: RootfsInput): Promise<Rootfs> {
  const rootfs = await collectRootfs(input);
  const archive = join(dir, `${name}.cpio`);
  await writeCpioArchive(rootfs.entries, archive);
  return { archive, command: rootfs.command };
}

/** Quote a word for the kernel command line (the cmdline module groups "..."). */
export function cmdWord(w: string): string {
  return /[\s"]/.test(w) ? `"${w}"` : w;
}

/** osvb.exec=PROGRAM [NAME=VALUE ...] -- ARGS... (the format documented in the README). */
export function execCmdline(command: string[], args: string[] = [], env: string[] = [], extra = ''): string {
  const [prog, ...lead] = command;
  return [`osvb.exec=${prog}`, extra, ...env.map(cmdWord), '--', ...[...lead, ...args].map(cmdWord)]
    .filter((w) => w !== '')
    .join(' ');
}

export interface Boot {
  /** Guest console output, \r removed. */
  out: string;
  lines: string[];
  /** The guest's exit status from the COM2 record, else from isa-debug-exit. */
  status: number;
  record: string;
}

/** Boot the kernel of imageDir with the archive as initrd and the given command line. */
export async function boot(
  imageDir: string,
  archive: string,
  append: string,
  opts: { memory?: string; timeoutSeconds?: number; cpus?: number } = {},
): Promise<Boot> {
  const prep = await prepareRun(imageDir, {
    append,
    memory: opts.memory ?? '256M',
    cpus: opts.cpus,
    stdout: () => {},
    stderr: () => {},
  });
  const argv = [...prep.argv, '-initrd', archive];
  const r = await execa(argv[0]!, argv.slice(1), {
    reject: false,
    timeout: (opts.timeoutSeconds ?? 120) * 1000,
    stdin: 'ignore',
    all: true,
    stripFinalNewline: false,
  });
  let record = '';
  try {
    record = await readFile(prep.spec.exitRecordPath, 'utf8');
    await rm(prep.spec.exitRecordPath, { force: true });
  } catch {
    // no record: fall back to the debug-exit code
  }
  const m = /osvb-exit: (\d+)/.exec(record);
  const code = typeof r.exitCode === 'number' ? r.exitCode : -1;
  const status = m ? Number(m[1]) : code > 0 && code % 2 === 1 ? (code - 1) / 2 : -1;
  const out = (r.all ?? '').replaceAll('\r', '');
  return { out, lines: out.split('\n'), status, record };
}
