// Runtime disposal: an image with every platform's code (kvmclock's, Xen's, ...)
// boots under QEMU's TCG, where no hypervisor signature is found, and frees all
// of it. The amount printed must equal the .platform.* sections in the ELF; the
// pages must come back from the allocator and be gone from the kernel's text.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/kernel/app.js';
import { parseElf, platformSizes } from '../../src/kernel/elf.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { runImage } from '../../src/hypervisor/run.js';
import { inspectText } from '../../src/cli/inspect.js';
import { tempDir } from '../kernel/helpers.js';

// Every platform module there is: a new one adds its symbol here.
const ALL_PLATFORMS = `name: allplatforms
kernel:
  config:
    SELFTEST: y
    KVMCLOCK: y
    PLATFORM_XEN: y
    HYPERV: y
  cmdline: osvb.selftest=all
`;

let image: string;
let sizes: Record<string, number>;
beforeAll(async () => {
  const dir = await tempDir('osvb-disposal-');
  await writeFile(join(dir, 'app.yaml'), ALL_PLATFORMS);
  image = join(dir, 'img');
  await buildApp(join(dir, 'app.yaml'), { outDir: image, cacheDir: join(dir, 'cache'), jobs: 2 });
  sizes = platformSizes(parseElf(await readFile(join(image, 'kernel.elf')), 'kernel.elf'));
}, 300_000);

async function boot(append: string): Promise<{ out: string; status: number }> {
  let out = '';
  const r = await runImage(image, {
    append,
    timeoutSeconds: 90,
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      out += s;
    },
  });
  return { out: out.replaceAll('\r', ''), status: r.status };
}

describe('runtime disposal of unused platform code', () => {
  it('lays out each platform in page-aligned sections and inspect shows their sizes', async () => {
    expect(Object.keys(sizes).sort()).toEqual(['hyperv', 'kvm', 'vmware', 'xen']);
    for (const v of Object.values(sizes)) expect(v % 4096).toBe(0);
    expect(sizes.kvm).toBeGreaterThan(0);
    expect(sizes.hyperv).toBeGreaterThan(4096 * 4); // text (with the hypercall page), rodata, data, bss
    expect(sizes.xen).toBeGreaterThan(4096 * 4); // text, rodata, data, bss and the hypercall page
    const m = await readManifest(image);
    expect(m.kernel.platforms).toEqual(sizes);
    expect(inspectText(m, image)).toContain(
      `platforms kvm ${sizes.kvm}, xen ${sizes.xen}, hyperv ${sizes.hyperv}, vmware ${sizes.vmware} bytes`,
    );
  });

  it('frees every platform under TCG, exactly the sections in the ELF, and reuses the pages', async () => {
    const b = await boot('osvb.loglevel=5');
    const m = /hypervisor: disposed (.*): (\d+) bytes freed/.exec(b.out);
    expect(m, b.out).not.toBeNull();
    const freed: Record<string, number> = {};
    for (const part of m![1]!.split(', ')) {
      const [name, bytes] = part.split(' ');
      freed[name!] = Number(bytes);
    }
    expect(freed).toEqual(sizes);
    expect(Number(m![2])).toBe(Object.values(sizes).reduce((a, v) => a + v, 0));
    const pages = Object.values(sizes).reduce((a, v) => a + v, 0) / 4096;
    const reuse = /hypervisor: (\d+) disposed pages released, (\d+) allocated here again, (\d+) held/.exec(
      b.out,
    );
    expect(reuse, b.out).not.toBeNull();
    expect(Number(reuse![1])).toBe(pages);
    expect(Number(reuse![2]) + Number(reuse![3])).toBe(pages);
    expect(b.out).toContain('selftest: hypervisor.dispose_reuse ... ok');
    expect(b.out).toMatch(/selftest: \d+ passed, 0 failed/);
    expect(b.status).toBe(0);
  }, 120_000);

  it('touching freed platform text faults', async () => {
    const b = await boot('osvb.selftest=hypervisor.dispose_fault');
    const at = /hypervisor: reading (\w+)'s freed text at ([0-9a-f]{16})/.exec(b.out);
    expect(at, b.out).not.toBeNull();
    expect(b.out).toContain(`page fault at ${at![2]}: page not present on read, kernel mode`);
    expect(b.status).toBe(125);
  }, 120_000);
});
