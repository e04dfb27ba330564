// The engine-independent half of resolution: profiles, the requirement table,
// request precedence and the typed defconfig handed to the engine.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppSpec, nodeHostProbe, parseAppSpec } from '../../src/config/appspec.js';
import { listProfiles, loadProfile, parseDefconfig } from '../../src/config/profile.js';
import {
  collectRequests,
  effectiveRequests,
  honoured,
  REQUIREMENT_RULES,
  renderDefconfig,
  showRequest,
} from '../../src/config/requests.js';
import { type AppRequirements, inspectForConfig, NO_REQUIREMENTS } from '../../src/config/requirements.js';
import { ConfigError, formatError } from '../../src/errors.js';

const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osvb-requests-'));
  copyFileSync('/bin/true', path.join(dir, 'hello'));
  writeFileSync(path.join(dir, 'main.py'), 'print(1)\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spec(text: string): AppSpec {
  return parseAppSpec(text, 'app.yaml', dir, { ...nodeHostProbe, which: () => [path.join(dir, 'hello')] });
}

const microvm = () => loadProfile(repo, 'microvm');

describe('profiles', () => {
  it('osvb ships microvm, q35 and pc', () => {
    expect(listProfiles(repo)).toEqual(['microvm', 'pc', 'q35']);
  });

  it('a profile is a defconfig fragment with a describing header', () => {
    const q35 = loadProfile(repo, 'q35');
    expect(q35.description).toMatch(/^osvb profile: q35\nQEMU machine: q35/);
    expect(q35.lines.map((l) => `${l.symbol}=${l.value.text}@${l.loc.line}`)).toEqual([
      'PLATFORM_QEMU_Q35=y@5',
      'PCI=y@6',
    ]);
    expect(q35.file).toBe(path.join(repo, 'kconfig/profiles/q35.defconfig'));
  });

  it('an unknown profile names the app.yaml line and suggests one', () => {
    const loc = { file: 'app.yaml', line: 4, column: 12 };
    expect(() => loadProfile(repo, 'q53', loc)).toThrow(ConfigError);
    try {
      loadProfile(repo, 'q53', loc);
    } catch (err) {
      expect(formatError(err as ConfigError)).toBe(
        'osvb: app.yaml:4:12: unknown kernel profile "q53"; did you mean q35?',
      );
    }
    try {
      loadProfile(repo, 'zzzzzzz', loc);
    } catch (err) {
      expect(formatError(err as ConfigError)).toBe(
        'osvb: app.yaml:4:12: unknown kernel profile "zzzzzzz"; profiles: microvm, pc, q35',
      );
    }
  });

  it('parses every defconfig line form', () => {
    const lines = parseDefconfig(
      '# header\n\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_D=42\nCONFIG_E=0x1f\nCONFIG_F="a \\"q\\" \\\\ b"\nCONFIG_G=""\n',
      'p.defconfig',
    );
    expect(lines.map((l) => [l.symbol, l.value.kind, l.value.text, l.loc.line])).toEqual([
      ['A', 'tristate', 'y', 3],
      ['B', 'tristate', 'n', 4],
      ['C', 'tristate', 'm', 5],
      ['D', 'number', '42', 6],
      ['E', 'number', '0x1f', 7],
      ['F', 'string', 'a "q" \\ b', 8],
      ['G', 'string', '', 9],
    ]);
  });

  it.each([
    [
      'CONFIG_A=y\nSMP=y\n',
      'osvb: p.defconfig:2:1: not a defconfig line: "SMP=y"; write CONFIG_NAME=value or "# CONFIG_NAME is not set"',
    ],
    [
      'CONFIG_A=yes\n',
      'osvb: p.defconfig:1:1: invalid value yes; use y, n, m, a number or a "quoted string"',
    ],
    [
      'CONFIG_A="open\n',
      'osvb: p.defconfig:1:1: invalid value "open; use y, n, m, a number or a "quoted string"',
    ],
  ])('rejects %j', (text, expected) => {
    try {
      parseDefconfig(text, 'p.defconfig');
      expect.unreachable();
    } catch (err) {
      expect(formatError(err as ConfigError)).toBe(expected);
    }
  });
});

