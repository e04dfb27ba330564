// The kernel core booted for real under QEMU (TCG here): examples/selftest is
// built with the osvb pipeline and its in-kernel self-tests run on microvm and
// q35; failing tests, panics and faults must come back through the exit
// protocol; the Multiboot entry and the ACPI poweroff fallback are checked too.

import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/kernel/app.js';
import { prepareRun, type RunResult, runImage } from '../../src/hypervisor/run.js';
import { tempDir } from '../kernel/helpers.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/selftest/app.yaml');

let dir: string;
beforeAll(async () => {
  dir = await tempDir('osvb-kernel-boot-');
});

interface Boot extends RunResult {
  out: string;
  lines: string[];
}

/** Write an app.yaml variant of the self-test example and build it. */
async function build(name: string, yaml?: string): Promise<string> {
  let app = EXAMPLE;
  if (yaml !== undefined) {
    app = join(dir, `${name}.yaml`);
    await writeFile(app, yaml);
  }
  const outDir = join(dir, 'img', name);
  await buildApp(app, { outDir, cacheDir: join(dir, 'cache'), jobs: 2 });
  return outDir;
}

async function boot(
  imageDir: string,
  append?: string,
  machine?: 'microvm' | 'q35' | 'pc',
  cpus?: number,
): Promise<Boot> {
  let out = '';
  const r = await runImage(imageDir, {
    append,
    machine,
    cpus,
    timeoutSeconds: 90,
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

/** The exit record without the clock record a first boot on this host adds before it. */
function exitLine(record: string): string {
  return record.replace(/^osvb-clock: .*\n/m, '');
}

/** Every "selftest: <name> ... <result>" line, in order. */
function results(b: Boot): [string, string][] {
  const out: [string, string][] = [];
  for (const l of b.lines) {
    const m = /^selftest: (\S+) \.\.\. (\S+)$/.exec(l);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push([m[1], m[2]]);
  }
  return out;
}

// The self-tests every full run must include: allocator, heap, stacks, page
// tables, scheduler, wait queues, locks, timers and the clock.
const CORE_TESTS = [
  'mm.page_alloc',
  'mm.page_exhaust',
  'mm.kmalloc',
  'mm.kstack_guard',
  'mm.vm_map',
  'mm.lower_half_empty',
  'sched.create_join',
  'sched.preempt',
  'sched.sleep',
  'sched.waitqueue',
  'sched.mutex',
  'sched.semaphore',
  'sched.churn',
  'timer.oneshot',
  'timer.order',
  'timer.cancel',
  'timer.tickless',
  'clock.monotonic',
  'clock.vs_pit',
  'clock.realtime',
];

function expectAllPassed(b: Boot): void {
  const res = results(b);
  const names = res.map(([n]) => n);
  for (const t of CORE_TESTS) expect(names).toContain(t);
  expect(res.filter(([, r]) => r !== 'ok')).toEqual([]);
  expect(b.lines).toContain(`selftest: ${res.length} passed, 0 failed`);
  expect(b.outcome).toEqual({ kind: 'exit', status: 0, source: 'record' });
  expect(b.status).toBe(0);
}

/** Boot the image's QEMU command line with edits, feeding stdin when asked. */
async function rawBoot(
  image: string,
  edit: (argv: string[]) => void,
  append: string,
  reply?: { when: string; send: string },
): Promise<{ out: string; record: string }> {
  const prep = await prepareRun(image, { machine: 'q35', append, stdout: () => {}, stderr: () => {} });
  const argv = prep.argv.slice(1);
  edit(argv);
  const child = execa(prep.spec.qemuPath, argv, { reject: false, timeout: 90_000, stdin: 'pipe' });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    if (reply && out.includes(reply.when)) {
      child.stdin?.write(reply.send);
      reply = undefined;
    }
  });
  await child;
  const record = await readFile(prep.spec.exitRecordPath, 'latin1').catch(() => '');
  await rm(prep.spec.exitRecordPath, { force: true });
  return { out: out.replaceAll('\r', ''), record };
}

describe('the self-test image under QEMU', () => {
  let image: string;
  beforeAll(async () => {
    image = await build('selftest');
  });

  it('passes every self-test on microvm and exits 0', async () => {
    const b = await boot(image);
    expect(b.argv[b.argv.indexOf('-M') + 1]).toMatch(/^microvm(,|$)/);
    expect(b.lines[0]).toMatch(/^osvb: booting \(pvh, \d+ MiB RAM\)$/);
    expectAllPassed(b);
  });

  it('passes every self-test on q35 (q35 profile) and exits 0', async () => {
    const q35 = await build(
      'selftest-q35',
      `name: selftest-q35\nkernel:\n  profile: q35\n  config:\n    SELFTEST: y\n  cmdline: osvb.selftest=all\n`,
    );
    const b = await boot(q35);
    expect(b.argv).toContain('q35');
    expectAllPassed(b);
  });

  it('passes every self-test on pc (i440FX) too', async () => {
    const b = await boot(image, undefined, 'pc');
    expect(b.argv).toContain('pc');
    expectAllPassed(b);
  });

  it('warns when fewer CPUs come up than the VM has (osvb.cpus)', async () => {
    // As if an AP had not started: the command line claims one CPU more than QEMU gives.
    const b = await boot(image, 'osvb.cpus=3 osvb.selftest=smp.cpus', 'microvm', 2);
    expect(b.lines).toContain('smp: the VM has 3 CPUs, but only 2 are online');
    expect(b.status).toBe(0);
  });

  // TCG runs each vCPU on a host thread: cross-CPU wakeups, locks and TLB
  // shootdowns race for real.
  for (const [cpus, machine] of [
    [2, 'microvm'],
    [4, 'q35'],
  ] as const) {
    it(`runs the scheduler, timer and SMP self-tests on ${cpus} CPUs (${machine})`, async () => {
      const b = await boot(image, 'osvb.loglevel=6 osvb.selftest=sched.*,smp.*,timer.*', machine, cpus);
      expect(b.lines).toContain(`smp: ${cpus} CPUs online`);
      // osvb run tells the kernel how many the VM has; all came up, so no warning.
      expect(b.out).not.toContain('smp: the VM has');
      const res = results(b);
      const names = res.map(([n]) => n);
      for (const t of [
        'sched.create_join',
        'sched.preempt',
        'sched.mutex',
        'sched.churn',
        'smp.cpus',
        'smp.call_function',
        'smp.affinity',
        'smp.threads_everywhere',
        'smp.cross_wake',
        'smp.mutex',
        'smp.tlb_shootdown',
        'timer.cancel',
      ])
        expect(names).toContain(t);
      expect(
        res.filter(([, r]) => r !== 'ok'),
        b.out,
      ).toEqual([]);
      expect(b.status).toBe(0);
    });
  }

  it('exits 1 when a selected test fails, and reports where', async () => {
    const b = await boot(image, 'osvb.selftest=selftest.fail_on_purpose,lib.string');
    expect(results(b)).toEqual([
      ['lib.string', 'ok'],
      ['selftest.fail_on_purpose', 'FAIL'],
    ]);
    expect(b.out).toMatch(
      /selftest: selftest\.fail_on_purpose: modules\/selftest\/selftest\.c:\d+: expected 1 \+ 1 == 3 \(2 != 3\)/,
    );
    expect(b.lines).toContain('selftest: 1 passed, 1 failed');
    expect(b.status).toBe(1);
  });

  it('exits 1 when a pattern matches no test', async () => {
    const b = await boot(image, 'osvb.selftest=no.such.test');
    expect(b.lines).toContain('selftest: no test matches "no.such.test"');
    expect(b.lines).toContain('selftest: 0 passed, 1 failed');
    expect(b.status).toBe(1);
  });

  it('a panic leaves through the panic protocol (125) with a symbolized backtrace', async () => {
    const b = await boot(image, 'osvb.selftest=selftest.panic_on_purpose');
    expect(b.outcome).toEqual({ kind: 'panic' });
    expect(b.status).toBe(125);
    expect(b.lines).toContain('osvb: panic: selftest: panic on purpose');
    const frames = b.lines.filter((l) => l.startsWith('  [<'));
    expect(frames[0]).toMatch(
      /^ {2}\[<ffffffff801[0-9a-f]{5}>\] panic\+0x[0-9a-f]+ \(modules\/lib\/panic\.c:\d+\)$/,
    );
    expect(frames[1]).toMatch(/__st_panic_on_purpose\+0x[0-9a-f]+ \(modules\/selftest\/selftest\.c:\d+\)$/);
    expect(frames.some((f) => /thread_entry\+/.test(f))).toBe(true);
  });

  it('a NULL-pointer fault prints the registers and a backtrace, then panics', async () => {
    const b = await boot(image, 'osvb.selftest=selftest.page_fault');
    expect(b.status).toBe(125);
    expect(b.out).toMatch(
      /osvb: kernel exception #PF page fault \(vector 14\) at rip ffffffff801[0-9a-f]{5}/,
    );
    expect(b.out).toContain(
      'page fault at 0000000000000010: page not present on read, kernel mode (NULL pointer)',
    );
    expect(b.out).toMatch(
      / {2}rip=ffffffff801[0-9a-f]{5} rsp=[0-9a-f]{16} rflags=[0-9a-f]{8} cs=0008 ss=0010/,
    );
    expect(b.out).toMatch(/cr2=0000000000000010/);
    const frames = b.lines.filter((l) => l.startsWith('  [<'));
    expect(frames[0]).toMatch(/__st_page_fault\+0x[0-9a-f]+ \(modules\/selftest\/selftest\.c:\d+\)$/);
    expect(b.lines).toContain('osvb: panic: fatal exception #PF page fault');
  });

  it('a kernel stack overflow hits the guard page and is reported as such', async () => {
    const b = await boot(image, 'osvb.selftest=selftest.stack_overflow');
    expect(b.status).toBe(125);
    expect(b.out).toContain('osvb: kernel exception #DF double fault (vector 8)');
    expect(b.out).toMatch(/kernel stack overflow: ffffc[0-9a-f]{11} is in a stack guard page/);
    expect(b.lines.filter((l) => /recurse\+0x/.test(l)).length).toBeGreaterThan(3);
  });

  it('powers off through ACPI when there is no isa-debug-exit device', async () => {
    for (const machine of ['microvm', 'q35'] as const) {
      const prep = await prepareRun(image, {
        machine,
        append: 'osvb.selftest=lib.string',
        stdout: () => {},
        stderr: () => {},
      });
      const argv = prep.argv.slice(1); // [0] is the QEMU binary
      const i = argv.findIndex((a) => a.startsWith('isa-debug-exit'));
      expect(i).toBeGreaterThan(0);
      argv.splice(i - 1, 2);
      const r = await execa(prep.spec.qemuPath, argv, { reject: false, timeout: 90_000, stdin: 'ignore' });
      // QEMU exits 0 on a guest poweroff; a kernel that only halted would hit the timeout.
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.replaceAll('\r', '')).toContain('selftest: 1 passed, 0 failed');
      expect(exitLine(await readFile(prep.spec.exitRecordPath, 'latin1'))).toBe('osvb-exit: 0\n');
      await rm(prep.spec.exitRecordPath, { force: true });
    }
  });
});

