import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type DiskSpec, parseDiskOption } from '../config/disks.js';
import { type PortForward, parseNetOption, parsePortOption } from '../config/network.js';
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
  disk: DiskSpec[];
  publish: PortForward[];
  net?: string;
  strace?: boolean;
  json?: boolean;
  verbose?: boolean;
  detach?: boolean;
  name?: string;
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
    .argument('[image-dir]', 'an image directory written by osvb build, or oci:REF (pulled, verified)')
    .option('--config <file>', 'build from this app.yaml first (default: ./app.yaml when no image-dir)')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .addOption(
      new Option('--hypervisor <name>', 'hypervisor').choices(['qemu', 'firecracker']).default('qemu'),
    )
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
    .addOption(
      new Option(
        '--boot <protocol>',
        'pvh: QEMU loads kernel.elf through its PVH note; linux: the bzImage through the Linux boot protocol',
      )
        .choices([...BOOT_MODES])
        .default('pvh'),
    )
    .option(
      '--disk <file[,if=nvme][,ro][,format=qcow2]>',
      'attach a disk (repeatable; after app.yaml disks:): /dev/vda... (virtio) or /dev/nvme0n1...',
      (v: string, prev: DiskSpec[]) => [...prev, parseDiskOption(v)],
      [] as DiskSpec[],
    )
    .option(
      '-p, --publish <[hostip:]hostport:guestport[/udp]>',
      'forward a host port to the guest (repeatable; user-mode NIC; host IP defaults to 127.0.0.1)',
      (v: string, prev: PortForward[]) => [...prev, parsePortOption(v)],
      [] as PortForward[],
    )
    .option('--net <none|user|tap:NAME[,queues=N]>', "attach the image's first NIC to this (or none)")
    .option('--strace', 'the kernel prints every system call of the app (osvb.strace=1)')
    .option('--dry-run', 'print the QEMU command line (Firecracker: the VM configuration JSON) and exit')
    .option(
      '--json',
      'newline-delimited JSON events on stdout, the last one the result (the guest console then goes to stderr)',
    )
    .option('-v, --verbose', 'say what is happening (accelerator, build steps)')
    .option('-d, --detach', 'run in the background (console to a log file; see osvb ps, logs, stop, rm)')
    .option('--name <name>', 'with -d: the instance name (default: <image>-<random>)')
    .action(async (imageDir: string | undefined, flags: RunFlags) => {
      process.exitCode = 0;
      let dir = imageDir;
      const say = (s: string) => process.stderr.write(s);
      if (dir !== undefined && flags.config !== undefined) {
        throw new RunError('give either an image directory or --config, not both', { exitCode: 2 });
      }
      if (dir?.startsWith('oci:')) {
        const { pullImage } = await import('../pkg/pull.js');
        dir = (await pullImage(dir.slice('oci:'.length))).dir;
      }
      if (dir === undefined) {
        const config = flags.config ?? 'app.yaml';
        if (flags.config === undefined && !existsSync(config)) {
          throw new RunError('nothing to run: no image directory given and no ./app.yaml', {
            exitCode: 2,
            hint: 'osvb run --config path/to/app.yaml, or osvb run IMAGE_DIR',
          });
        }
        const { progress } = await import('./progress.js');
        const bar = progress({ json: flags.json && !flags.dryRun });
        const r = await buildOrReuse(config, {
          srctree: flags.srctree,
          onProgress: flags.verbose ? (l) => say(`${l}\n`) : undefined,
          onUnit: (u) =>
            flags.json ? bar.event('unit', u) : flags.verbose ? undefined : bar.step(u.unit, u.done, u.total),
          onWarning: (t) => say(t.endsWith('\n') ? t : `${t}\n`),
          extraDisks: flags.disk,
        }).finally(() => bar.end());
        if (flags.verbose || (!r.upToDate && process.stderr.isTTY)) say(`osvb: ${buildSummary(r)}\n`);
        dir = r.outDir;
      }
      if (flags.hypervisor === 'firecracker') {
        const fc = await import('../hypervisor/firecracker.js');
        const append = [flags.append, flags.strace ? 'osvb.strace=1' : undefined].filter(Boolean).join(' ');
        const config = await fc.prepareFirecracker(dir, {
          memory: flags.memory,
          cpus: flags.cpus,
          append: append || undefined,
          disks: flags.disk,
        });
        if (flags.dryRun) {
          process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
          return;
        }
        process.exitCode = await fc.runFirecracker(config, process.env);
        return;
      }
      const out = (s: string) => (flags.json ? process.stderr.write(s) : process.stdout.write(s));
      const opts = {
        memory: flags.memory,
        cpus: flags.cpus,
        machine: flags.machine,
        disks: flags.disk,
        ports: flags.publish,
        net: flags.net === undefined ? undefined : (parseNetOption(flags.net) ?? null),
        boot: flags.boot,
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
      if (flags.detach) {
        const { startDetached } = await import('../hypervisor/instances.js');
        const inst = await startDetached(prep, { name: flags.name });
        process.stdout.write(
          flags.json ? `${JSON.stringify({ event: 'started', ...inst })}\n` : `${inst.name}\n`,
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
        process.stdout.write(`${JSON.stringify({ event: 'result', ...json })}\n`);
      }
      process.exitCode = r.status;
    });
}