describe('the requirement table', () => {
  const dynamic: AppRequirements = {
    kind: 'dynamic',
    interpreter: '/lib64/ld-linux-x86-64.so.2',
    needed: ['libc.so.6'],
    go: false,
    python: false,
  };

  it('every rule sets upper-case symbols', () => {
    for (const rule of REQUIREMENT_RULES) for (const s of rule.set) expect(s).toMatch(/^[A-Z0-9_]+$/);
  });

  it('a dynamic ELF asks for the loader, the Linux ABI, dynamic linking and file mmap, with reasons', () => {
    const app = spec('name: x\napp:\n  exec: hello\n');
    const reqs = collectRequests(app, dynamic, microvm()).filter((r) => r.origin === 'requirement');
    expect(reqs.map((r) => showRequest(r))).toEqual([
      'ELF_LOADER=y',
      'LINUX_ABI=y',
      'ELF_DYNAMIC=y',
      'VFS_MMAP_FILE=y',
    ]);
    expect(reqs[0]?.reason).toBe(`requested because app.exec ${dir}/hello is a dynamic Linux ELF`);
    expect(reqs[2]?.reason).toBe(
      `requested because app.exec ${dir}/hello is a dynamic ELF with interpreter /lib64/ld-linux-x86-64.so.2`,
    );
    expect(reqs[2]?.loc).toEqual({ file: 'app.yaml', line: 3, column: 9 });
  });

  it('a static ELF asks only for the loader and the ABI', () => {
    const app = spec('name: x\napp:\n  exec: hello\n');
    const reqs = collectRequests(app, { kind: 'static', needed: [], go: false, python: false }, microvm());
    expect(reqs.filter((r) => r.origin === 'requirement').map((r) => r.symbol)).toEqual([
      'ELF_LOADER',
      'LINUX_ABI',
    ]);
  });

  it('Go binaries ask for the Go runtime support', () => {
    const app = spec('name: x\napp:\n  exec: hello\n');
    const reqs = collectRequests(app, { kind: 'static', needed: [], go: true, python: false }, microvm());
    const go = reqs.find((r) => r.symbol === 'RUNTIME_GO');
    expect(go?.reason).toBe(`requested because app.exec ${dir}/hello is a Go binary`);
    const declared = collectRequests(
      spec('name: x\napp:\n  exec: hello\n  runtime: go\n'),
      NO_REQUIREMENTS,
      microvm(),
    );
    expect(declared.find((r) => r.symbol === 'RUNTIME_GO')?.reason).toBe(
      'requested because app.runtime is go',
    );
  });

  it('Python apps ask for the Python runtime support and name the host python3', () => {
    const app = spec('name: x\napp:\n  runtime: python\n  script: main.py\n');
    const reqs = collectRequests(app, { ...dynamic, python: true }, microvm());
    expect(reqs.find((r) => r.symbol === 'RUNTIME_PYTHON')?.reason).toBe(
      'requested because app.runtime is python',
    );
    expect(reqs.find((r) => r.symbol === 'ELF_LOADER')?.reason).toBe(
      `requested because app.exec the host python3 (${dir}/hello) is a dynamic Linux ELF`,
    );
  });

  it('osvb.selftest on the command line asks for SELFTEST; several CPUs ask for SMP', () => {
    const app = spec('name: st\nkernel:\n  cmdline: osvb.selftest=all\nrun:\n  cpus: 4\n');
    const reqs = collectRequests(app, NO_REQUIREMENTS, microvm()).filter((r) => r.origin === 'requirement');
    expect(reqs.map((r) => [r.symbol, r.reason, r.loc?.line])).toEqual([
      ['SELFTEST', 'requested because kernel.cmdline has osvb.selftest=all', 3],
      ['SMP', 'requested because run.cpus is 4', 5],
    ]);
  });

  it('a kernel-only image asks for no application support', () => {
    const reqs = collectRequests(spec('name: k\n'), NO_REQUIREMENTS, microvm());
    expect(reqs.map((r) => r.origin)).toEqual(['profile']);
  });
});