describe('clock rates under TCG', () => {
  it('the first boot on a host measures them against the PIT and tells osvb run; later boots are told them', async () => {
    const image = await build('clock');
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'clock-cache') };
    const bootWith = async () => {
      let out = '';
      const r = await runImage(image, {
        env,
        append: 'osvb.loglevel=6 osvb.selftest=clock.*,timer.*',
        timeoutSeconds: 90,
        stdout: (s) => {
          out += s;
        },
        stderr: (s) => {
          out += s;
        },
      });
      return { ...r, out: out.replaceAll('\r', '') };
    };
    const first = await bootWith();
    expect(first.out).toMatch(
      /^time: clock tsc, TSC \d+\.\d{3} MHz, APIC timer \d+ kHz \(calibrated by pit\)$/m,
    );
    expect(first.out).toMatch(/^selftest: \d+ passed, 0 failed$/m);
    expect(first.status).toBe(0);
    const second = await bootWith();
    expect(second.argv.join(' ')).toMatch(/-append osvb\.tsc_khz=\d+ osvb\.apic_timer_khz=\d+ /);
    expect(second.out).toMatch(/^time: clock tsc, .* \(calibrated by osvb\.tsc_khz\)$/m);
    // The clock built on the passed rates still agrees with the PIT and the timers fire on time.
    expect(second.out).toContain('selftest: clock.vs_pit ... ok');
    expect(second.out).toMatch(/^selftest: \d+ passed, 0 failed$/m);
    expect(second.status).toBe(0);
  });
});

