// `rootfs: zfs` end to end on the host: osvb builds the Python example's root
// filesystem as a ZFS pool image, and OpenZFS's zdb finds every block intact
// and exactly the manifest's file list in it.

import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import type { Manifest } from '../../src/kernel/manifest.js';
import { zdbListing, zdbVerify } from './zdb.js';

const example = resolve(import.meta.dirname, '../../examples/python');

describe('rootfs: zfs', () => {
  let dir: string;
  let outDir: string;
  let manifest: Manifest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'osvb-zfs-build-'));
    await copyFile(join(example, 'main.py'), join(dir, 'main.py'));
    await writeFile(
      join(dir, 'app.yaml'),
      'name: pyzfs\nrootfs: zfs\napp:\n  runtime: python\n  script: main.py\nrun:\n  memory: 256M\n',
    );
    const r = await buildApp(join(dir, 'app.yaml'), { jobs: 2 });
    outDir = r.outDir;
    manifest = r.manifest;
  }, 600_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes rootfs.zfs and records it in the manifest', () => {
    expect(manifest.rootfs?.file).toBe('rootfs.zfs');
    expect(manifest.rootfs?.format).toBe('zfs');
    expect(manifest.rootfs?.command).toEqual(['/usr/bin/python3', '/app/main.py']);
  });

  it('zdb verifies the pool and lists exactly the manifest files', () => {
    zdbVerify(outDir, 'osvb');
    const listing = zdbListing(outDir, 'osvb');
    const want = manifest.rootfs!.files;
    expect(listing.size).toBe(want.length + 1); // + the root directory
    for (const f of want) {
      const got = listing.get(f.path);
      expect(got, f.path).toBeDefined();
      expect(got!.mode & 0o7777).toBe(Number.parseInt(f.mode, 8));
      const type = f.kind === 'dir' ? 0o040000 : f.kind === 'file' ? 0o100000 : 0o120000;
      expect(got!.mode & 0o170000).toBe(type);
      if (f.kind === 'file') expect(got!.size).toBe(f.size);
    }
  }, 600_000);

  it('osvb run attaches the pool read-only as vda and mounts it as / (zfs.root=vda, no initrd)', async () => {
    const p = await prepareRun(outDir, { stdout: () => {}, stderr: () => {} });
    expect(p.argv).not.toContain('-initrd');
    expect(p.argv.join(' ')).toContain(
      `file=${join(outDir, 'rootfs.zfs')},if=none,id=disk0,format=raw,readonly=on`,
    );
    expect(p.spec.cmdline).toMatch(/(^| )zfs\.root=vda( |$)/);
  });
});
