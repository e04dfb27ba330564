// The accelerator choice: `auto` proves KVM runs guests before trusting it
// (a paravirtual nested hypervisor's /dev/kvm opens but aborts QEMU or stops
// guests), caches the verdict, and falls back to TCG with one warning;
// `--accel kvm` fails with the reason instead. Fake QEMUs stand in for each
// kind of broken KVM; a real QEMU runs against a /dev/kvm that is /dev/null
// and against none (tests/run/tools/kvm-as), whatever this host has.

import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OsvbError } from '../../src/errors.js';
import { accelMode } from '../../src/hypervisor/accel-mode.js';
import { chooseAccel, kvmProbeArgv, kvmVerdict } from '../../src/hypervisor/accel.js';
import { KVM_PROBE_ELF_BASE64, KVM_PROBE_EXIT_CODE } from '../../src/hypervisor/kvm-probe-image.js';
import { findQboot } from '../../src/hypervisor/qemu.js';
import type { Qemu } from '../../src/kernel/toolchain.js';
import { buildFixture, fixtureConfig, tempDir } from '../kernel/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const KVM_AS = join(ROOT, 'tests/run/tools/kvm-as');
const isRoot = process.getuid?.() === 0;

let dir: string;
let fakeDev: string;
beforeAll(async () => {
  dir = await tempDir('osvb-accel-');
  // Any file we may open read-write stands in for a /dev/kvm that opens.
  fakeDev = join(dir, 'kvm');
  await writeFile(fakeDev, '');
});

let fakes = 0;
/** A stand-in qemu-system-x86_64: a shell script that logs its calls and does `body`. */
async function fakeQemu(body: string): Promise<{ qemu: Qemu; calls: () => Promise<string[]> }> {
  const n = ++fakes;
  const path = join(dir, `qemu-${n}`);
  const log = join(dir, `calls-${n}`);
  await writeFile(path, `#!/bin/sh\necho "$*" >> '${log}'\n${body}\n`);
  await chmod(path, 0o755);
  const qemu: Qemu = {
    name: 'qemu-system-x86_64',
    path,
    version: 'QEMU 10.0.2',
    id: `${path}:${n}`,
    major: 10,
  };
  const calls = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  return { qemu, calls };
}

const ABORT_LINE =
  "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3500: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.";

describe('the probe guest', () => {
  it('is kvm-probe.S as linked by GNU as and ld', async () => {
    const src = join(ROOT, 'src/hypervisor/kvm-probe.S');
    const obj = join(dir, 'probe.o');
    const elf = join(dir, 'probe.elf');
    await execa('as', ['--32', '-o', obj, src]);
    await execa('ld', [
      '-m',
      'elf_i386',
      '-Ttext=0x100000',
      '--section-start=.note.Xen=0x100400',
      '-n',
      '-s',
      '--build-id=none',
      '-z',
      'noexecstack',
      '--no-warn-rwx-segments',
      '-e',
      'start',
      '-o',
      elf,
      obj,
    ]);
    expect((await readFile(elf)).toString('base64')).toBe(KVM_PROBE_ELF_BASE64);
  });

  it('reaches its exit under TCG, the way it must under a working KVM', async () => {
    const elf = join(dir, 'probe-run.elf');
    await writeFile(elf, Buffer.from(KVM_PROBE_ELF_BASE64, 'base64'));
    const qboot = await findQboot('/usr/bin/qemu-system-x86_64');
    const r = await execa('qemu-system-x86_64', kvmProbeArgv(elf, 'tcg', qboot), {
      reject: false,
      timeout: 60_000,
    });
    expect(r.exitCode).toBe(KVM_PROBE_EXIT_CODE);
  });
});

