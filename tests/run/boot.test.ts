// Real boots of the fixture kernel under QEMU (TCG here): the guest's status
// comes back through the COM2 record or isa-debug-exit, panics and timeouts map
// to 125 and 124, and fault backtraces are symbolized from kernel.elf.

import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type RunResult, runImage } from '../../src/hypervisor/run.js';
import {
  buildFixture,
  FIXTURE,
  FIXTURE_APP,
  type FixtureMode,
  fixtureConfig,
  tempDir,
} from '../kernel/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});

interface Boot extends RunResult {
  stdout: string;
  stderr: string;
}

async function boot(
  name: string,
  opts: { status?: number; mode?: FixtureMode; machine?: 'microvm' | 'q35' | 'pc'; timeout?: number } = {},
): Promise<Boot> {
  const outDir = join(dir, name);
  await buildFixture({
    cacheDir: join(dir, 'cache'),
    outDir,
    config: fixtureConfig({ FIX_STATUS: String(opts.status ?? 0) }, opts.mode ?? 'EXIT'),
    machine: opts.machine,
  });
  let stdout = '';
  let stderr = '';
  const r = await runImage(outDir, {
    timeoutSeconds: opts.timeout ?? 60,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { ...r, stdout, stderr };
}

describe('booting the fixture kernel under QEMU', () => {
  it('returns the status from the COM2 record on microvm (qboot)', async () => {
    const r = await boot('exit42', { status: 42 });
    expect(r.stdout).toBe('hello from the fixture kernel\nfixture: up\n');
    expect(r.outcome).toEqual({ kind: 'exit', status: 42, source: 'record' });
    expect(r.status).toBe(42);
    expect(r.stderr).toBe('');
  });

  it('returns 0 and 255 exactly', async () => {
    expect((await boot('exit0', { status: 0 })).status).toBe(0);
    expect((await boot('exit255', { status: 255 })).status).toBe(255);
  });

  it('boots on q35 and pc (SeaBIOS kept off the console)', async () => {
    for (const machine of ['q35', 'pc'] as const) {
      const r = await boot(`exit-${machine}`, { status: 3, machine });
      expect(r.stdout).toBe('hello from the fixture kernel\nfixture: up\n');
      expect(r.status).toBe(3);
    }
  });

  it('falls back to the isa-debug-exit code without a record', async () => {
    const r = await boot('norecord', { status: 9, mode: 'NORECORD' });
    expect(r.outcome).toEqual({ kind: 'exit', status: 9, source: 'debug-exit' });
  });

  it('maps a kernel panic to 125 with one line', async () => {
    const r = await boot('panic', { mode: 'PANIC' });
    expect(r.status).toBe(125);
    expect(r.message).toBe('kernel panic; exit status 125');
    expect(r.stdout).toContain('fixture: panic\n');
  });

  it('kills a hanging guest at the timeout and returns 124', async () => {
    const t0 = performance.now();
    const r = await boot('hang', { mode: 'HANG', timeout: 3 });
    const seconds = (performance.now() - t0) / 1000;
    expect(r.status).toBe(124);
    expect(r.message).toBe('guest did not exit within 3 s; killed');
    expect(r.stdout).toContain('fixture: up\n');
    expect(seconds).toBeGreaterThanOrEqual(3);
  });

  it('symbolizes a fault backtrace from kernel.elf', async () => {
    const r = await boot('fault', { mode: 'FAULT' });
    expect(r.status).toBe(125);
    const frames = r.stderr.split('\n').filter((l) => l.startsWith('  [<'));
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(
      /^ {2}\[<0000000000100[0-9a-f]{3}>\] fault\+0x[0-9a-f]+ \(modules\/fixture\/main\.c:\d+\)$/,
    );
    expect(frames[1]).toMatch(
      /^ {2}\[<[0-9a-f]{16}>\] fixture_main\+0x[0-9a-f]+ \(modules\/fixture\/main\.c:\d+\)$/,
    );
    expect(frames[2]).toMatch(
      /^ {2}\[<[0-9a-f]{16}>\] long_entry\+0x[0-9a-f]+ \(modules\/arch\/head\.S:\d+\)$/,
    );
  });
});

describe('osvb run through the CLI', () => {
  afterEach(() => vi.restoreAllMocks());

  it('builds from app.yaml when stale, boots, and exits with the guest status', async () => {
    process.env.XDG_CACHE_HOME = join(dir, 'xdg');
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const imgDir = join(dir, 'cli-img');
    const status = await main([
      'node',
      'osvb',
      'build',
      '--config',
      FIXTURE_APP,
      '--srctree',
      FIXTURE,
      '--out',
      imgDir,
      '--json',
    ]);
    expect(status).toBe(0);
    // --json: newline-delimited events, the last one the result.
    const events = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; done?: number; total?: number });
    expect(events.filter((e) => e.event === 'unit').map((e) => `${e.done}/${e.total}`)).toEqual([
      '1/5',
      '2/5',
      '3/5',
      '4/5',
      '5/5',
    ]);
    const built = events.at(-1);
    expect(built?.event).toBe('result');
    expect(built).toMatchObject({ name: 'fixture', upToDate: false, compiled: 5 });
    out.length = 0;
    expect(await main(['node', 'osvb', 'run', imgDir, '--timeout', '60'])).toBe(42);
    expect(out.join('')).toBe('hello from the fixture kernel\nfixture: up\n');
    out.length = 0;
    // --config: the image is current, so run boots it without compiling.
    const runStatus = await main([
      'node',
      'osvb',
      'run',
      '--config',
      FIXTURE_APP,
      '--srctree',
      FIXTURE,
      '--timeout',
      '60',
    ]);
    expect(runStatus).toBe(42);
  });
});

describe('signals', () => {
  it('forwards SIGINT to QEMU, exits 130 and removes the exit-record file', async () => {
    const outDir = join(dir, 'sigint');
    await buildFixture({ cacheDir: join(dir, 'cache'), outDir, config: fixtureConfig({}, 'HANG') });
    const { prepareRun, runPrepared } = await import('../../src/hypervisor/run.js');
    const { existsSync } = await import('node:fs');
    let stdout = '';
    let sent = false;
    const opts = {
      timeoutSeconds: 60,
      stdout: (s: Buffer) => {
        stdout += s.toString();
        if (!sent && stdout.includes('fixture: up\n')) {
          sent = true;
          process.emit('SIGINT', 'SIGINT');
        }
      },
      stderr: () => {},
    };
    const prep = await prepareRun(outDir, opts);
    const r = await runPrepared(prep, opts);
    expect(sent).toBe(true);
    expect(r.outcome).toMatchObject({ kind: 'signal', signal: 'SIGINT' });
    expect(r.status).toBe(130);
    expect(existsSync(prep.spec.exitRecordPath)).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