describe('CPU and console variants', () => {
  let image: string;
  beforeAll(async () => {
    image = await build('selftest');
  });

  it('passes every self-test on 2 CPUs without x2APIC, SMEP or SMAP (qemu64: xAPIC over MMIO, IPIs too)', async () => {
    const r = await rawBoot(
      image,
      (argv) => {
        argv[argv.indexOf('-cpu') + 1] = 'qemu64';
        argv[argv.indexOf('-smp') + 1] = '2';
      },
      'osvb.selftest=all osvb.loglevel=6',
    );
    expect(r.out).toContain('irq: local APIC 0 (xAPIC)');
    expect(r.out).toContain('smp: 2 CPUs online');
    expect(r.out).toContain('selftest: smp.tlb_shootdown ... ok');
    expect(r.out).toMatch(/selftest: \d+ passed, 0 failed/);
    expect(r.out).not.toContain('FAIL');
    expect(exitLine(r.record)).toBe('osvb-exit: 0\n');
  });

  it('reads console input through the COM1 receive interrupt', async () => {
    const r = await rawBoot(image, () => {}, 'osvb.selftest=console.read', {
      when: 'console.read: type ping',
      send: 'ping\r',
    });
    expect(r.out).toContain('selftest: console.read ... ok');
    expect(exitLine(r.record)).toBe('osvb-exit: 0\n');
  });
});

