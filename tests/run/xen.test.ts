// `osvb run --hypervisor xen`: the xl domain configuration it writes (and
// prints with --dry-run), checked against xl.cfg(5)'s keys and disk/vif
// syntax, and the console filter that turns the kernel's exit record on the
// PV console into osvb's exit status.

import { describe, expect, it } from 'vitest';
import { RunError } from '../../src/errors.js';
import { consoleFilter, consoleRecord, runXen, xlConfig } from '../../src/hypervisor/xen.js';
import type { Manifest } from '../../src/kernel/manifest.js';

const manifest = {
  format: 'osvb-image-1',
  name: 'demo',
  kernel: { file: 'kernel.elf', cmdline: 'osvb.selftest=all' },
  run: { machine: 'microvm', memory: '1G', cpus: 2 },
  rootfs: { file: 'rootfs.cpio' },
} as unknown as Manifest;

const disk = { file: '/srv/data.img', format: 'raw', interface: 'virtio', readonly: true } as const;
const base = { imageDir: '/img/demo', manifest, cmdline: 'osvb.selftest=all quiet', name: 'osvb-demo-1' };

/** key = value lines of an xl configuration (comments dropped). */
function parse(cfg: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of cfg.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const m = /^([a-z_]+) = (.*)$/.exec(l);
    expect(m, l).not.toBeNull();
    out[m![1]!] = m![2]!;
  }
  return out;
}

describe('xlConfig', () => {
  it('writes a PVH domain with the image kernel, ramdisk, command line, memory, vCPUs, disks and vifs', () => {
    const cfg = xlConfig({
      ...base,
      disks: [disk, { ...disk, file: '/srv/b.qcow2', format: 'qcow2', readonly: false }],
      nics: [
        { mode: 'user', queues: 1 },
        { mode: 'tap', tap: 'br-test', queues: 1 },
      ],
    });
    expect(parse(cfg)).toEqual({
      name: '"osvb-demo-1"',
      type: '"pvh"',
      kernel: '"/img/demo/kernel.elf"',
      ramdisk: '"/img/demo/rootfs.cpio"',
      cmdline: '"osvb.selftest=all quiet"',
      memory: '1024',
      vcpus: '2',
      disk: '[ "format=raw, vdev=xvda, access=ro, target=/srv/data.img", "format=qcow2, vdev=xvdb, access=rw, target=/srv/b.qcow2" ]',
      vif: '[ "bridge=xenbr0", "bridge=br-test" ]',
      on_poweroff: '"destroy"',
      on_reboot: '"destroy"',
      on_crash: '"destroy"',
    });
  });

  it('takes --memory and --cpus over the manifest, and leaves ramdisk out without a rootfs', () => {
    const cfg = parse(
      xlConfig({
        ...base,
        manifest: { ...manifest, rootfs: undefined },
        memory: '96M',
        cpus: 1,
        disks: [],
        nics: [],
      }),
    );
    expect(cfg.memory).toBe('96');
    expect(cfg.vcpus).toBe('1');
    expect(cfg.disk).toBe('[  ]');
    expect('ramdisk' in cfg).toBe(false);
  });

  it('names disks xvda.. xvdz, xvdaa', () => {
    const disks = Array.from({ length: 28 }, (_, i) => ({ ...disk, file: `/d/${i}` }));
    const d = parse(xlConfig({ ...base, disks, nics: [] })).disk!;
    expect(d).toContain('vdev=xvdz, access=ro, target=/d/25"');
    expect(d).toContain('vdev=xvdaa, access=ro, target=/d/26"');
    expect(d).toContain('vdev=xvdab, access=ro, target=/d/27"');
  });

  it('refuses what xl cannot carry, with one clear error', () => {
    expect(() => xlConfig({ ...base, cmdline: 'a="b c"', disks: [], nics: [] })).toThrow(
      /kernel command line "a="b c"" has a quote, backslash or newline/,
    );
    expect(() => xlConfig({ ...base, cpus: 0, disks: [], nics: [] })).toThrow(RunError);
    expect(() => xlConfig({ ...base, memory: '1536K', disks: [], nics: [] })).toThrow(/whole number of MiB/);
  });
});

describe('the PV console exit record', () => {
  it('reads the status lines the kernel writes', () => {
    expect(consoleRecord('osvb-exit: 7')).toBe(7);
    expect(consoleRecord('osvb-exit: 0\r')).toBe(0);
    expect(consoleRecord('osvb-panic')).toBe(125);
    expect(consoleRecord('osvb-exit: 256')).toBeUndefined();
    expect(consoleRecord('hello osvb-exit: 3')).toBeUndefined();
  });

  it('passes the console through without the record, split anywhere', () => {
    let out = '';
    const f = consoleFilter((s) => {
      out += s;
    });
    const text = 'hello\nprompt> osvb-exit: 1 is text\nosvb-exit: 42\n';
    for (const ch of text) f.push(ch);
    f.end();
    expect(out).toBe('hello\nprompt> osvb-exit: 1 is text\n');
    expect(f.status()).toBe(42);
  });
});

describe('runXen', () => {
  it('without xl on PATH: exit 127 and a hint to use --dry-run', async () => {
    const cfg = xlConfig({ ...base, disks: [], nics: [] });
    const err = await runXen(cfg, { PATH: '/nonexistent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunError);
    expect((err as RunError).exitCode).toBe(127);
    expect((err as RunError).message).toContain('xl is not on PATH');
    expect((err as RunError).hint).toContain('--dry-run');
  });

  it('runs xl create -c on the written file and exits with the console record', async () => {
    const { mkdtemp, writeFile, chmod } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const bin = await mkdtemp(join(tmpdir(), 'osvb-fake-xl-'));
    // A stand-in xl: checks its arguments and the file, prints a console with a record.
    await writeFile(
      join(bin, 'xl'),
      '#!/bin/sh\n[ "$1 $2" = "create -c" ] || exit 9\ngrep -q \'^type = "pvh"$\' "$3" || exit 8\nprintf \'hello\\nosvb-exit: 7\\n\'\n',
    );
    await chmod(join(bin, 'xl'), 0o755);
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      writes.push(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      const status = await runXen(xlConfig({ ...base, disks: [], nics: [] }), {
        PATH: `${bin}:/usr/bin:/bin`,
      });
      expect(status).toBe(7);
    } finally {
      process.stdout.write = orig;
    }
    expect(writes.join('')).toBe('hello\n');
  });
});
