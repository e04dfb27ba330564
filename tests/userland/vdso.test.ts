// The vDSO: glibc and Go read the clock without entering the kernel
// (counted with osvb.strace=1, which prints every system call), and the
// vDSO's clocks agree with the system call's and never go backwards.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, PROGRAMS, packRootfs, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir();
  image = await buildKernel(dir);
}, 300_000);

/** Lines of an osvb.strace=1 trace that are calls to name. */
function traced(lines: string[], name: string): number {
  return lines.filter((l) => new RegExp(`^\\[\\d+\\] ${name}\\(`).test(l)).length;
}

describe('vDSO', () => {
  it('glibc: clock_gettime, gettimeofday, time and getcpu do not enter the kernel', async () => {
    const exe = compile(dir, 'vdso.c', 'vdso', 'gcc');
    const fs = await packRootfs(dir, 'vdso', { exec: exe });
    // The trace shares the console with the program's output: results come from a run without it.
    const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
    const t = await boot(image, fs.archive, execCmdline(fs.command, [], [], 'osvb.strace=1'), { cpus: 2 });
    expect(b.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const name of [
      'auxv_sysinfo_ehdr',
      'loader_lists_vdso',
      'vdso_monotonic_monotonic_and_agrees',
      'vdso_realtime_monotonic_and_agrees',
      'vdso_gettimeofday',
      'vdso_time',
      'vdso_getcpu',
    ]) {
      expect(b.lines).toContain(`ok ${name}`);
    }
    expect(b.lines).toContain('vdso done failures=0');
    // 3 clocks x 4 explicit system calls, and CLOCK_PROCESS_CPUTIME_ID (not
    // in the vDSO) once; the 6000 vDSO reads and 2000 each of the others: none.
    expect(traced(t.lines, 'clock_gettime')).toBe(13);
    expect(traced(t.lines, 'gettimeofday')).toBe(0);
    expect(traced(t.lines, 'time')).toBe(0);
    expect(traced(t.lines, 'getcpu')).toBe(0);
    expect(traced(t.lines, 'write')).toBeGreaterThan(5); // the trace itself works
    expect(b.status).toBe(0);
    expect(t.status).toBe(0);
  }, 180_000);

  it.skipIf(!existsSync('/usr/bin/go') && !existsSync('/usr/lib/go/bin/go'))(
    "Go's runtime clock goes through the vDSO",
    async () => {
      const exe = join(dir, 'govdso');
      execFileSync('go', ['build', '-o', exe, '.'], {
        cwd: join(PROGRAMS, 'govdso'),
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const fs = await packRootfs(dir, 'govdso', { exec: exe });
      const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
      const t = await boot(image, fs.archive, execCmdline(fs.command, [], [], 'osvb.strace=1'), { cpus: 2 });
      expect(b.lines).toContain('go backwards=0');
      expect(b.lines).toContain('go agrees=true');
      expect(b.lines).toContain('go wall=true');
      // 2000 time.Now() calls (each two clock reads) and the runtime's own:
      // only the program's two explicit system calls remain.
      expect(traced(t.lines, 'clock_gettime')).toBe(2);
      expect(traced(t.lines, 'write')).toBeGreaterThan(2);
      expect(b.status).toBe(0);
      expect(t.status).toBe(0);
    },
    180_000,
  );
});
