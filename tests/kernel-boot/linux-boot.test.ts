// The Linux/x86 boot protocol path: osvb build writes a bzImage beside
// kernel.elf, and `--boot linux` hands QEMU the bzImage, which it loads through
// linuxboot.rom (pc, q35) or qboot (microvm) into our real-mode setup code, so
// the PVH note is never used. The kernel says which protocol it came through.

import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/kernel/app.js';
import { BZIMAGE_FILE } from '../../src/kernel/bzimage.js';
import { parseElf } from '../../src/kernel/elf.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { consoleFilter } from '../../src/hypervisor/console-record.js';
import { FC_RECORD_WORD } from '../../src/hypervisor/firecracker.js';
import { findQboot } from '../../src/hypervisor/qemu.js';
import { runImage } from '../../src/hypervisor/run.js';
import { tempDir } from '../kernel/helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const MACHINES = ['pc', 'q35', 'microvm'] as const;

let dir: string;
let selftest: string;
let hello: string;

beforeAll(async () => {
  dir = await tempDir('osvb-linux-boot-');
  const cacheDir = join(dir, 'cache');
  selftest = join(dir, 'img', 'selftest');
  await buildApp(join(EXAMPLES, 'selftest/app.yaml'), { outDir: selftest, cacheDir, jobs: 2 });
  const copy = join(dir, 'hello-c');
  cpSync(join(EXAMPLES, 'hello-c'), copy, { recursive: true, filter: (s) => !/\/(build|\.osvb)$/.test(s) });
  execFileSync('make', ['-s', '-C', copy, 'build/hello-static'], { stdio: ['ignore', 'ignore', 'inherit'] });
  hello = join(dir, 'img', 'hello');
  await buildApp(join(copy, 'app.static.yaml'), { outDir: hello, cacheDir, jobs: 2 });
}, 600_000);

async function boot(imageDir: string, machine: (typeof MACHINES)[number]) {
  let out = '';
  const r = await runImage(imageDir, {
    boot: 'linux',
    machine,
    timeoutSeconds: 120,
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      out += s;
    },
  });
  out = out.replaceAll('\r', '');
  return { ...r, out, lines: out.split('\n') };
}

describe('bzImage', () => {
  it('has a 2.12 setup header and the protected-mode image is kernel.elf loaded at 1 MiB', async () => {
    const m = await readManifest(selftest);
    expect(m.kernel.bzImage?.file).toBe(BZIMAGE_FILE);
    const bz = await readFile(join(selftest, BZIMAGE_FILE));
    expect(m.kernel.bzImage?.size).toBe(bz.length);
    expect(bz.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(bz.toString('latin1', 0x202, 0x206)).toBe('HdrS');
    expect(bz.readUInt16LE(0x206)).toBeGreaterThanOrEqual(0x020c);
    expect(bz[0x211]! & 0x01).toBe(0x01); // LOADED_HIGH
    expect(bz.readUInt16LE(0x236) & 0x01).toBe(0x01); // XLF_KERNEL_64
    expect(bz.readUInt32LE(0x214)).toBe(0x100000); // code32_start
    expect(bz.readBigUInt64LE(0x258)).toBe(0x100000n); // pref_address
    const setupSize = (bz[0x1f1]! + 1) * 512;
    const prot = bz.subarray(setupSize);
    expect(bz.readUInt32LE(0x1f4)).toBe(Math.ceil(prot.length / 16)); // syssize
    const elf = parseElf(await readFile(join(selftest, 'kernel.elf')), 'kernel.elf');
    const loads = elf.body.programs.filter((p) => p.type === 'load');
    for (const p of loads) {
      expect(prot.subarray(p.paddr - 0x100000, p.paddr - 0x100000 + p.filesz).equals(p.data)).toBe(true);
    }
    const memEnd = Math.max(...loads.map((p) => p.paddr + p.memsz));
    expect(bz.readUInt32LE(0x260)).toBe(memEnd - 0x100000); // init_size covers .bss
    expect(bz.readUInt32LE(0x238)).toBe(4095); // cmdline_size
  });
});

describe.each(MACHINES)('--boot linux on %s', (machine) => {
  it('the self-tests pass, booted through boot_params', async () => {
    const b = await boot(selftest, machine);
    expect(b.argv[b.argv.indexOf('-kernel') + 1]).toBe(join(selftest, BZIMAGE_FILE));
    expect(b.out).toMatch(/osvb: booting \(linux, \d+ MiB RAM\)/);
    expect(b.lines).toContain('selftest: boot.linux_params ... ok');
    expect(b.lines).toContain('selftest: boot.cmdline ... ok'); // the command line came through cmd_line_ptr
    expect(b.lines).toContain('selftest: boot.memory_map ... ok'); // and the memory map through E820
    expect(b.out).toMatch(/selftest: \d+ passed, 0 failed/);
    expect(b.status).toBe(0);
  }, 180_000);

  it('static hello: argv, env, the initrd and exit status 7', async () => {
    expect((await readManifest(hello)).rootfs).toBeDefined();
    const b = await boot(hello, machine);
    expect(b.argv).toContain('-initrd'); // ramdisk_image/size in boot_params
    expect(b.out).toMatch(/osvb: booting \(linux, \d+ MiB RAM\)/);
    expect(b.lines).toContain('argv[1]=7');
    expect(b.lines).toContain('argv[2]=two words');
    expect(b.lines).toContain('env: GREETING=hello from the host');
    expect(b.status).toBe(7);
  }, 180_000);
});

describe('a Firecracker-like machine: one UART, no COM2, no exit device', () => {
  it('osvb.record=console puts the exit record on the console, which the runner takes out', async () => {
    const m = await readManifest(hello);
    const qboot = await findQboot('/usr/bin/qemu-system-x86_64');
    const out = execFileSync(
      'qemu-system-x86_64',
      [
        ...[
          '-M',
          'microvm',
          ...(qboot ? ['-bios', qboot] : []),
          '-accel',
          'tcg',
          '-cpu',
          'max',
          '-m',
          '128M',
        ],
        ...['-nodefaults', '-no-user-config', '-nographic', '-no-reboot', '-serial', 'stdio'],
        ...['-kernel', join(hello, m.kernel.file), '-initrd', join(hello, m.rootfs!.file)],
        ...['-append', `${m.kernel.cmdline} ${FC_RECORD_WORD}`],
      ],
      { encoding: 'latin1', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let shown = '';
    const f = consoleFilter((s) => {
      shown += s;
    });
    f.push(out);
    f.end();
    expect(f.status()).toBe(7);
    expect(shown.replaceAll('\r', '')).toContain('argv[1]=7');
    expect(shown).not.toContain('osvb-exit');
  }, 180_000);
});
