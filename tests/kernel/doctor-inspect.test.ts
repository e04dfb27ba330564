import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { doctorFailed, runChecks } from '../../src/kernel/doctor.js';
import { buildFixture, tempDir } from './helpers.js';

let work: string;
beforeAll(async () => {
  work = await tempDir();
  process.env.XDG_CACHE_HOME = join(work, 'xdg');
});
afterEach(() => vi.restoreAllMocks());

function captureStdout(): string[] {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  return out;
}

describe('doctor', () => {
  it('passes on this host and reports every check', async () => {
    const checks = await runChecks(process.env, join(work, 'no-kvm'));
    expect(checks.map((c) => c.name)).toEqual([
      'gcc',
      'ld',
      'nm',
      'addr2line',
      'qemu-system-x86_64',
      'kvm',
      'qboot',
      'pkg: grub-mkimage',
      'pkg: mformat',
      'pkg: mmd',
      'pkg: mcopy',
      'pkg: qemu-img',
      'pkg: GRUB i386-pc',
      'pkg: GRUB x86_64-efi',
      'ovmf',
    ]);
    expect(doctorFailed(checks)).toBe(false);
    const kvm = checks.find((c) => c.name === 'kvm')!;
    expect(kvm).toMatchObject({ ok: false, required: false });
    expect(kvm.detail).toMatch(/TCG/);
  });

  it('fails with the package to install when gcc and qemu are missing', async () => {
    const bin = join(work, 'bin');
    await mkdir(bin);
    await symlink('/usr/bin/ld', join(bin, 'ld'));
    const checks = await runChecks({ PATH: bin, HOME: work });
    expect(doctorFailed(checks)).toBe(true);
    expect(checks.find((c) => c.name === 'gcc')).toMatchObject({ ok: false, required: true, package: 'gcc' });
    // What osvb pkg needs is optional, and names its Debian package.
    expect(checks.find((c) => c.name === 'pkg: mformat')).toMatchObject({
      ok: false,
      required: false,
      package: 'mtools',
    });
    expect(checks.find((c) => c.name === 'nm')).toMatchObject({
      ok: false,
      required: false,
      package: 'binutils',
    });
    expect(checks.find((c) => c.name === 'qemu-system-x86_64')).toMatchObject({
      ok: false,
      package: 'qemu-system-x86',
      fix: 'install it: apt-get install qemu-system-x86',
    });
  });

  it('osvb doctor exits 1 and prints FAIL lines when PATH lacks the tools', async () => {
    const old = await (async () => {
      const bin = join(work, 'oldq');
      await mkdir(bin);
      await writeFile(join(bin, 'qemu-system-x86_64'), '#!/bin/sh\necho "QEMU emulator version 5.2.0"\n');
      await chmod(join(bin, 'qemu-system-x86_64'), 0o755);
      return bin;
    })();
    const path = process.env.PATH;
    process.env.PATH = old;
    const out = captureStdout();
    try {
      expect(await main(['node', 'osvb', 'doctor'])).toBe(1);
    } finally {
      process.env.PATH = path;
    }
    const text = out.join('');
    expect(text).toMatch(/^FAIL gcc +gcc not found \(not on PATH\); install it: apt-get install gcc$/m);
    expect(text).toMatch(/^FAIL qemu-system-x86_64 .*QEMU emulator version 5\.2\.0.*need 7 or later/m);
  });

  it('osvb doctor --json is machine-readable and exits 0 here', async () => {
    const out = captureStdout();
    expect(await main(['node', 'osvb', 'doctor', '--json'])).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(j.ok).toBe(true);
    expect(j.checks.find((c: { name: string }) => c.name === 'qemu-system-x86_64').ok).toBe(true);
  });
});

describe('inspect', () => {
  it('prints the manifest summary and per-module sizes that add up', async () => {
    const img = join(work, 'img');
    const r = await buildFixture({ cacheDir: join(work, 'cache'), outDir: img, cmdline: 'osvb.loglevel=7' });
    const out = captureStdout();
    expect(await main(['node', 'osvb', 'inspect', img])).toBe(0);
    const text = out.join('');
    expect(text).toContain('name      fixture\n');
    expect(text).toContain('cmdline   osvb.loglevel=7\n');
    expect(text).toMatch(/PVH entry 0x100000/);
    const arch = r.manifest.modules.find((m) => m.name === 'arch')!;
    expect(arch.text).toBeGreaterThan(0);
    expect(text).toMatch(
      new RegExp(
        `^arch +2 +${arch.text} +${arch.data} +${arch.bss} +${arch.text + arch.data + arch.bss}$`,
        'm',
      ),
    );
    expect(text).toMatch(/^fixture +3 /m);
  });

  it('--json returns the manifest; a non-image is one clear error', async () => {
    const img = join(work, 'img');
    const out = captureStdout();
    expect(await main(['node', 'osvb', 'inspect', img, '--json'])).toBe(0);
    expect(JSON.parse(out.join('')).format).toBe('osvb-image-1');
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    await writeFile(join(work, 'bad.json'), '{');
    const bad = join(work, 'badimg');
    await mkdir(bad);
    await writeFile(join(bad, 'manifest.json'), '{"format": "other"}');
    expect(await main(['node', 'osvb', 'inspect', bad])).toBe(1);
    expect(err.join('')).toBe(
      `osvb: ${bad}/manifest.json: manifest format is not osvb-image-1; rebuild the image with this version of osvb\n`,
    );
  });
});
