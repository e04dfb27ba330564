// Detached instances: osvb run -d starts QEMU in the background (console to a
// log file), ps/logs/stop/rm work from later CLI calls, a guest that exits is
// reported with its status, and a QEMU killed from outside is stopped, never
// running.

import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { findInstance, listInstances } from '../../src/hypervisor/instances.js';
import { buildApp } from '../../src/kernel/app.js';
import { buildFixture, fixtureConfig, tempDir } from '../kernel/helpers.js';

async function cli(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { status: await main(['node', 'osvb', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(200);
  }
  throw new Error('condition not met in time');
}

let dir: string;
let hang: string;
let exit42: string;

beforeAll(async () => {
  dir = await tempDir('osvb-inst-');
  vi.stubEnv('OSVB_INSTANCES_DIR', join(dir, 'instances'));
  hang = join(dir, 'hang');
  exit42 = join(dir, 'exit42');
  await buildFixture({ cacheDir: join(dir, 'cache'), outDir: hang, config: fixtureConfig({}, 'HANG') });
  await buildFixture({
    cacheDir: join(dir, 'cache'),
    outDir: exit42,
    config: fixtureConfig({ FIX_STATUS: '42' }),
  });
  return () => vi.unstubAllEnvs();
});

describe('instances', () => {
  it('runs in the background, logs, stops (forced after the timeout) and is removed', async () => {
    const r = await cli('run', '-d', '--name', 'web', hang);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toBe('web\n');
    await waitFor(async () => (await cli('logs', 'web')).out.includes('fixture: up'), 30_000);
    const ps = await cli('ps');
    expect(ps.out).toMatch(/^NAME\s+IMAGE\s+STATE\s+UPTIME\s+PORTS\n/);
    expect(ps.out).toMatch(/\nweb\s+fixture\s+running\s+\d+s\s+-\n/);
    // A second instance of the same name is refused while the first runs.
    const dup = await cli('run', '-d', '--name', 'web', hang);
    expect(dup.status).toBe(1);
    expect(dup.err).toContain('instance web is already running');
    expect((await cli('rm', 'web')).err).toContain('instance web is running');
    // The fixture ignores the ACPI power button: stop waits 1 s, then forces.
    const stop = await cli('stop', '--timeout', '1', 'web');
    expect(stop.out).toBe('web: stopped (forced)\n');
    expect((await findInstance('web')).status.state).toBe('stopped');
    expect((await cli('logs', 'web')).out).toBe('hello from the fixture kernel\nfixture: up\n');
    expect((await cli('rm', 'web')).status).toBe(0);
    expect(await listInstances()).toEqual([]);
  });

  it('reports a guest that exited with its status, and follows logs until then', async () => {
    expect((await cli('run', '-d', '--name', 'job', exit42)).status).toBe(0);
    const logs = await cli('logs', '-f', 'job');
    expect(logs.out).toBe('hello from the fixture kernel\nfixture: up\n');
    const inst = await findInstance('job');
    expect(inst.status).toEqual({ state: 'exited', status: 42 });
    expect((await cli('ps')).out).toMatch(/\njob\s+fixture\s+exited \(42\)\s+-\s+-\n/);
    expect((await cli('stop', 'job')).out).toBe('job: not running\n');
    await cli('rm', 'job');
  });

  // The ACPI power button: the GED on microvm (hardware-reduced ACPI), PM1 + SCI on q35.
  it.each(['microvm', 'q35'])(
    'stop on %s sends the program SIGTERM and waits for it (graceful)',
    async (profile) => {
      const app = join(dir, `term-${profile}.yaml`);
      execFileSync('musl-gcc', [
        '-static',
        '-O1',
        '-o',
        join(dir, 'term'),
        join(import.meta.dirname, 'programs/term.c'),
      ]);
      await writeFile(app, `name: term\napp:\n  exec: ./term\nkernel:\n  profile: ${profile}\n`);
      const image = join(dir, `term-${profile}`);
      await buildApp(app, { outDir: image, cacheDir: join(dir, 'cache'), jobs: 2 });
      await cli('rm', '-f', 'term'); // a failed earlier case may have left it
      expect((await cli('run', '-d', '--name', 'term', image)).status).toBe(0);
      await waitFor(async () => (await cli('logs', 'term')).out.includes('term: up'), 60_000);
      const stop = await cli('stop', '--timeout', '60', 'term');
      expect(stop.out).toBe('term: stopped (graceful)\n');
      expect((await cli('logs', 'term')).out).toMatch(/^term: up\nterm: got signal 15\n$/m);
      expect((await findInstance('term')).status).toEqual({ state: 'exited', status: 7 });
      expect((await cli('rm', 'term')).status).toBe(0);
    },
    300_000,
  );

  it('reports a QEMU killed from outside as stopped, never running', async () => {
    expect((await cli('run', '-d', '--name', 'victim', hang)).status).toBe(0);
    const inst = await findInstance('victim');
    expect(inst.status.state).toBe('running');
    process.kill(inst.pid, 'SIGKILL');
    await waitFor(async () => (await findInstance('victim')).status.state !== 'running', 10_000);
    expect((await findInstance('victim')).status).toEqual({ state: 'stopped' });
    expect((await cli('ps')).out).toMatch(/\nvictim\s+fixture\s+stopped\s+-\s+-\n/);
    expect((await cli('rm', 'victim')).status).toBe(0);
    expect((await cli('logs', 'victim')).err).toContain('no instance named victim');
  });
});
