// The kernel is not reachable from the application: every call that names an
// address range answers kernel-half, non-canonical and wrapping ranges with
// Linux's errno (ranges.c runs on the host first, so the expectations are
// Linux's own), long console writes stop for a signal and for the exit of the
// VM, and the system-call fuzzer (memory calls included) leaves the kernel up.

import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, buildKernel, compile, execCmdline, packRootfs, type Rootfs, tempDir } from './helpers.js';

let dir: string;
let image: string;
let ranges: Rootfs;
let rangesExe: string;

const PANIC = /osvb-panic|kernel exception|panic:|double fault|triple/i;

beforeAll(async () => {
  dir = await tempDir('osvb-ranges-');
  image = await buildKernel(dir);
  rangesExe = compile(dir, 'ranges.c', 'ranges', 'musl-gcc', ['-static', '-lpthread']);
  ranges = await packRootfs(dir, 'ranges', { exec: rangesExe });
}, 300_000);

describe('address ranges at the system call boundary', () => {
  it('Linux (the host) gives the answers ranges.c expects', () => {
    const out = execFileSync(rangesExe, { encoding: 'utf8' });
    expect(out).toContain('ranges: failures=0');
  });

  it('osvb gives the same answers, and no call touches kernel memory', async () => {
    const b = await boot(image, ranges.archive, execCmdline(ranges.command));
    expect(b.out).not.toMatch(PANIC);
    expect(b.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const name of ['kernel_addresses', 'wrapping_ranges', 'huge_lengths', 'user_ranges', 'vectors']) {
      expect(b.lines).toContain(`ok ${name}`);
    }
    expect(b.lines).toContain('ranges: failures=0');
    expect(b.status).toBe(0);
  }, 120_000);
});

describe('long console writes', () => {
  it('a 16 MiB write to the console returns early when a signal arrives', async () => {
    const b = await boot(image, ranges.archive, execCmdline(ranges.command, ['signal']));
    const m = /console write returned (\d+) of 16777216 after (\d+) alarm/.exec(b.out);
    expect(m, b.out.slice(-500)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![1])).toBeLessThan(16 << 20);
    expect(m![2]).toBe('1');
    expect(b.status).toBe(0);
  }, 120_000);

  it('another thread exiting ends the VM during a 16 MiB console write', async () => {
    const b = await boot(image, ranges.archive, execCmdline(ranges.command, ['exit']));
    expect(b.out).not.toContain('the exit did not stop it');
    expect(b.out.length).toBeLessThan(16 << 20);
    expect(b.status).toBe(3);
  }, 120_000);
});

describe('the kernel command line', () => {
  it('an unpaired quote stops the boot instead of swallowing osvb.exec= and exiting 0', async () => {
    const b = await boot(image, ranges.archive, `osvb.loglevel=5 "${execCmdline(ranges.command)}`);
    expect(b.out).toMatch(/cmdline: unpaired '"' at offset \d+ of the kernel command line; refusing to boot/);
    expect(b.out).not.toContain('nothing to run');
    expect(b.record).toContain('osvb-panic');
    expect(b.status).not.toBe(0);
  }, 120_000);
});

describe('system-call fuzzer', () => {
  it('survives 4000 random calls per seed, memory calls with kernel and wrapping ranges included', async () => {
    const exe = compile(dir, 'fuzz.c', 'fuzz', 'musl-gcc', ['-static']);
    const fs = await packRootfs(dir, 'fuzz', { exec: exe });
    for (const seed of ['11', '12']) {
      const b = await boot(image, fs.archive, execCmdline(fs.command, ['4000', seed]), {
        timeoutSeconds: 90,
      });
      expect(b.out, `seed ${seed}`).not.toMatch(PANIC);
      // The last thing the guest printed (random calls write random bytes to the console before it).
      expect(b.out.trimEnd().slice(-40), `seed ${seed}`).toMatch(/fuzz: \d+ calls survived$/);
      expect(b.status, `seed ${seed}`).toBe(0);
    }
  }, 240_000);
});
