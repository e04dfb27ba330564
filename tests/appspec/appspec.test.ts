import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppSpec,
  DEFAULT_MEMORY,
  type HostProbe,
  loadAppSpec,
  nodeHostProbe,
  parseAppSpec,
  parseMemorySize,
} from '../../src/config/appspec.js';
import { ConfigError, formatError } from '../../src/errors.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osvb-appspec-'));
  copyFileSync('/bin/true', path.join(dir, 'hello')); // a real x86-64 ELF
  writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  writeFileSync(path.join(dir, 'main.py'), 'print(1)\n');
  writeFileSync(path.join(dir, 'main.py'), 'print("hi")\n');
  writeFileSync(path.join(dir, 'data.txt'), 'data\n');
  mkdirSync(path.join(dir, 'www'));
  writeFileSync(path.join(dir, 'www', 'index.html'), '<p>hi</p>\n');
  // A 32-bit ELF header and an aarch64 one: only the first 20 bytes matter here.
  const elf32 = Buffer.alloc(64);
  elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  writeFileSync(path.join(dir, 'elf32'), elf32);
  const arm = Buffer.alloc(64);
  arm.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  arm.writeUInt16LE(183, 18);
  writeFileSync(path.join(dir, 'arm64'), arm);
  symlinkSync('hello', path.join(dir, 'hello-link'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function parse(text: string, probe: HostProbe = nodeHostProbe): AppSpec {
  return parseAppSpec(text, 'app.yaml', dir, probe);
}

describe('app.yaml rootfs', () => {
  it('is cpio unless it says zfs', () => {
    expect(parse('name: x\n').rootfs).toBe('cpio');
    expect(parse('name: x\nrootfs: zfs\n').rootfs).toBe('zfs');
    expect(parse('name: x\nrootfs: 9p\n').rootfs).toBe('9p');
  });
  it('volumes resolve host paths against app.yaml and keep readonly', () => {
    const v = parse('name: x\nvolumes:\n  - { host: d, guest: /data/, readonly: true }\n').volumes;
    expect(v).toHaveLength(1);
    expect(v![0]).toMatchObject({ guest: '/data', readonly: true });
    expect(v![0]!.host.endsWith('/d')).toBe(true);
  });
});

/** Parses, expects a ConfigError, and returns its one printed line. */
function errorLine(text: string, probe: HostProbe = nodeHostProbe): string {
  try {
    parse(text, probe);
  } catch (err) {
    if (err instanceof ConfigError) return formatError(err);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('app.yaml: every key', () => {
  it('parses a full app.yaml into a typed AppSpec', () => {
    const spec = parse(
      [
        'name: web-1.0_x', // 1
        'app:', // 2
        '  exec: ./hello', // 3
        '  args: [--port, 8080, true]', // 4
        '  env:', // 5
        '    HOME: /root', // 6
        '    PORT: 8080', // 7
        '  runtime: elf', // 8
        'files:', // 9
        '  /etc/data.txt: data.txt', // 10
        '  /srv/www: www', // 11
        'kernel:', // 12
        '  profile: q35', // 13
        '  config:', // 14
        '    SMP: y', // 15
        '    PCI: n', // 16
        '    VIRTIO: m', // 17
        '    DEBUG: true', // 18
        '    LOG_LEVEL: 7', // 19
        '    PHYS_BASE: 0x100000', // 20
        '    HOSTNAME: osvb', // 21
        '    QUOTED_Y: "y"', // 22
        '  cmdline: osvb.loglevel=7', // 23
        'run:', // 24
        '  hypervisor: qemu', // 25
        '  memory: 256M', // 26
        '  cpus: 2', // 27
        '  accel: tcg', // 28
        '',
      ].join('\n'),
    );
    expect(spec.name).toBe('web-1.0_x');
    expect(spec.file).toBe('app.yaml');
    expect(spec.baseDir).toBe(dir);
    expect(spec.app).toEqual({
      exec: path.join(dir, 'hello'),
      execDefaulted: false,
      args: ['--port', '8080', 'true'],
      env: { HOME: '/root', PORT: '8080' },
      runtime: 'elf',
      script: undefined,
    });
    expect(spec.files).toEqual([
      {
        guest: '/etc/data.txt',
        host: path.join(dir, 'data.txt'),
        kind: 'file',
        loc: { file: 'app.yaml', line: 10, column: 3 },
      },
      {
        guest: '/srv/www',
        host: path.join(dir, 'www'),
        kind: 'dir',
        loc: { file: 'app.yaml', line: 11, column: 3 },
      },
    ]);
    expect(spec.kernel.profile).toBe('q35');
    expect(spec.kernel.cmdline).toBe('osvb.loglevel=7');
    expect(spec.kernel.config.map((c) => [c.symbol, c.value.kind, c.value.text, c.loc.line])).toEqual([
      ['SMP', 'tristate', 'y', 15],
      ['PCI', 'tristate', 'n', 16],
      ['VIRTIO', 'tristate', 'm', 17],
      ['DEBUG', 'tristate', 'y', 18],
      ['LOG_LEVEL', 'number', '7', 19],
      ['PHYS_BASE', 'number', '0x100000', 20],
      ['HOSTNAME', 'string', 'osvb', 21],
      ['QUOTED_Y', 'string', 'y', 22],
    ]);
    expect(spec.run).toEqual({ hypervisor: 'qemu', memory: 256 * 2 ** 20, cpus: 2, accel: 'tcg' });
    expect(spec.locs['app.exec']).toEqual({ file: 'app.yaml', line: 3, column: 9 });
    expect(spec.locs['kernel.profile']).toEqual({ file: 'app.yaml', line: 13, column: 12 });
    expect(spec.locs['kernel.config.SMP']).toEqual({ file: 'app.yaml', line: 15, column: 5 });
  });

  it('fills in defaults for a minimal app', () => {
    const spec = parse('name: hello\napp:\n  exec: hello\n');
    expect(spec.app?.runtime).toBeUndefined(); // inferred later from the ELF
    expect(spec.app?.args).toEqual([]);
    expect(spec.app?.env).toEqual({});
    expect(spec.files).toEqual([]);
    expect(spec.kernel).toEqual({ profile: 'microvm', config: [], cmdline: '' });
    expect(spec.run).toEqual({ hypervisor: 'qemu', memory: DEFAULT_MEMORY, cpus: 1, accel: 'auto' });
  });

  it('accepts an app.yaml without app.exec (a kernel-only image)', () => {
    const spec = parse('name: selftest\nkernel:\n  config:\n    SELFTEST: y\n  cmdline: osvb.selftest=all\n');
    expect(spec.app).toBeUndefined();
    expect(spec.kernel.cmdline).toBe('osvb.selftest=all');
    expect(parse('name: k\napp:\n').app).toBeUndefined();
  });

  it('follows symlinks to the ELF and keeps absolute host paths', () => {
    expect(parse(`name: x\napp:\n  exec: ${path.join(dir, 'hello-link')}\n`).app?.exec).toBe(
      path.join(dir, 'hello-link'),
    );
  });

  it('takes kernel.cmdline as a list too', () => {
    expect(parse('name: x\nkernel:\n  cmdline: [osvb.selftest=all, osvb.loglevel=7]\n').kernel.cmdline).toBe(
      'osvb.selftest=all osvb.loglevel=7',
    );
  });

  it('python: app.script plus the first ELF python3 on PATH as app.exec', () => {
    const probe: HostProbe = {
      ...nodeHostProbe,
      which: (cmd) => (cmd === 'python3' ? [path.join(dir, 'run.sh'), path.join(dir, 'hello')] : []),
    };
    const spec = parse('name: py\napp:\n  runtime: python\n  script: main.py\n  args: [-v]\n', probe);
    expect(spec.app).toEqual({
      exec: path.join(dir, 'hello'),
      execDefaulted: true,
      args: ['-v'],
      env: {},
      runtime: 'python',
      script: path.join(dir, 'main.py'),
    });
    const explicit = parse('name: py\napp:\n  runtime: python\n  script: main.py\n  exec: hello\n', probe);
    expect(explicit.app?.execDefaulted).toBe(false);
  });

  it('go runtime with an exec', () => {
    expect(parse('name: g\napp:\n  exec: hello\n  runtime: go\n').app?.runtime).toBe('go');
  });

  it.each([
    ['128M', 128 * 2 ** 20],
    ['1G', 2 ** 30],
    ['512MiB', 512 * 2 ** 20],
    ['2048k', 2 * 2 ** 20],
    ['1 G', 2 ** 30],
  ])('run.memory %s is %d bytes', (text, bytes) => {
    expect(parseMemorySize(text)).toBe(bytes);
    expect(parse(`name: m\nrun:\n  memory: ${text}\n`).run.memory).toBe(bytes);
  });
});

describe('app.yaml: malformed input names app.yaml:line:col', () => {
  it.each([
    // unknown keys, with did-you-mean
    ['name: x\nap:\n  exec: hello\n', 'osvb: app.yaml:2:1: unknown key `ap`; did you mean app?'],
    ['name: x\napp:\n  exce: hello\n', 'osvb: app.yaml:3:3: unknown key `app.exce`; did you mean app.exec?'],
    ['name: x\nmemory: 1G\n', 'osvb: app.yaml:2:1: unknown key `memory`; did you mean run.memory?'],
    ['name: x\nrun:\n  cpu: 2\n', 'osvb: app.yaml:3:3: unknown key `run.cpu`; did you mean run.cpus?'],
    [
      'name: x\nrun:\n  accel: hvf\n',
      'osvb: app.yaml:3:10: run.accel: "hvf" is not an accelerator; use auto, kvm, tcg',
    ],
    [
      'name: x\nkernel:\n  profiel: q35\n',
      'osvb: app.yaml:3:3: unknown key `kernel.profiel`; did you mean kernel.profile?',
    ],
    [
      'name: x\nzzzzzz: 1\n',
      'osvb: app.yaml:2:1: unknown key `zzzzzz`; known keys in app.yaml: name, app, files, rootfs, kernel, run, disks, network, volumes',
    ],
    // type errors
    [
      'name: x\napp:\n  exec: hello\n  args:\n    a: b\n',
      'osvb: app.yaml:5:5: app.args: expected a list of strings, got a map',
    ],
    [
      'name: x\napp:\n  exec: hello\n  args: --verbose\n',
      'osvb: app.yaml:4:9: app.args: expected a list of strings, got a string; write a YAML list, e.g. [--port, "8080"]',
    ],
    [
      'name: x\napp:\n  exec: hello\n  args: [[a]]\n',
      'osvb: app.yaml:4:10: app.args[0]: expected a string, got a list',
    ],
    [
      'name: x\napp:\n  exec: hello\n  env: [A=1]\n',
      'osvb: app.yaml:4:8: app.env: expected a map, got a list',
    ],
    [
      'name: x\napp:\n  exec: hello\n  env:\n    A:\n',
      'osvb: app.yaml:5:5: app.env.A: expected a string, got nothing',
    ],
    [
      'name: x\napp:\n  exec: hello\n  env:\n    1A: b\n',
      'osvb: app.yaml:5:5: app.env: "1A" is not a valid environment variable name; use letters, digits and _, not starting with a digit',
    ],
    ['name: x\napp: hello\n', 'osvb: app.yaml:2:6: app: expected a map, got a string'],
    ['name: x\napp:\n  exec: 42\n', 'osvb: app.yaml:3:9: app.exec: expected a string, got a number (42)'],
    ['- a\n- b\n', 'osvb: app.yaml:1:1: expected a map of settings at the top of app.yaml, got a list'],
    ['', 'osvb: app.yaml: app.yaml is empty; it needs at least `name: <image name>`'],
    // name
    [
      'app:\n  exec: hello\n',
      'osvb: app.yaml: missing required key `name`; add `name: <image name>` (letters, digits, . _ -)',
    ],
    [
      'name: ../evil\n',
      'osvb: app.yaml:1:7: name "../evil" is not a valid image name; use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    ],
    ['name: [a]\n', 'osvb: app.yaml:1:7: name: expected a string, got a list'],
    // YAML syntax
    ['name: x\nname: y\n', 'osvb: app.yaml:2:1: invalid YAML: duplicate key'],
    [
      'name: x\napp: [exec\n',
      'osvb: app.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a: &x 1\nname: *x\n',
      'osvb: app.yaml:2:7: YAML aliases are not supported in app.yaml; write the value out',
    ],
    // app
    [
      'name: x\napp:\n  exec: nothere\n',
      `osvb: app.yaml:3:9: app.exec: no such file nothere (${'DIR'}/nothere)`,
    ],
    ['name: x\napp:\n  exec: www\n', 'osvb: app.yaml:3:9: app.exec: www (DIR/www) is a directory'],
    [
      'name: x\napp:\n  exec: run.sh\n',
      'osvb: app.yaml:3:9: app.exec: DIR/run.sh is not an ELF executable (it is a #! script); app.exec is the interpreter (an ELF); a script goes in files:',
    ],
    [
      'name: x\napp:\n  exec: main.py\n',
      "osvb: app.yaml:3:9: app.exec: DIR/main.py is not an ELF executable; a Python script runs with `runtime: python` and `script: main.py` (app.exec then defaults to the host's python3)",
    ],
    [
      'name: x\napp:\n  exec: elf32\n',
      'osvb: app.yaml:3:9: app.exec: DIR/elf32 is a 32-bit ELF; osvb runs x86-64 binaries',
    ],
    [
      'name: x\napp:\n  exec: arm64\n',
      'osvb: app.yaml:3:9: app.exec: DIR/arm64 is an ELF for another machine (e_machine 183), not x86-64',
    ],
    [
      'name: x\napp:\n  runtime: java\n',
      'osvb: app.yaml:3:12: app.runtime: unknown runtime "java"; use one of elf, go, python',
    ],
    [
      'name: x\napp:\n  runtime: pyhton\n',
      'osvb: app.yaml:3:12: app.runtime: unknown runtime "pyhton"; did you mean python?',
    ],
    [
      'name: x\napp:\n  runtime: python\n',
      'osvb: app.yaml:3:12: `app.runtime: python` needs `app.script`; add `script: path/to/main.py`',
    ],
    [
      'name: x\napp:\n  runtime: go\n',
      'osvb: app.yaml:3:12: `app.runtime: go` needs `app.exec`; add `exec: path/to/binary`',
    ],
    [
      'name: x\napp:\n  exec: hello\n  script: main.py\n',
      'osvb: app.yaml:4:3: app.script is only used with `app.runtime: python`; add `runtime: python`',
    ],
    [
      'name: x\napp:\n  runtime: python\n  script: gone.py\n',
      'osvb: app.yaml:4:11: app.script: no such file gone.py (DIR/gone.py)',
    ],
    [
      'name: x\napp:\n  args: [a]\n',
      'osvb: app.yaml:3:3: app.args given but there is no app.exec to pass it to',
    ],
    // files
    [
      'name: x\nfiles:\n  etc/data: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "etc/data" must be absolute; write /etc/data',
    ],
    [
      'name: x\nfiles:\n  /../etc/passwd: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "/../etc/passwd" climbs out of the root filesystem with ".."',
    ],
    [
      'name: x\nfiles:\n  /a/../../b: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "/a/../../b" climbs out of the root filesystem with ".."',
    ],
    [
      'name: x\nfiles:\n  /a/../b: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "/a/../b" contains ".."; write /b',
    ],
    [
      'name: x\nfiles:\n  /a//b: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "/a//b" is not normalized; write /a/b',
    ],
    [
      'name: x\nfiles:\n  /a/./b/: data.txt\n',
      'osvb: app.yaml:3:3: files: guest path "/a/./b/" is not normalized; write /a/b',
    ],
    [
      'name: x\nfiles:\n  /etc/x: missing.txt\n',
      'osvb: app.yaml:3:11: files./etc/x: no such file missing.txt (DIR/missing.txt)',
    ],
    ['name: x\nfiles:\n  /: data.txt\n', 'osvb: app.yaml:3:6: files: only a directory can be mapped to /'],
    [
      'name: x\nfiles:\n  /etc/data: data.txt\n  /etc/data/x: data.txt\n',
      'osvb: app.yaml:4:3: files: /etc/data/x is inside /etc/data, which is a file',
    ],
    ['name: x\nfiles: [a]\n', 'osvb: app.yaml:2:8: files: expected a map, got a list'],
    // kernel
    [
      'name: x\nkernel:\n  profile: Q35!\n',
      'osvb: app.yaml:3:12: kernel.profile: "Q35!" is not a profile name; a profile is named by its file in kconfig/profiles/, e.g. microvm',
    ],
    [
      'name: x\nkernel:\n  config:\n    SMP-2: y\n',
      'osvb: app.yaml:4:5: kernel.config: "SMP-2" is not a Kconfig symbol name; symbol names are upper case letters, digits and _',
    ],
    [
      'name: x\nkernel:\n  config:\n    CONFIG_SMP: y\n',
      'osvb: app.yaml:4:5: kernel.config: write SMP, without the CONFIG_ prefix; kernel.config takes symbol names as they appear in Kconfig files',
    ],
    [
      'name: x\nkernel:\n  config:\n    SMP:\n',
      'osvb: app.yaml:4:5: kernel.config.SMP: expected y, n, m, an integer or a string, got nothing',
    ],
    [
      'name: x\nkernel:\n  config:\n    SMP: [y]\n',
      'osvb: app.yaml:4:10: kernel.config.SMP: expected y, n, m, an integer or a string, got a list',
    ],
    [
      'name: x\nkernel:\n  config:\n    NR: 1.5\n',
      'osvb: app.yaml:4:9: kernel.config.NR: 1.5 is not an integer Kconfig understands; write decimal or 0x hex',
    ],
    ['name: x\nkernel:\n  config: [SMP]\n', 'osvb: app.yaml:3:11: kernel.config: expected a map, got a list'],
    [
      'name: x\nkernel:\n  cmdline: "a\\nb"\n',
      'osvb: app.yaml:3:12: kernel.cmdline: contains a newline or control character',
    ],
    [
      'name: x\nkernel:\n  cmdline: {a: b}\n',
      'osvb: app.yaml:3:12: kernel.cmdline: expected a string, got a map',
    ],
    // run
    [
      'name: x\nrun:\n  hypervisor: firecracker\n',
      'osvb: app.yaml:3:15: run.hypervisor: firecracker is not supported yet; use qemu',
    ],
    [
      'name: x\nrun:\n  hypervisor: xen\n',
      'osvb: app.yaml:3:15: run.hypervisor: xen is not supported yet; use qemu',
    ],
    [
      'name: x\nrun:\n  hypervisor: hyperv\n',
      'osvb: app.yaml:3:15: run.hypervisor: hyperv is not supported yet; use qemu',
    ],
    [
      'name: x\nrun:\n  hypervisor: qemo\n',
      'osvb: app.yaml:3:15: run.hypervisor: unknown hypervisor "qemo"; did you mean qemu?',
    ],
    [
      'name: x\nvolumes:\n  - { host: d, guest: data }\n',
      'osvb: app.yaml:3:23: volumes[0].guest is not absolute',
    ],
    ['name: x\nvolumes:\n  - { host: d }\n', 'osvb: app.yaml:3:5: volumes[0]: missing required key `guest`'],
    ['name: x\nrootfs: zsf\n', 'osvb: app.yaml:2:9: rootfs: unknown format "zsf"; did you mean zfs?'],
    ['name: x\nrun:\n  memory: 128\n', 'osvb: app.yaml:3:11: run.memory: 128 has no unit; write e.g. 128M'],
    [
      'name: x\nrun:\n  memory: lots\n',
      'osvb: app.yaml:3:11: run.memory: "lots" is not a size; write e.g. 128M or 1G',
    ],
    ['name: x\nrun:\n  memory: 512K\n', 'osvb: app.yaml:3:11: run.memory: 512K is less than 1M'],
    [
      'name: x\nrun:\n  memory: 1500K\n',
      'osvb: app.yaml:3:11: run.memory: 1500K is not a whole number of megabytes',
    ],
    [
      'name: x\nrun:\n  memory: [1G]\n',
      'osvb: app.yaml:3:11: run.memory: expected a size such as 128M, got a list',
    ],
    ['name: x\nrun:\n  cpus: 0\n', 'osvb: app.yaml:3:9: run.cpus: 0 is out of range 1..255'],
    ['name: x\nrun:\n  cpus: two\n', 'osvb: app.yaml:3:9: run.cpus: expected a whole number, got a string'],
    [
      'name: x\nrun:\n  cpus: 1.5\n',
      'osvb: app.yaml:3:9: run.cpus: expected a whole number, got a number (1.5)',
    ],
  ])('%j', (text, expected) => {
    expect(errorLine(text)).toBe(expected.replaceAll('DIR', dir));
  });

  it('python without python3 on the host', () => {
    const probe: HostProbe = { ...nodeHostProbe, which: () => [] };
    expect(errorLine('name: x\napp:\n  runtime: python\n  script: main.py\n', probe)).toBe(
      'osvb: app.yaml:3:12: app.runtime python: python3 not found on the host PATH; install it: apt-get install python3, or set app.exec to a python3 binary',
    );
  });

  it('python3 on PATH that is only a wrapper script (pyenv shim)', () => {
    const probe: HostProbe = { ...nodeHostProbe, which: () => [path.join(dir, 'run.sh')] };
    expect(errorLine('name: x\napp:\n  runtime: python\n  script: main.py\n', probe)).toBe(
      `osvb: app.yaml:3:12: app.runtime python: no python3 on the host PATH is an ELF executable (${dir}/run.sh); set app.exec to the python3 binary, e.g. /usr/bin/python3`,
    );
  });
});

describe('loadAppSpec', () => {
  it('reads the file and resolves host paths against its directory', async () => {
    const sub = path.join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'app.yaml'), 'name: sub\napp:\n  exec: ../hello\n');
    const spec = await loadAppSpec(path.join(sub, 'app.yaml'));
    expect(spec.app?.exec).toBe(path.join(dir, 'hello'));
    expect(spec.baseDir).toBe(sub);
  });

  it('a missing app.yaml is one clear line', async () => {
    const missing = path.join(dir, 'nope', 'app.yaml');
    await expect(loadAppSpec(missing)).rejects.toThrow(ConfigError);
    try {
      await loadAppSpec(missing);
    } catch (err) {
      expect(formatError(err as ConfigError)).toBe(
        `osvb: ${missing} not found; pass the application description with --config PATH/app.yaml`,
      );
    }
  });

  it('a directory means its app.yaml', async () => {
    mkdirSync(path.join(dir, 'sub2'), { recursive: true });
    writeFileSync(path.join(dir, 'sub2', 'app.yaml'), 'name: sub2\n');
    const spec = await loadAppSpec(path.join(dir, 'sub2'));
    expect(spec.file).toBe(path.join(dir, 'sub2', 'app.yaml'));
    expect(spec.name).toBe('sub2');
    await expect(loadAppSpec(path.join(dir, 'www'))).rejects.toThrow(
      `${path.join(dir, 'www', 'app.yaml')} not found`,
    );
  });

  it('errors name the file as the user gave it', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'name: x\nrun:\n  cpus: 0\n');
    await expect(loadAppSpec(path.join(dir, 'bad.yaml'))).rejects.toMatchObject({
      loc: { file: path.join(dir, 'bad.yaml'), line: 3, column: 9 },
    });
  });
});
