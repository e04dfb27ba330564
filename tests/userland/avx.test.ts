// XSAVE/AVX: CR4.OSXSAVE and XCR0 let programs pick their AVX2 code paths
// (QEMU's TCG "max" CPU has AVX2), and the ymm registers are saved per
// thread and in signal frames as on Linux (tests/userland/programs/avx.c).

import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, tempDir } from './helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await tempDir();
  image = await buildKernel(dir);
}, 300_000);

describe('XSAVE/AVX', () => {
  it('ymm registers survive context switches and signal handlers; glibc sees AVX2', async () => {
    const exe = compile(dir, 'avx.c', 'avx', 'gcc', ['-mavx2', '-lpthread']);
    const fs = await packRootfs(dir, 'avx', { exec: exe });
    const b = await boot(image, fs.archive, execCmdline(fs.command), { cpus: 2 });
    expect(b.lines).toContain('cpu avx2=1 avx=1');
    expect(b.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const name of [
      'ymm_two_threads',
      'ymm_across_signal',
      'sigframe_uc_fp_xstate',
      'sigframe_xstate_magic',
      'sigframe_ymm_saved',
    ]) {
      expect(b.lines).toContain(`ok ${name}`);
    }
    expect(b.lines).toContain('avx done failures=0');
    // The program then execs ld.so --list-diagnostics: glibc's hwcaps levels
    // "x86-64-v4:x86-64-v3:x86-64-v2", bit 1 of the active mask = v3 (AVX2 usable).
    const active = /^dl_hwcaps_subdirs_active=(0x[0-9a-f]+)$/m.exec(b.out);
    expect(active).not.toBeNull();
    expect(Number(active![1]) & 2).toBe(2);
    expect(b.status).toBe(0);
  }, 180_000);
});
