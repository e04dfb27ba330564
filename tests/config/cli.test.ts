// `osvb config show` and `osvb config explain` through main(), as a user runs them.

import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { groupSetSymbols } from '../../src/cli/config.js';

const fixture = path.resolve(import.meta.dirname, '../fixtures/kconfig-tree');
const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

async function osvb(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const status = await main(['node', 'osvb', ...args]);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function appYaml(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osvb-cli-config-'));
  copyFileSync('/bin/true', path.join(dir, 'hello'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('osvb config show', () => {
  it('prints the set symbols grouped by menu', async () => {
    const file = appYaml('show.yaml', 'name: web\napp:\n  exec: hello\nkernel:\n  profile: small\n');
    const r = await osvb('config', 'show', '--config', file, '--srctree', fixture);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        `# web: ${file}, profile small, QEMU machine microvm`,
        '',
        'Platform:',
        '  CONFIG_VM_SMALL=y',
        '  CONFIG_QEMU_MACHINE="microvm"',
        '',
        'Core:',
        '  CONFIG_LOG_LEVEL=4',
        '  CONFIG_PHYS_BASE=0x100000',
        '  CONFIG_HOSTNAME="osvb"',
        '  CONFIG_ELF_LOADER=y',
        '  CONFIG_LINUX_ABI=y',
        '  CONFIG_VFS_MMAP_FILE=y',
        '  CONFIG_ELF_DYNAMIC=y',
        '',
      ].join('\n'),
    );
  });

  it('--json for programs', async () => {
    const file = appYaml(
      'json.yaml',
      'name: web\nkernel:\n  profile: pcibox\n  config:\n    HOSTNAME: box\n',
    );
    const r = await osvb('config', 'show', '--config', file, '--srctree', fixture, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.name).toBe('web');
    expect(out.profile).toBe('pcibox');
    expect(out.qemuMachine).toBe('q35');
    expect(out.config).toMatchObject({ VM_PCI: 'y', PCI: 'y', LOG_LEVEL: '6', HOSTNAME: 'box' });
    expect(out.config.SELFTEST).toBeUndefined();
    expect(out.requests).toContainEqual({
      symbol: 'HOSTNAME',
      value: 'box',
      origin: 'app.yaml',
      reason: `requested by ${file} line 5`,
      loc: { file, line: 5, column: 5 },
      overridden: false,
    });
    expect(out.unmet).toEqual([]);
  });

  it('warns about unmet requests on stderr', async () => {
    const file = appYaml('unmet.yaml', 'name: x\nkernel:\n  profile: small\n  config:\n    SMP: y\n');
    const r = await osvb('config', 'show', '--config', file, '--srctree', fixture);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('CONFIG_SMP');
    expect(r.stderr).toMatch(new RegExp(`^osvb: warning: ${file}:5:5: SMP=y requested, got n: .*APIC.*\\n$`));
  });

  it('a missing app.yaml is one line and exit 1', async () => {
    const r = await osvb('config', 'show', '--config', path.join(dir, 'absent.yaml'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `osvb: ${path.join(dir, 'absent.yaml')} not found; pass the application description with --config PATH/app.yaml\n`,
    );
  });

  it('a malformed app.yaml is one line naming line:col', async () => {
    const file = appYaml('bad.yaml', 'name: x\nrun:\n  cpu: 2\n');
    const r = await osvb('config', 'show', '--config', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`osvb: ${file}:3:3: unknown key \`run.cpu\`; did you mean run.cpus?\n`);
  });

  it("on osvb's own tree with examples/selftest", async () => {
    const r = await osvb('config', 'show', '--config', path.join(repo, 'examples/selftest/app.yaml'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Platform:\n  CONFIG_PLATFORM_QEMU_MICROVM=y\n');
    expect(r.stdout).toContain('CONFIG_QEMU_MACHINE="microvm"');
  });
});

describe('osvb config explain', () => {
  it("prints the engine's explanation and osvb's reason for its request", async () => {
    const file = appYaml('explain.yaml', 'name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n');
    const r = await osvb('config', 'explain', 'ELF_DYNAMIC', '--config', file, '--srctree', fixture);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('ELF_DYNAMIC');
    expect(r.stdout).toContain(
      `osvb: ELF_DYNAMIC=y requested because app.exec ${dir}/hello is a dynamic ELF with interpreter /lib64/ld-linux-x86-64.so.2 (${file}:3:9)\n`,
    );
  });

  it('names the app.yaml line of a user request, and why it was not honoured', async () => {
    const file = appYaml('explain2.yaml', 'name: x\nkernel:\n  profile: small\n  config:\n    SMP: y\n');
    const r = await osvb('config', 'explain', 'CONFIG_SMP', '--config', file, '--srctree', fixture);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`osvb: SMP=y requested by ${file} line 5, not honoured: got n: .*APIC`),
    );
  });

  it('--json', async () => {
    const file = appYaml('explain3.yaml', 'name: x\nkernel:\n  profile: pcibox\n');
    const r = await osvb('config', 'explain', 'PCI', '--config', file, '--srctree', fixture, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ symbol: 'PCI', type: 'bool', value: 'y', profile: 'pcibox', unmet: null });
    expect(out.requests).toEqual([
      expect.objectContaining({ symbol: 'PCI', value: 'y', origin: 'profile', overridden: false }),
    ]);
  });

  it('without --config uses the default profile', async () => {
    const r = await osvb('config', 'explain', 'PCI');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'osvb: no request for PCI (profile microvm); its value comes from the Kconfig tree',
    );
    const q35 = await osvb('config', 'explain', 'PCI', '--profile', 'q35', '--json');
    expect(JSON.parse(q35.stdout)).toMatchObject({ value: 'y', profile: 'q35' });
  });

  it('an unknown symbol is one line with a did-you-mean', async () => {
    const r = await osvb('config', 'explain', 'PLATFORM_QEMU_Q53');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'osvb: unknown Kconfig symbol PLATFORM_QEMU_Q53; did you mean PLATFORM_QEMU_Q35?\n',
    );
  });

  it('a symbol osvb asked for that no module defines yet: the request and why', async () => {
    const file = appYaml('explain4.yaml', 'name: x\nkernel:\n  profile: small\nrun:\n  cpus: 2\n');
    const fx = await osvb('config', 'explain', 'RUNTIME_PYTHON', '--config', file, '--srctree', fixture);
    expect(fx.status).toBe(1);
    expect(fx.stderr).toBe('osvb: unknown Kconfig symbol RUNTIME_PYTHON\n');
    const py = appYaml(
      'explain5.yaml',
      'name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n  config:\n    SMPP: y\n',
    );
    const r = await osvb('config', 'explain', 'SMPP', '--config', py, '--srctree', fixture);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'Symbol: SMPP is not defined in the Kconfig tree (did you mean SMP?)',
        '',
        `osvb: SMPP=y requested by ${py} line 7, not honoured: no such symbol: SMPP is not defined in the Kconfig tree (did you mean SMP?)`,
        '',
      ].join('\n'),
    );
  });

  it('derived requests name the app.yaml key they come from', async () => {
    const file = appYaml('explain6.yaml', 'name: x\nkernel:\n  profile: small\nrun:\n  cpus: 2\n');
    const r = await osvb('config', 'explain', 'SMP', '--config', file, '--srctree', fixture);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\nosvb: SMP=y requested because run\\.cpus is 2 \\(${file}:5:9\\), not honoured: got n: .*APIC.*\\n$`,
      ),
    );
  });

  it('a missing symbol argument is a usage error', async () => {
    const r = await osvb('config', 'explain');
    expect(r.status).toBe(2);
  });
});

describe('grouping a .config by menu', () => {
  it('follows nested menus and skips empty ones', () => {
    const text = [
      '#',
      '# Automatically generated file; DO NOT EDIT.',
      '# osvb kernel configuration',
      '#',
      'CONFIG_TOP=y',
      '',
      '#',
      '# Outer',
      '#',
      'CONFIG_A=y',
      '# CONFIG_B is not set',
      '',
      '#',
      '# Inner',
      '#',
      'CONFIG_C="x"',
      '# end of Inner',
      'CONFIG_D=1',
      '# end of Outer',
      '',
      '#',
      '# Empty',
      '#',
      '# end of Empty',
    ].join('\n');
    expect(groupSetSymbols(text)).toEqual([
      { menu: '(top level)', symbols: ['TOP'] },
      { menu: 'Outer', symbols: ['A'] },
      { menu: 'Outer > Inner', symbols: ['C'] },
      { menu: 'Outer', symbols: ['D'] },
    ]);
  });
});
