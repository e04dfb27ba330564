import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { AppSpec } from '../config/appspec.js';
import { RunError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { packageRoot } from '../kernel/paths.js';
import { displayPath } from './build.js';

const FORMATS = ['raw', 'qcow2', 'vhdx', 'vmdk'] as const;

interface PkgFlags {
  config?: string;
  srctree?: string;
  format: (typeof FORMATS)[number];
  out?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * The disk variant of an app: firmware boots disks on q35/pc only, and GRUB
 * needs the Multiboot header. Explicit choices in app.yaml are kept.
 */
export function diskVariant(spec: AppSpec): AppSpec {
  const profile = spec.kernel.profile === 'microvm' ? 'q35' : spec.kernel.profile;
  const config = spec.kernel.config.some((c) => c.symbol === 'BOOT_MULTIBOOT')
    ? spec.kernel.config
    : [
        ...spec.kernel.config,
        {
          symbol: 'BOOT_MULTIBOOT',
          value: { kind: 'tristate' as const, text: 'y' },
          loc: { file: spec.file },
        },
      ];
  return { ...spec, kernel: { ...spec.kernel, profile, config } };
}

export function registerPkg(program: Command): void {
  program
    .command('pkg')
    .description('package an image: a disk that boots by itself under BIOS and UEFI (raw, qcow2, vhdx, vmdk)')
    .argument('[image-dir]', 'an image directory written by osvb build (q35/pc, BOOT_MULTIBOOT=y)')
    .option('--config <file>', 'build the disk variant of this app.yaml (q35 profile, Multiboot) first')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('qcow2'))
    .option('-o, --out <file>', 'output file (default: <name>.<format> in the current directory)')
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'say what is happening')
    .action(async (imageDir: string | undefined, flags: PkgFlags) => {
      process.exitCode = 0;
      const say = (s: string) => process.stderr.write(s);
      if ((imageDir === undefined) === (flags.config === undefined)) {
        throw new RunError('give either an image directory or --config app.yaml', { exitCode: 2 });
      }
      let dir = imageDir;
      if (flags.config !== undefined) {
        if (!existsSync(flags.config)) throw new RunError(`${flags.config}: no such file`, { exitCode: 2 });
        const { buildApp } = await import('../kernel/app.js');
        const r = await buildApp(flags.config, {
          srctree: resolve(flags.srctree ?? packageRoot()),
          cacheDir: cacheRoot(process.env),
          onProgress: flags.verbose ? (l) => say(`${l}\n`) : undefined,
          onWarning: (t) => say(t.endsWith('\n') ? t : `${t}\n`),
          variant: { suffix: 'disk', adjust: diskVariant },
        });
        dir = r.outDir;
      }
      const { packDisk } = await import('../pkg/disk.js');
      const { readManifest } = await import('../kernel/manifest.js');
      const name = (await readManifest(resolve(dir!))).name;
      const out = flags.out ?? `${name}.${flags.format}`;
      const r = await packDisk(dir!, {
        format: flags.format,
        out,
        onProgress: flags.verbose ? (s) => say(`osvb: pkg: ${s}\n`) : undefined,
      });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `${displayPath(r.file)}: ${r.format} disk, ${(r.virtualSize / 1048576).toFixed(0)} MiB (${(r.fileSize / 1048576).toFixed(1)} MiB on disk); boots under BIOS and UEFI\n`,
      );
    });
}