describe('precedence and the generated defconfig', () => {
  const types: Record<string, string> = {
    PLATFORM_QEMU_MICROVM: 'bool',
    ELF_LOADER: 'bool',
    LINUX_ABI: 'bool',
    ELF_DYNAMIC: 'bool',
    VFS_MMAP_FILE: 'bool',
    LOG_LEVEL: 'int',
    PHYS_BASE: 'hex',
    HOSTNAME: 'string',
    VIRTIO: 'tristate',
  };
  const typeOf = (s: string) => types[s];
  const names = Object.keys(types);

  it('profile first, requirements next, app.yaml last: the user wins', () => {
    const app = spec(
      'name: x\napp:\n  exec: hello\nkernel:\n  config:\n    ELF_DYNAMIC: n\n    PLATFORM_QEMU_MICROVM: n\n',
    );
    const reqs = collectRequests(
      app,
      { kind: 'dynamic', interpreter: '/lib/ld-musl-x86_64.so.1', needed: [], go: false, python: false },
      microvm(),
    );
    expect(reqs.map((r) => `${r.origin}:${showRequest(r)}`)).toEqual([
      'profile:PLATFORM_QEMU_MICROVM=y',
      'requirement:ELF_LOADER=y',
      'requirement:LINUX_ABI=y',
      'requirement:ELF_DYNAMIC=y',
      'requirement:VFS_MMAP_FILE=y',
      'app.yaml:ELF_DYNAMIC=n',
      'app.yaml:PLATFORM_QEMU_MICROVM=n',
    ]);
    expect(reqs[0]?.overriddenBy).toBe(reqs[6]);
    expect(reqs[3]?.overriddenBy).toBe(reqs[5]);
    expect(reqs[5]?.reason).toBe('requested by app.yaml line 6');
    const out = renderDefconfig(reqs, typeOf, names);
    expect(out.text).toBe(
      [
        'CONFIG_ELF_LOADER=y',
        'CONFIG_LINUX_ABI=y',
        'CONFIG_VFS_MMAP_FILE=y',
        '# CONFIG_ELF_DYNAMIC is not set',
        '# CONFIG_PLATFORM_QEMU_MICROVM is not set',
        '',
      ].join('\n'),
    );
    expect(out.lineRequest.get(4)).toBe(reqs[5]);
    expect(effectiveRequests(reqs)).toHaveLength(5);
  });

  it('writes each value the way its symbol type needs', () => {
    const app = spec(
      'name: x\nkernel:\n  config:\n    LOG_LEVEL: 7\n    PHYS_BASE: 0x100000\n    HOSTNAME: my "box"\n    VIRTIO: m\n',
    );
    const out = renderDefconfig(collectRequests(app, NO_REQUIREMENTS, microvm()), typeOf, names);
    expect(out.text.split('\n').slice(1, 5)).toEqual([
      'CONFIG_LOG_LEVEL=7',
      'CONFIG_PHYS_BASE=0x100000',
      'CONFIG_HOSTNAME="my \\"box\\""',
      'CONFIG_VIRTIO=m',
    ]);
  });

  it('a value of the wrong type is an error at its app.yaml line', () => {
    const cases: [string, string][] = [
      ['LOG_LEVEL: y', 'osvb: app.yaml:4:5: LOG_LEVEL is an int symbol; use a decimal integer, got "y"'],
      [
        'PHYS_BASE: 4096',
        'osvb: app.yaml:4:5: PHYS_BASE is a hex symbol; use a hex number starting with 0x, got "4096"',
      ],
      ['ELF_LOADER: 1', 'osvb: app.yaml:4:5: ELF_LOADER is a bool symbol; use y or n, got "1"'],
      ['VIRTIO: "y"', 'osvb: app.yaml:4:5: VIRTIO is a tristate symbol; use y, m or n, got "y"'],
    ];
    for (const [line, expected] of cases) {
      const app = spec(`name: x\nkernel:\n  config:\n    ${line}\n`);
      try {
        renderDefconfig(collectRequests(app, NO_REQUIREMENTS, microvm()), typeOf, names);
        expect.unreachable(line);
      } catch (err) {
        expect(formatError(err as ConfigError)).toBe(expected);
      }
    }
  });

  it('a symbol the tree does not define is kept as unknown with a did-you-mean, not dropped', () => {
    const app = spec('name: x\nkernel:\n  config:\n    ELF_LOADR: y\n');
    const out = renderDefconfig(collectRequests(app, NO_REQUIREMENTS, microvm()), typeOf, names);
    expect(out.text).toBe('CONFIG_PLATFORM_QEMU_MICROVM=y\n');
    expect(out.unknown.map((u) => [u.request.symbol, u.request.loc?.line, u.reason])).toEqual([
      ['ELF_LOADR', 4, 'ELF_LOADR is not defined in the Kconfig tree (did you mean ELF_LOADER?)'],
    ]);
  });

  it('compares values by type', () => {
    expect(honoured({ kind: 'tristate', text: 'y' }, 'y', 'bool')).toBe(true);
    expect(honoured({ kind: 'tristate', text: 'm' }, 'y', 'bool')).toBe(false);
    expect(honoured({ kind: 'number', text: '007' }, '7', 'int')).toBe(true);
    expect(honoured({ kind: 'number', text: '0x10' }, '0x00010', 'hex')).toBe(true);
    expect(honoured({ kind: 'number', text: '0x10' }, '0x11', 'hex')).toBe(false);
    expect(honoured({ kind: 'string', text: 'a' }, 'a', 'string')).toBe(true);
    expect(honoured({ kind: 'tristate', text: 'y' }, undefined, 'bool')).toBe(false);
  });
});