describe('the initrd', () => {
  it('is found through the PVH module list and kept out of the page allocator', async () => {
    const initrd = join(dir, 'initrd.bin');
    const text = 'osvb initrd marker 0123456789abcdefghij';
    await writeFile(initrd, `${text}${'x'.repeat(100_000)}`);
    const r = await rawBoot(
      await build('selftest'),
      (argv) => {
        argv.push('-initrd', initrd);
      },
      'osvb.selftest=boot.initrd osvb.loglevel=6',
    );
    const out = r.out;
    expect(out).toMatch(/boot: initrd at 0x[0-9a-f]+, 100039 bytes/);
    expect(out).toContain(`boot.initrd: 100039 bytes: ${text.slice(0, 32)}`);
    expect(out).toContain('selftest: boot.initrd ... ok');
    expect(exitLine(r.record)).toBe('osvb-exit: 0\n');
  });
});

describe('the minimal kernel', () => {
  it('is small, boots, and exits 0 when there is nothing to run', async () => {
    const img = await build('minimal', 'name: minimal\n');
    const elf = join(img, 'kernel.elf');
    const stripped = join(dir, 'minimal.stripped');
    await execa('strip', ['-o', stripped, elf]);
    const size = (await stat(stripped)).size;
    expect(size).toBeLessThan(150 * 1024);
    const b = await boot(img);
    expect(b.lines).toContain('osvb: nothing to run; exiting');
    expect(b.out).not.toContain('selftest');
    expect(b.outcome).toEqual({ kind: 'exit', status: 0, source: 'record' });
  });
});

describe('the Multiboot entry', () => {
  it('boots through Multiboot when the header is built in (QEMU prefers it to PVH)', async () => {
    const mb = await build(
      'multiboot',
      `name: multiboot\nkernel:\n  profile: q35\n  config:\n    SELFTEST: y\n    BOOT_MULTIBOOT: y\n  cmdline: osvb.selftest=boot.*,mm.page_alloc\n`,
    );
    const b = await boot(mb);
    expect(b.lines[0]).toMatch(/^osvb: booting \(multiboot, \d+ MiB RAM\)$/);
    expect(results(b)).toEqual([
      ['boot.cmdline', 'ok'],
      ['boot.linux_params', 'ok'],
      ['boot.memory_map', 'ok'],
      ['mm.page_alloc', 'ok'],
    ]);
    expect(b.status).toBe(0);
  });
});

describe('a failing self-test compiled into "all"', () => {
  it('SELFTEST_FAIL_DEMO makes osvb.selftest=all exit 1', async () => {
    const img = await build(
      'fail-demo',
      `name: fail-demo\nkernel:\n  config:\n    SELFTEST: y\n    SELFTEST_FAIL_DEMO: y\n  cmdline: osvb.selftest=selftest.*,lib.*\n`,
    );
    const b = await boot(img);
    expect(results(b)).toEqual([
      ['lib.list', 'ok'],
      ['lib.string', 'ok'],
      ['lib.vsnprintf', 'ok'],
      ['selftest.fail_demo', 'FAIL'],
    ]);
    expect(b.out).toContain('expected "what the demo got" == "expected"');
    expect(b.lines).toContain('selftest: 3 passed, 1 failed');
    expect(b.outcome).toEqual({ kind: 'exit', status: 1, source: 'record' });
  });
});
