import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Manifest } from '../kernel/manifest.js';

function table(rows: string[][], rightAlign: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (rightAlign[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function inspectText(m: Manifest, dir: string): string {
  const lines = [
    `image     ${dir}`,
    `name      ${m.name}`,
    `built     ${m.builtAt ?? '(no date recorded: SOURCE_DATE_EPOCH was not set)'}`,
    `config    ${m.configHash.slice(0, 16)}`,
    `kernel    ${m.kernel.file}: ${m.kernel.size} bytes (${m.kernel.loadSize} loaded), entry ${m.kernel.entry}, PVH entry ${m.kernel.pvhEntry}`,
    `cmdline   ${m.kernel.cmdline === '' ? '(empty)' : m.kernel.cmdline}`,
    `run       ${m.run.machine}, ${m.run.memory}, ${m.run.cpus} cpu${m.run.cpus === 1 ? '' : 's'}`,
    `tools     ${m.tools.gcc}; ${m.tools.ld}; ${m.tools.qemu ?? 'no QEMU'}`,
  ];
  const plats = Object.entries(m.kernel.platforms ?? {});
  if (plats.length > 0) {
    const list = plats.map(([name, bytes]) => `${name} ${bytes}`).join(', ');
    lines.push(`platforms ${list} bytes (each freed at boot unless its hypervisor is detected)`);
  }
  if (m.rootfs) {
    const n = m.rootfs.files.filter((f) => f.kind === 'file').length;
    lines.push(
      `rootfs    ${m.rootfs.file}: ${m.rootfs.size} bytes, ${n} files; runs ${m.rootfs.command.join(' ')}`,
    );
  }
  const rows = [['module', 'objects', 'text', 'data', 'bss', 'total']];
  let t = { text: 0, data: 0, bss: 0, objects: 0 };
  for (const mod of m.modules) {
    rows.push([
      mod.name,
      String(mod.objects),
      String(mod.text),
      String(mod.data),
      String(mod.bss),
      String(mod.text + mod.data + mod.bss),
    ]);
    t = {
      text: t.text + mod.text,
      data: t.data + mod.data,
      bss: t.bss + mod.bss,
      objects: t.objects + mod.objects,
    };
  }
  rows.push([
    '(all)',
    String(t.objects),
    String(t.text),
    String(t.data),
    String(t.bss),
    String(t.text + t.data + t.bss),
  ]);
  return `${lines.join('\n')}\n\n${table(rows, [false, true, true, true, true, true])}\n`;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what an image holds: manifest summary and the size each module adds')
    .argument('<image-dir>', 'an image directory written by osvb build')
    .option('--json', 'print the manifest as JSON')
    .option('--html <file>', 'write a self-contained page with a treemap of the image size')
    .action(async (imageDir: string, flags: { json?: boolean; html?: string }) => {
      process.exitCode = 0;
      const { readManifest } = await import('../kernel/manifest.js');
      const dir = resolve(imageDir);
      const m = await readManifest(dir);
      if (flags.html) {
        const { treemapHtml } = await import('../inspect/treemap.js');
        const { writeFileAtomic } = await import('../kernel/atomic.js');
        await writeFileAtomic(resolve(flags.html), treemapHtml(m));
        process.stdout.write(`${flags.html}: treemap of ${m.name}\n`);
        return;
      }
      process.stdout.write(flags.json ? `${JSON.stringify(m, null, 2)}\n` : inspectText(m, dir));
    });
}
