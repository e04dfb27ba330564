import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { AppSpec } from '../config/appspec.js';
import type { DiskFormat } from '../pkg/disk.js';
import type { OciImage } from '../pkg/oci.js';
import { RunError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { packageRoot } from '../kernel/paths.js';
import { buildOrReuse, displayPath, parsePositiveInt } from './build.js';
import { packageVersion } from './main.js';

const FORMATS = ['raw', 'qcow2', 'vhdx', 'vmdk', 'oci', 'containerdisk'] as const;

interface PkgFlags {
  config?: string;
  srctree?: string;
  format: (typeof FORMATS)[number];
  out?: string;
  tag?: string;
  push?: boolean;
  mountFrom?: string;
  chunkSize?: number;
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
    .description(
      'package an image: a disk that boots under BIOS and UEFI (raw, qcow2, vhdx, vmdk), an OCI image or a KubeVirt containerDisk',
    )
    .argument('[image-dir]', 'an image directory written by osvb build (q35/pc, BOOT_MULTIBOOT=y)')
    .option('--config <file>', 'build the disk variant of this app.yaml (q35 profile, Multiboot) first')
    .option(
      '--srctree <dir>',
      'kernel source tree with modules/ and kconfig/ (default: the osvb installation)',
    )
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('qcow2'))
    .option('-o, --out <path>', 'output file, or OCI layout directory (default: <name>.<format> here)')
    .option('--tag <ref>', 'oci/containerdisk: HOST[:PORT]/REPO[:TAG] to push, or the tag in the layout')
    .option('--push', 'oci/containerdisk: push to the registry named by --tag')
    .option(
      '--mount-from <repo>',
      'push: mount blobs the registry has in this repository instead of uploading',
    )
    .option('--chunk-size <bytes>', 'push: upload blobs larger than this in chunks', parsePositiveInt)
    .option('--json', 'newline-delimited JSON events on stdout, the last one the result')
    .option('-v, --verbose', 'say what is happening')
    .action(async (imageDir: string | undefined, flags: PkgFlags) => {
      process.exitCode = 0;
      const say = (s: string) => process.stderr.write(s);
      if ((imageDir === undefined) === (flags.config === undefined)) {
        throw new RunError('give either an image directory or --config app.yaml', { exitCode: 2 });
      }
      const oci = flags.format === 'oci' || flags.format === 'containerdisk';
      if (!oci && (flags.push || flags.tag)) {
        throw new RunError('--tag and --push are for --format oci or containerdisk', { exitCode: 2 });
      }
      if (flags.push && !flags.tag) throw new RunError('--push needs --tag HOST/REPO[:TAG]', { exitCode: 2 });
      const { parseRef } = await import('../pkg/registry.js');
      const ref = flags.tag ? parseRef(flags.tag) : undefined;
      const disk = flags.format !== 'oci';
      let dir = imageDir;
      if (flags.config !== undefined) {
        if (!existsSync(flags.config)) throw new RunError(`${flags.config}: no such file`, { exitCode: 2 });
        const onProgress = flags.verbose ? (l: string) => say(`${l}\n`) : undefined;
        const onWarning = (t: string) => say(t.endsWith('\n') ? t : `${t}\n`);
        if (disk) {
          const { buildApp } = await import('../kernel/app.js');
          const r = await buildApp(flags.config, {
            srctree: resolve(flags.srctree ?? packageRoot()),
            cacheDir: cacheRoot(process.env),
            onProgress,
            onWarning,
            variant: { suffix: 'disk', adjust: diskVariant },
          });
          dir = r.outDir;
        } else {
          dir = (await buildOrReuse(flags.config, { srctree: flags.srctree, onProgress, onWarning })).outDir;
        }
      }
      const { packDisk } = await import('../pkg/disk.js');
      const { readManifest } = await import('../kernel/manifest.js');
      const manifest = await readManifest(resolve(dir!));
      const { progress: makeProgress } = await import('./progress.js');
      const bar = makeProgress({ json: flags.json });
      const progress = (s: string) => {
        bar.event('step', { step: s });
        if (flags.verbose) say(`osvb: pkg: ${s}\n`);
      };
      if (!oci) {
        const out = flags.out ?? `${manifest.name}.${flags.format}`;
        const r = await packDisk(dir!, { format: flags.format as DiskFormat, out, onProgress: progress });
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ event: 'result', ...r })}\n`
            : `${displayPath(r.file)}: ${r.format} disk, ${(r.virtualSize / 1048576).toFixed(0)} MiB (${(r.fileSize / 1048576).toFixed(1)} MiB on disk); boots under BIOS and UEFI\n`,
        );
        return;
      }
      const oc = await import('../pkg/oci.js');
      let img: OciImage;
      if (flags.format === 'containerdisk') {
        const { mkdtemp, rm } = await import('node:fs/promises');
        const { tmpdir } = await import('node:os');
        const { join } = await import('node:path');
        const work = await mkdtemp(join(tmpdir(), 'osvb-cdisk-'));
        try {
          const qcow = join(work, 'disk.qcow2');
          await packDisk(dir!, { format: 'qcow2', out: qcow, onProgress: progress });
          img = await oc.containerDisk(qcow, manifest, packageVersion());
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      } else {
        img = await oc.imageFromDir(resolve(dir!), packageVersion());
      }
      const summary: Record<string, unknown> = {
        format: flags.format,
        digest: img.digest,
        layers: img.manifest.layers.map((l) => ({
          digest: l.digest,
          size: l.size,
          title: l.annotations?.[oc.ANNOTATION.title],
        })),
        annotations: img.manifest.annotations,
      };
      if (flags.push && ref) {
        const { RegistryClient, formatRef } = await import('../pkg/registry.js');
        const client = new RegistryClient(ref.registry, {
          chunkSize: flags.chunkSize,
          onProgress: (digest, done, total) =>
            flags.json
              ? bar.event('upload', { digest, done, total })
              : bar.step(`push ${digest.slice(7, 19)}`, done, total),
        });
        const r = await client
          .push(ref.repository, ref.tag ?? 'latest', img, flags.mountFrom)
          .finally(() => bar.end());
        Object.assign(summary, {
          pushed: formatRef({ ...ref, digest: undefined }),
          uploaded: r.uploaded,
          skipped: r.skipped,
          mounted: r.mounted,
        });
        if (!flags.json) {
          process.stdout.write(
            `${formatRef({ ...ref, digest: img.digest })}: pushed (${r.uploaded.length} uploaded, ${r.mounted.length} mounted, ${r.skipped.length} already there)\n`,
          );
        }
      }
      if (flags.out || !flags.push) {
        const out = flags.out ?? `${manifest.name}.${flags.format}`;
        await oc.writeLayout(img, resolve(out), ref?.tag ?? 'latest');
        summary.layout = resolve(out);
        if (!flags.json)
          process.stdout.write(`${displayPath(resolve(out))}: OCI image layout, ${img.digest}\n`);
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'result', ...summary })}\n`);
    });
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('fetch an osvb OCI image (every digest verified) into the cache or a directory')
    .argument('<ref>', 'HOST[:PORT]/REPO[:TAG][@DIGEST], or oci-layout:DIR[:TAG]')
    .option('-o, --out <dir>', 'write the image directory here instead of the cache')
    .option('--json', 'print the result as JSON')
    .action(async (ref: string, flags: { out?: string; json?: boolean }) => {
      process.exitCode = 0;
      const { pullImage } = await import('../pkg/pull.js');
      const r = await pullImage(ref, { outDir: flags.out ? resolve(flags.out) : undefined });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ event: 'result', ref, digest: r.digest, image: r.dir, name: r.manifest.name })}\n`
          : `${ref}: ${r.digest} -> ${displayPath(r.dir)}\n`,
      );
    });
}
