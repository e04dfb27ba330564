import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type DiskSpec, parseDiskOption } from '../config/disks.js';
import { parseVolumeOption, type VolumeSpec } from '../config/volumes.js';
import { RunError } from '../errors.js';
import type { PreparedRun } from '../hypervisor/run.js';
import { type Machine, MACHINES } from '../kernel/manifest.js';
import { buildOrReuse, buildSummary, parsePositiveInt } from './build.js';

interface RunFlags {
  config?: string;
  srctree?: string;
  hypervisor: string;
  memory?: string;
  cpus?: number;
  machine?: Machine;
  timeout?: number;
  accel?: string;
  dryRun?: boolean;
  append?: string;
  disk: DiskSpec[];
  strace?: boolean;
  json?: boolean;
  verbose?: boolean;
  volume: VolumeSpec[];
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'boot an image under QEMU (building it first from app.yaml when stale) and exit with its status',
    )
    .argument('[image-dir]', 'an image directory written by osvb build')
    .option('--config <file>', 'build from this app.yaml first (default: ./app.yaml when no image-dir)')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .addOption(new Option('--hypervisor <name>', 'hypervisor').choices(['qemu']).default('qemu'))
    .option('-m, --memory <size>', 'guest memory, e.g. 128M (default: app.yaml run.memory)')
    .option('-c, --cpus <n>', 'virtual CPUs (default: app.yaml run.cpus)', parsePositiveInt)
    .addOption(new Option('--machine <type>', 'override the QEMU machine').choices([...MACHINES]))
    .addOption(
      new Option(
        '--accel <mode>',
        'auto (prove KVM works, else TCG), kvm, or tcg (default: OSVB_ACCEL, app.yaml run.accel, auto)',
      ).choices(['auto', 'kvm', 'tcg']),
    )
    .option('--timeout <seconds>', 'kill the guest after this long and exit 124', parseTimeout)
    .option('--append <args>', 'extra kernel command line arguments')
    .option(
      '--disk <file[,if=nvme][,ro][,format=qcow2]>',
      'attach a disk (repeatable; after app.yaml disks:): /dev/vda... (virtio) or /dev/nvme0n1...',
      (v: string, prev: DiskSpec[]) => [...prev, parseDiskOption(v)],
      [] as DiskSpec[],
    )
    .option('--strace', 'the kernel prints every system call of the app (osvb.strace=1)')
    .option('--dry-run', 'print the QEMU command line and exit')
    .option('--json', 'print the result as JSON (the guest console then goes to stderr)')
    .option(
      '-v, --volume <host:/guest[:ro]>',
      'share a host directory at a guest path over 9p (repeatable; after app.yaml volumes:)',
      (v: string, prev: VolumeSpec[]) => [...prev, parseVolumeOption(v)],
      [] as VolumeSpec[],
    )
    .option('--verbose', 'say what is happening (accelerator, build steps)')
    .action(async (imageDir: string | undefined, flags: RunFlags) => {
      process.exitCode = 0;
      let dir = imageDir;
      const say = (s: string) => process.stderr.write(s);
      if (dir !== undefined && flags.config !== undefined) {
        throw new RunError('give either an image directory or --config, not both', { exitCode: 2 });
      }
      if (dir === undefined) {
        const config = flags.config ?? 'app.yaml';
        if (flags.config === undefined && !existsSync(config)) {
          throw new RunError('nothing to run: no image directory given and no ./app.yaml', {
            exitCode: 2,
            hint: 'osvb run --config path/to/app.yaml, or osvb run IMAGE_DIR',
          });
        }
        const r = await buildOrReuse(config, {
          srctree: flags.srctree,
          onProgress: flags.verbose || process.stderr.isTTY ? (l) => say(`${l}\n`) : undefined,
          onWarning: (t) => say(t.endsWith('\n') ? t : `${t}\n`),
          extraDisks: flags.disk,
          extraVolumes: flags.volume,
        });
        if (flags.verbose || (!r.upToDate && process.stderr.isTTY)) say(`osvb: ${buildSummary(r)}\n`);
        dir = r.outDir;
      }
      const out = (s: string) => (flags.json ? process.stderr.write(s) : process.stdout.write(s));
      const opts = {
        memory: flags.memory,
        cpus: flags.cpus,
        machine: flags.machine,
        disks: flags.disk,
        volumes: flags.volume,
        append:
          [flags.append, flags.strace ? 'osvb.strace=1' : undefined].filter(Boolean).join(' ') || undefined,
        timeoutSeconds: flags.timeout,
        accel: flags.accel,
        stdout: out,
        stderr: say,
        announceAccel: Boolean(flags.verbose || process.stderr.isTTY),
      };
      const { prepareRun, runPrepared } = await import('../hypervisor/run.js');
      const { shellCommand } = await import('../hypervisor/qemu.js');
      const prep: PreparedRun = await prepareRun(dir, opts);
      if (flags.dryRun) {
        const cmd = shellCommand(prep.argv);
        process.stdout.write(
          flags.json ? `${JSON.stringify({ argv: prep.argv, command: cmd }, null, 2)}\n` : `${cmd}\n`,
        );
        return;
      }
      const r = await runPrepared(prep, opts);
      if (r.message) say(`osvb: ${r.message}\n`);
      if (flags.json) {
        const json = {
          status: r.status,
          outcome: r.outcome,
          accel: r.accel.accel,
          machine: prep.spec.machine,
          wallMs: Math.round(r.wallMs),
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      }
      process.exitCode = r.status;
    });
}