describe('requirements of an app for osvb config (src/fs ELF inspection)', () => {
  // Real binaries: built here by gcc and musl-gcc, and Debian's own (scripts/setup installs them).
  function build(name: string, ...flags: string[]): string {
    const src = path.join(dir, 'prog.c');
    writeFileSync(src, 'int main(void) { return 3; }\n');
    const out = path.join(dir, name);
    execFileSync(flags[0] ?? 'gcc', [...flags.slice(1), '-o', out, src]);
    return out;
  }
  const inspect = (exec: string, extra = '') =>
    inspectForConfig(spec(`name: x\napp:\n  exec: ${exec}\n${extra}`));

  it('static, static-pie and dynamic (glibc and musl) C programs', async () => {
    const none = { needed: [], go: false, python: false };
    expect(await inspect(build('st', 'musl-gcc', '-static'))).toEqual({ kind: 'static', ...none });
    expect(await inspect(build('spie', 'gcc', '-static-pie', '-fPIE'))).toEqual({
      kind: 'static-pie',
      ...none,
    });
    expect(await inspect(build('dyn', 'gcc'))).toEqual({
      kind: 'dynamic',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libc.so.6'],
      go: false,
      python: false,
    });
    expect(await inspect(build('mdyn', 'musl-gcc'))).toMatchObject({
      kind: 'dynamic',
      interpreter: '/lib/ld-musl-x86_64.so.1',
    });
  });

  it("Debian's busybox and Go binaries", async () => {
    expect(await inspect('/bin/busybox')).toEqual({ kind: 'static', needed: [], go: false, python: false });
    expect(await inspect('/usr/lib/go/bin/gofmt')).toEqual({
      kind: 'static',
      needed: [],
      go: true,
      python: false,
    });
  });

  it('a Python app is the host python3 plus the python flag', async () => {
    const app = parseAppSpec('name: py\napp:\n  runtime: python\n  script: main.py\n', 'app.yaml', dir);
    const req = await inspectForConfig(app);
    expect(req).toMatchObject({ kind: 'dynamic', python: true, go: false });
    expect(req.needed).toContain('libc.so.6');
  });

  it('a kernel-only image needs nothing', async () => {
    expect(await inspectForConfig(spec('name: k\n'))).toEqual(NO_REQUIREMENTS);
  });
});
