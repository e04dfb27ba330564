// QEMU command lines (pure) and --dry-run through the CLI.

import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseMemory, qemuArgv, relayArgv, shellCommand, shellQuote } from '../../src/hypervisor/qemu.js';
import { buildFixture, tempDir } from '../kernel/helpers.js';

const spec = {
  qemuPath: '/usr/bin/qemu-system-x86_64',
  kernelPath: '/img/kernel.elf',
  cmdline: 'osvb.selftest=all osvb.loglevel=7',
  memory: '128M',
  cpus: 2,
  exitRecordPath: '/tmp/osvb-exit-1',
};

describe('qemu argv', () => {
  it('microvm with qboot and TCG', () => {
    expect(
      shellCommand(
        qemuArgv({ ...spec, machine: 'microvm', accel: 'tcg', bios: '/usr/share/qemu/qboot.rom' }),
      ),
    ).toBe(
      '/usr/bin/qemu-system-x86_64 -M microvm,isa-serial=off -bios /usr/share/qemu/qboot.rom -accel tcg -cpu max -m 128M -smp 2 ' +
        '-nodefaults -no-user-config -nographic -no-reboot -chardev stdio,id=osvb-con,mux=on ' +
        '-device isa-serial,chardev=osvb-con,iobase=0x3e8,irq=4 -device isa-serial,chardev=osvb-con,iobase=0x2e8,irq=3 ' +
        '-device isa-serial,chardev=osvb-con,iobase=0x3f8,irq=4 ' +
        '-chardev file,id=osvb-exit,path=/tmp/osvb-exit-1 -device isa-serial,chardev=osvb-exit,iobase=0x2f8,irq=3 ' +
        "-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel /img/kernel.elf -append 'osvb.selftest=all osvb.loglevel=7'",
    );
  });

  it('q35 with KVM quiets SeaBIOS and has no -bios', () => {
    const argv = qemuArgv({ ...spec, machine: 'q35', accel: 'kvm', cmdline: '' });
    expect(argv).toContain('-fw_cfg');
    expect(argv).not.toContain('-bios');
    expect(argv).not.toContain('-append');
    expect(argv.slice(argv.indexOf('-accel'), argv.indexOf('-accel') + 4)).toEqual([
      '-accel',
      'kvm',
      '-cpu',
      'host',
    ]);
  });

  it('osvb run relays the console over inherited sockets: stdin framed, a terminal only when asked', () => {
    const argv = relayArgv(
      { ...spec, machine: 'microvm', accel: 'tcg' },
      { cmdlinePrefix: ['osvb.loglevel=4'] },
    );
    const cmd = shellCommand(argv);
    expect(cmd).toContain(' -M microvm ');
    expect(cmd).toContain(
      '-chardev socket,id=osvb-con,fd=3 -serial chardev:osvb-con ' +
        '-chardev socket,id=osvb-err,fd=4 -device isa-serial,chardev=osvb-err,iobase=0x3e8,irq=4 ' +
        '-chardev socket,id=osvb-log,fd=5 -device isa-serial,chardev=osvb-log,iobase=0x2e8,irq=3 ',
    );
    expect(argv.at(-1)).toBe('osvb.loglevel=4 osvb.stdin=stream osvb.selftest=all osvb.loglevel=7');
    const tty = relayArgv({ ...spec, machine: 'pc', accel: 'tcg' }, { tty: { rows: 30, cols: 100 } });
    expect(tty.at(-1)).toBe('osvb.stdin=stream osvb.tty=30x100 osvb.selftest=all osvb.loglevel=7');
  });

  it('quotes for the shell and doubles commas in chardev paths', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('a b')).toBe(`'a b'`);
    expect(shellQuote('-m')).toBe('-m');
    const argv = qemuArgv({ ...spec, machine: 'pc', accel: 'tcg', exitRecordPath: '/tmp/a,b' });
    expect(argv).toContain('file,id=osvb-exit,path=/tmp/a,,b');
  });

  it('checks memory sizes', () => {
    expect(parseMemory('128')).toBe('128M');
    expect(parseMemory('1g')).toBe('1G');
    expect(() => parseMemory('lots')).toThrow(/not a size like 128M/);
    expect(() => parseMemory('0')).toThrow();
  });
});

describe('osvb run --dry-run', () => {
  let img: string;
  let out: string[];
  beforeAll(async () => {
    const dir = await tempDir();
    img = join(dir, 'img');
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    await buildFixture({ cacheDir: join(dir, 'cache/osvb'), outDir: img, cmdline: 'osvb.x=1' });
  });
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
  };

  it('prints the exact command line and exits 0 without starting QEMU', async () => {
    capture();
    const status = await main([
      'node',
      'osvb',
      'run',
      img,
      '--dry-run',
      '-m',
      '256M',
      '-c',
      '2',
      '--append',
      'a=b c',
    ]);
    expect(status).toBe(0);
    expect(out).toHaveLength(1);
    const line = out[0]!;
    expect(line).toMatch(
      /^\S*qemu-system-x86_64 -M microvm,isa-serial=off -bios \S*qboot\.rom -accel (tcg|kvm) /,
    );
    expect(line).toContain(' -m 256M -smp 2 ');
    expect(line).toContain(`-kernel ${img}/kernel.elf -append 'osvb.x=1 a=b c'\n`);
    // A printed command must still work once osvb has exited: a plain file QEMU creates, no run directory.
    expect(line).toMatch(/-chardev file,id=osvb-exit,path=\S+\/osvb-exit-[\w.-]+ /);
  });

  it('--strace asks the kernel to trace system calls', async () => {
    capture();
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '--strace'])).toBe(0);
    expect(out.join('')).toContain(`-append 'osvb.x=1 osvb.strace=1'\n`);
  });

  it('--json gives the argv', async () => {
    capture();
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '--json', '--machine', 'q35'])).toBe(0);
    const j = JSON.parse(out.join(''));
    expect(j.argv).toContain('q35');
    expect(j.command).toContain(' -M q35 ');
  });

  it('rejects bad flags as usage errors', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '-c', 'two'])).toBe(2);
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '-m', 'lots'])).toBe(2);
    expect(await main(['node', 'osvb', 'run', img, '--config', 'x.yaml'])).toBe(2);
  });

  it('an image directory without manifest is one clear error', async () => {
    const errs: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      errs.push(String(s));
      return true;
    });
    expect(await main(['node', 'osvb', 'run', '/nonexistent-osvb-image', '--dry-run'])).toBe(1);
    expect(errs.join('')).toBe(
      'osvb: /nonexistent-osvb-image: not an osvb image directory (no manifest.json); build one with osvb build --config app.yaml\n',
    );
  });
});
