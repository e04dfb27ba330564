// rootfs: 9p, the novm way: the image's root filesystem is a host directory
// (IMAGE_DIR/rootfs) that QEMU serves over 9p; no initrd is passed. Busybox
// boots from it, and a file edited on the host is seen on the next run
// without a rebuild.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRun, runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';

const example = resolve(import.meta.dirname, '../../examples/busybox');

describe('rootfs: 9p', () => {
  let dir: string;
  let outDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'osvb-root9p-'));
    cpSync(example, dir, { recursive: true });
    const yaml = readFileSync(join(dir, 'app.yaml'), 'utf8').replace(
      /^name: busybox$/m,
      'name: busybox\nrootfs: 9p',
    );
    writeFileSync(join(dir, 'app.yaml'), yaml);
    outDir = (await buildApp(join(dir, 'app.yaml'), { jobs: 2 })).outDir;
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const boot = async (): Promise<{ out: string; status: number }> => {
    let out = '';
    const r = await runImage(outDir, {
      timeoutSeconds: 240,
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
    });
    return { out: out.replaceAll('\r', ''), status: r.status };
  };

  it('passes the directory over 9p and no initrd', async () => {
    const p = await prepareRun(outDir, { stdout: () => {}, stderr: () => {} });
    expect(p.argv).not.toContain('-initrd');
    expect(p.argv).toContain(`local,id=fsroot,path=${join(outDir, 'rootfs')},security_model=none`);
    expect(p.spec.cmdline).toContain('9p.root=root');
  });

  it('boots busybox from the host directory; an edit there shows on the next run', async () => {
    const first = await boot();
    expect(first.out).toContain('busybox: all applets ran');
    expect(first.status).toBe(0);
    const script = join(outDir, 'rootfs/app/script.sh');
    writeFileSync(script, `echo edited on the host\n${readFileSync(script, 'utf8')}`);
    const second = await boot();
    expect(second.out).toContain('edited on the host\n');
    expect(second.status).toBe(0);
  }, 600_000);
});
