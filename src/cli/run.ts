import { existsSync, type WriteStream } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { PortForward } from '../config/network.js';
import type { VolumeSpec } from '../config/volumes.js';
import { RunError } from '../errors.js';
import { BOOT_MODES, type BootMode } from '../hypervisor/boot-mode.js';
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
  boot?: BootMode;
  rootDisk?: 'virtio' | 'nvme';
  /** --disk words as given; parsed (with the YAML-side disk code) only when there are some. */
  disk: string[];
  strace?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** -v words as given; parsed with the volume code only when there are some. */
  volume: string[];
  env: string[];
  workdir?: string;
  log?: string;
  /** -p words as given; parsed with the network code only when there are some. */
  publish: string[];
  net?: string;
  detach?: boolean;
  name?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

function collectEnv(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)) {
    throw new InvalidArgumentError('expected NAME=VALUE (NAME: letters, digits, _)');
  }
  return [...previous, value];
}

/** The words after `--` on osvb's own command line: the program's arguments. */
function argsAfterDashes(cmd: Command): string[] | undefined {
  // commander keeps the words it parsed in rawArgs (untyped).
  const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
  const i = raw.indexOf('--');
  return i < 0 ? undefined : raw.slice(i + 1);
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'boot an image under QEMU (building it first from app.yaml when stale) and exit with its status',
    )
    .usage('[options] [IMAGE_DIR | PROGRAM] [-- ARG...]')
    .argument(
      '[image]',
      'an image directory written by osvb build, oci:REF (pulled, verified), or a Linux program (ELF) to run as is',
    )
    .argument('[args...]', 'after --: the program arguments (replace app.args)')
    .option('--config <file>', 'build from this app.yaml first (default: ./app.yaml when no image-dir)')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .addOption(
      new Option('--hypervisor <name>', 'hypervisor').choices(['qemu', 'firecracker', 'xen']).default('qemu'),
    )
    .option('-m, --memory <size>', 'guest memory, e.g. 128M (default: app.yaml run.memory)')
    .option('-c, --cpus <n>', 'virtual CPUs (default: app.yaml run.cpus)', parsePositiveInt)
    .option(
      '-e, --env <NAME=VALUE>',
      'set an environment variable of the program (repeatable)',
      collectEnv,
      [],
    )
    .option('-w, --workdir <dir>', "the program's working directory (default: app.workdir, else /)")
    .addOption(new Option('--machine <type>', 'override the QEMU machine').choices([...MACHINES]))
    .addOption(
      new Option(
        '--accel <mode>',
        'auto (prove KVM works, else TCG), kvm, or tcg (default: OSVB_ACCEL, app.yaml run.accel, auto)',
      ).choices(['auto', 'kvm', 'tcg']),
    )
    .option('--timeout <seconds>', 'kill the guest after this long and exit 124', parseTimeout)
    .option('--log <file>', 'write the kernel messages (all of them, level 5) to this file instead of stderr')
    .option('--append <args>', 'extra kernel command line arguments')
    .addOption(
      new Option(
        '--boot <protocol>',
        'pvh: QEMU loads kernel.elf through its PVH note; linux: the bzImage through the Linux boot protocol',
      )
        .choices([...BOOT_MODES])
        .default('pvh'),
    )
    .option(
      '--disk <file[,if=nvme][,ro][,format=qcow2|zfs][,mount=/dir]>',
      'attach a disk (repeatable; after app.yaml disks:): /dev/vda... (virtio) or /dev/nvme0n1...',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addOption(
      new Option(
        '--root-disk <interface>',
        'rootfs: zfs: attach the pool image as virtio-blk (default) or NVMe',
      ).choices(['virtio', 'nvme']),
    )
    .option(
      '-p, --publish <[hostip:]hostport:guestport[/udp]>',
      'forward a host port to the guest (repeatable; user-mode NIC; host IP defaults to 127.0.0.1)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--net <none|user|tap:NAME[,queues=N]>', "attach the image's first NIC to this (or none)")
    .option('--strace', 'the kernel prints every system call of the app (osvb.strace=1)')
    .option('--dry-run', 'print the QEMU command line (Firecracker: the VM configuration JSON) and exit')
    .option(
      '--json',
      'newline-delimited JSON events on stdout, the last one the result (the program stdout then goes to stderr)',
    )
    .option(
      '-v, --volume <host:/guest[:ro]>',
      'share a host directory at a guest path over 9p (repeatable; after app.yaml volumes:)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--verbose', 'say what is happening (accelerator, build steps, kernel messages)')
    .option('-d, --detach', 'run in the background (console to a log file; see osvb ps, logs, stop, rm)')
    .option('--name <name>', 'with -d: the instance name (default: <image>-<random>)')
    .action(async (imageArg: string | undefined, _rest: string[], flags: RunFlags, cmd: Command) => {
      process.exitCode = 0;
      // The disk code loads the YAML parser: only for runs that attach disks.
      const disks = flags.disk.length
        ? await import('../config/disks.js').then((m) => flags.disk.map((d) => m.parseDiskOption(d)))
        : [];
      const volumes: VolumeSpec[] = flags.volume.length
        ? await import('../config/volumes.js').then((m) => flags.volume.map((v) => m.parseVolumeOption(v)))
        : [];
      const net =
        flags.publish.length || flags.net !== undefined ? await import('../config/network.js') : undefined;
      const ports: PortForward[] = net ? flags.publish.map((p) => net.parsePortOption(p)) : [];
      const afterDashes = argsAfterDashes(cmd);
      // Operands before `--` name the image; everything after it is the program's.
      const before = cmd.args.length - (afterDashes?.length ?? 0);
      let dir = before >= 1 ? imageArg : undefined;
      if (before > 1) {
        throw new RunError(`unexpected argument "${cmd.args[1]}"`, {
          exitCode: 2,
          hint: 'put the program arguments after --: osvb run IMAGE -- ARG...',
        });
      }
      const say = (s: string) => process.stderr.write(s);
      if (dir !== undefined && flags.config !== undefined) {
        throw new RunError('give either an image directory or --config, not both', { exitCode: 2 });
      }
      const progress = flags.verbose || process.stderr.isTTY ? (l: string) => say(`${l}\n`) : undefined;
      const onWarning = (t: string) => say(t.endsWith('\n') ? t : `${t}\n`);
      if (dir?.startsWith('oci:')) {
        const { pullImage } = await import('../pkg/pull.js');
        dir = (await pullImage(dir.slice('oci:'.length))).dir;
      } else if (dir !== undefined) {
        // An image directory needs nothing; a program file gets its default image.
        if (!(await isDirectory(dir))) {
          const { isProgramFile, programImage } = await import('./program.js');
          if (await isProgramFile(dir)) {
            const r = await programImage(dir, { srctree: flags.srctree, onProgress: progress, onWarning });
            if (flags.verbose) say(`osvb: ${buildSummary(r)}\n`);
            dir = r.outDir;
          }
        }
      } else {
        const config = flags.config ?? 'app.yaml';
        if (flags.config === undefined && !existsSync(config)) {
          throw new RunError('nothing to run: no image directory given and no ./app.yaml', {
            exitCode: 2,
            hint: 'osvb run --config path/to/app.yaml, osvb run IMAGE_DIR, or osvb run ./program',
          });
        }
        const { progress: progressBar } = await import('./progress.js');
        const bar = progressBar({ json: flags.json && !flags.dryRun });
        const r = await buildOrReuse(config, {
          srctree: flags.srctree,
          onProgress: flags.verbose ? progress : undefined,
          onUnit: (u) =>
            flags.json ? bar.event('unit', u) : flags.verbose ? undefined : bar.step(u.unit, u.done, u.total),
          onWarning,
          extraDisks: disks,
          extraVolumes: volumes,
        }).finally(() => bar.end());
        if (flags.verbose || (!r.upToDate && process.stderr.isTTY)) say(`osvb: ${buildSummary(r)}\n`);
        dir = r.outDir;
      }
      if (flags.hypervisor === 'firecracker') {
        const fc = await import('../hypervisor/firecracker.js');
        const append = [flags.append, flags.strace ? 'osvb.strace=1' : undefined].filter(Boolean).join(' ');
        const config = await fc.prepareFirecracker(dir as string, {
          memory: flags.memory,
          cpus: flags.cpus,
          append: append || undefined,
          disks,
        });
        if (flags.dryRun) {
          process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
          return;
        }
        process.exitCode = await fc.runFirecracker(config, process.env);
        return;
      }
      if (flags.hypervisor === 'xen') {
        const xen = await import('../hypervisor/xen.js');
        const append = [flags.append, flags.strace ? 'osvb.strace=1' : undefined].filter(Boolean).join(' ');
        const config = await xen.prepareXen(dir as string, {
          memory: flags.memory,
          cpus: flags.cpus,
          append: append || undefined,
          disks,
        });
        if (flags.dryRun) {
          process.stdout.write(config);
          return;
        }
        process.exitCode = await xen.runXen(config, process.env);
        return;
      }
      let logFile: WriteStream | undefined;
      if (flags.log !== undefined && !flags.dryRun) {
        const { openLog } = await import('./program.js');
        logFile = await openLog(flags.log);
      }
      const out = flags.json ? process.stderr : process.stdout;
      const tty =
        process.stdout.isTTY && !flags.json
          ? { rows: process.stdout.rows ?? 0, cols: process.stdout.columns ?? 0 }
          : undefined;
      const opts = {
        memory: flags.memory,
        cpus: flags.cpus,
        machine: flags.machine,
        disks,
        rootDisk: flags.rootDisk,
        ports,
        net: net && flags.net !== undefined ? (net.parseNetOption(flags.net) ?? null) : undefined,
        boot: flags.boot,
        volumes,
        dryRun: flags.dryRun,
        append:
          [flags.append, flags.strace ? 'osvb.strace=1' : undefined].filter(Boolean).join(' ') || undefined,
        overrides: {
          env: flags.env,
          args: afterDashes,
          workdir: flags.workdir,
        },
        timeoutSeconds: flags.timeout,
        accel: flags.accel,
        stdout: out,
        appStderr: process.stderr,
        stderr: say,
        log: logFile ? (s: string) => logFile.write(s) : undefined,
        // Quiet unless asked: warnings and panics only.
        logLevel: logFile || flags.verbose ? undefined : 4,
        stdin: process.stdin,
        tty,
        announceAccel: Boolean(flags.verbose),
      };
      const { prepareRun, runPrepared } = await import('../hypervisor/run.js');
      const prep: PreparedRun = await prepareRun(dir as string, opts);
      if (flags.dryRun) {
        const { shellCommand } = await import('../hypervisor/qemu.js');
        const cmdText = shellCommand(prep.argv);
        process.stdout.write(
          flags.json ? `${JSON.stringify({ argv: prep.argv, command: cmdText }, null, 2)}\n` : `${cmdText}\n`,
        );
        return;
      }
      if (flags.detach) {
        const { startDetached } = await import('../hypervisor/instances.js');
        const inst = await startDetached(prep, { name: flags.name });
        process.stdout.write(
          flags.json ? `${JSON.stringify({ event: 'started', ...inst })}\n` : `${inst.name}\n`,
        );
        process.stdin.destroy();
        return;
      }
      try {
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
          process.stdout.write(`${JSON.stringify({ event: 'result', ...json })}\n`);
        }
        process.exitCode = r.status;
      } finally {
        // Stop reading osvb's stdin, so the process can end.
        process.stdin.destroy();
        if (logFile) await new Promise<void>((res) => logFile.end(() => res()));
      }
    });
}