describe('choosing the accelerator', () => {
  it("falls back to TCG with QEMU's own words when -cpu host aborts, and caches the verdict", async () => {
    const { qemu, calls } = await fakeQemu(`echo "${ABORT_LINE.replace(/`/g, '\\`')}" >&2\nkill -ABRT $$`);
    const opts = { qemu, cacheDir: join(dir, 'cache-abort'), devKvm: fakeDev };
    const first = await chooseAccel('auto', opts);
    expect(first.accel).toBe('tcg');
    expect(first.warning).toBe(
      `${fakeDev} cannot run guests: ${ABORT_LINE} (QEMU killed by SIGABRT); using TCG emulation (OSVB_ACCEL=tcg skips this check)`,
    );
    expect(await calls()).toHaveLength(1);
    expect((await calls())[0]).toMatch(/-accel kvm -cpu host .*-kernel \S+probe\.elf$/);
    const again = await chooseAccel('auto', opts);
    expect(again).toEqual(first);
    expect(await calls()).toHaveLength(1); // the cached verdict, no second boot
    await expect(chooseAccel('kvm', opts)).rejects.toMatchObject({
      exitCode: 126,
      message: `KVM was asked for, but ${fakeDev} cannot run guests: ${ABORT_LINE} (QEMU killed by SIGABRT)`,
    });
    expect(await kvmVerdict({ ...opts, fresh: true })).toMatchObject({ ok: false, cached: false });
    expect(await calls()).toHaveLength(2);
  });

  it('stops a guest that hit an emulation failure at once rather than at the time limit', async () => {
    const { qemu } = await fakeQemu(
      'printf "KVM internal error. Suberror: 1\\nextra data[0]: 0x0\\nemulation failure\\n" >&2\nexec sleep 60',
    );
    const started = performance.now();
    const v = await kvmVerdict({
      qemu,
      cacheDir: join(dir, 'cache-emu'),
      devKvm: fakeDev,
      timeoutMs: 30_000,
    });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(v).toEqual({
      ok: false,
      reason: 'KVM internal error. Suberror: 1: emulation failure',
      cached: false,
    });
  });

  it('names the time limit when the guest never finishes', async () => {
    const { qemu } = await fakeQemu('exec sleep 60');
    const v = await kvmVerdict({ qemu, cacheDir: join(dir, 'cache-hang'), devKvm: fakeDev, timeoutMs: 300 });
    expect(v.reason).toBe('the test guest did not finish within 0.3 s');
  });

  it('trusts KVM once the probe guest reached its exit', async () => {
    const { qemu } = await fakeQemu(`exit ${KVM_PROBE_EXIT_CODE}`);
    const c = await chooseAccel('auto', { qemu, cacheDir: join(dir, 'cache-ok'), devKvm: fakeDev });
    expect(c).toEqual({ accel: 'kvm', reason: `${fakeDev} runs guests` });
    expect(
      (await chooseAccel('kvm', { qemu, cacheDir: join(dir, 'cache-ok'), devKvm: fakeDev })).reason,
    ).toBe(`${fakeDev} runs guests (cached verdict)`);
  });

  it('uses TCG without a word when there is no /dev/kvm, and refuses --accel kvm', async () => {
    const { qemu, calls } = await fakeQemu(`exit ${KVM_PROBE_EXIT_CODE}`);
    const opts = { qemu, cacheDir: join(dir, 'cache-none'), devKvm: join(dir, 'no-such-kvm') };
    expect(await chooseAccel('auto', opts)).toEqual({ accel: 'tcg', reason: `no ${opts.devKvm}` });
    await expect(chooseAccel('kvm', opts)).rejects.toMatchObject({ exitCode: 126 });
    expect(await chooseAccel('tcg', { ...opts, devKvm: fakeDev })).toEqual({
      accel: 'tcg',
      reason: 'TCG was asked for',
    });
    expect(await calls()).toEqual([]);
  });

  it('takes --accel over OSVB_ACCEL over app.yaml', () => {
    expect(accelMode(undefined, {}, undefined)).toBe('auto');
    expect(accelMode(undefined, {}, 'kvm')).toBe('kvm');
    expect(accelMode(undefined, { OSVB_ACCEL: 'tcg' }, 'kvm')).toBe('tcg');
    expect(accelMode('kvm', { OSVB_ACCEL: 'tcg' }, 'tcg')).toBe('kvm');
    expect(() => accelMode(undefined, { OSVB_ACCEL: 'hvf' })).toThrow(
      'OSVB_ACCEL is "hvf"; expected one of auto, kvm, tcg',
    );
    try {
      accelMode('xen', {});
    } catch (err) {
      expect((err as OsvbError).exitCode).toBe(2);
    }
  });
});

describe.skipIf(!isRoot)(
  'osvb run and doctor on a host whose /dev/kvm cannot run guests, and on one without',
  // Each test starts the CLI in a mount namespace: room for a loaded host.
  { timeout: 300_000 },
  () => {
    let image: string;
    let cache: string;
    beforeAll(async () => {
      image = join(dir, 'image');
      await buildFixture({
        cacheDir: join(dir, 'build-cache'),
        outDir: image,
        config: fixtureConfig({ FIX_STATUS: '42' }),
      });
      cache = join(dir, 'xdg-cache');
    });

    const osvb = (kind: 'broken' | 'absent', args: string[]) => {
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache };
      delete env.OSVB_ACCEL;
      return execa(KVM_AS, [kind, process.execPath, join(ROOT, 'bin/osvb.js'), ...args], {
        env,
        extendEnv: false,
        reject: false,
        stripFinalNewline: false,
        timeout: 120_000,
      });
    };

    it('auto falls back to TCG with one warning and runs the guest', async () => {
      const r = await osvb('broken', ['run', image, '--timeout', '60']);
      expect(r.stdout).toBe('hello from the fixture kernel\nfixture: up\n');
      expect(r.stderr).toBe(
        'osvb: warning: /dev/kvm cannot run guests: qemu-system-x86_64: -accel kvm: kvm version too old; ' +
          'using TCG emulation (OSVB_ACCEL=tcg skips this check)\n',
      );
      expect(r.exitCode).toBe(42);
    });

    it('--accel kvm fails with the reason, exit 126', async () => {
      const r = await osvb('broken', ['run', image, '--accel', 'kvm']);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'osvb: KVM was asked for, but /dev/kvm cannot run guests: qemu-system-x86_64: -accel kvm: kvm version too old; ' +
          'run with --accel tcg (or OSVB_ACCEL=tcg)\n',
      );
      expect(r.exitCode).toBe(126);
    });

    it('--accel tcg and OSVB_ACCEL=tcg run without probing or warning', async () => {
      const r = await osvb('broken', ['run', image, '--accel', 'tcg', '--dry-run']);
      expect(r.stdout).toMatch(/ -accel tcg -cpu max /);
      expect(r.stderr).toBe('');
    });

    it('doctor reports the unusable /dev/kvm with the reason', async () => {
      const r = await osvb('broken', ['doctor', '--json']);
      const kvm = (
        JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }
      ).checks.find((c) => c.name === 'kvm');
      expect(kvm).toMatchObject({
        ok: false,
        detail:
          '/dev/kvm cannot run guests: qemu-system-x86_64: -accel kvm: kvm version too old; guests run under TCG emulation (slower)',
      });
    });

    it('without /dev/kvm: TCG and no warning', async () => {
      const r = await osvb('absent', ['run', image, '--timeout', '60']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(42);
    });

    it('without /dev/kvm: --accel kvm refused', async () => {
      const k = await osvb('absent', ['run', image, '--accel', 'kvm']);
      expect(k.stderr).toBe('osvb: KVM was asked for, but no /dev/kvm\n');
      expect(k.exitCode).toBe(126);
    });
  },
);
