// Programs on 2 and 4 vCPUs (QEMU TCG runs each vCPU on a host thread, so the
// races are real): a pthreads program with one CPU-bound thread per CPU, an
// atomic counter and a futex barrier; Go with GOMAXPROCS=2; busybox nproc.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, PROGRAMS, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir('osvb-smp-');
  image = await buildKernel(dir);
}, 300_000);

describe('SMP: the application sees and uses N CPUs', () => {
  for (const cpus of [2, 4]) {
    it(`pthreads on ${cpus} vCPUs: right count, more than one CPU used, N reported everywhere`, async () => {
      const exe = compile(dir, 'smp.c', 'smp', 'gcc', ['-pthread']);
      const fs = await packRootfs(dir, 'smp', { exec: exe });
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['400000']), {
        cpus,
        timeoutSeconds: 150,
      });
      expect(b.lines, b.out).toContain(
        `nprocs onln=${cpus} conf=${cpus} affinity=${cpus} cpuinfo=${cpus} online=0-${cpus - 1}`,
      );
      const threads = b.lines.filter((l) => l.startsWith('thread '));
      expect(threads).toHaveLength(cpus);
      for (const t of threads) expect(t).toMatch(/^thread \d+ cpus( \d+)+$/);
      expect(b.lines).toContain(`counter ${cpus * 400000} expected ${cpus * 400000}`);
      const used = Number(/^cpus used (\d+)$/m.exec(b.out)?.[1]);
      expect(used).toBeGreaterThan(1);
      expect(used).toBeLessThanOrEqual(cpus);
      expect(b.out).not.toMatch(/unimplemented syscall/);
      expect(b.status).toBe(0);
    }, 200_000);
  }

  it('munmap, mprotect, mremap and madvise reach the TLB of a thread on the other CPU', async () => {
    const exe = compile(dir, 'tlb.c', 'tlb', 'gcc', ['-pthread']);
    const fs = await packRootfs(dir, 'tlb', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
    for (const name of ['munmap', 'mprotect', 'mremap', 'madvise_dontneed'])
      expect(b.lines, b.out).toContain(`ok ${name}`);
    expect(b.status).toBe(0);
  }, 200_000);

  it('Go with GOMAXPROCS=2 on 2 vCPUs runs its goroutines to the right sum', async () => {
    const exe = join(dir, 'gosmp');
    execFileSync('go', ['build', '-o', exe, '.'], {
      cwd: join(PROGRAMS, 'gosmp'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const fs = await packRootfs(dir, 'gosmp', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command, ['2000000'], ['GOMAXPROCS=2']), {
      cpus: 2,
      timeoutSeconds: 150,
    });
    expect(b.lines).toContain('go numcpu 2 gomaxprocs 2');
    expect(b.out).toMatch(/^go sum (\d+) want \1 parallel ms \d+$/m);
    expect(b.status).toBe(0);
  }, 200_000);

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'Python on 2 vCPUs: os.cpu_count() and its threads',
    async () => {
      const fs = await packRootfs(dir, 'pysmp', {
        runtime: 'python',
        exec: '/usr/bin/python3',
        script: join(PROGRAMS, 'smp.py'),
      });
      const b = await boot(image, fs.archive, execCmdline(fs.command), {
        cpus: 2,
        memory: '512M',
        timeoutSeconds: 240,
      });
      expect(b.lines, b.out).toContain('python cpus 2 2');
      const want = 2 * ((20000 * 19999) / 2);
      expect(b.lines).toContain(`python total ${want} want ${want}`);
      expect(b.status).toBe(0);
    },
    300_000,
  );

  it.skipIf(!existsSync('/bin/busybox'))(
    'busybox nproc prints 4 on 4 vCPUs',
    async () => {
      const fs = await packRootfs(dir, 'nproc', { exec: '/bin/busybox' });
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['nproc']), { cpus: 4 });
      expect(b.lines).toContain('4');
      expect(b.status).toBe(0);
    },
    200_000,
  );
});
