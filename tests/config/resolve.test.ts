// Resolution through the Kconfig engine: on a small fixture tree (tests/fixtures/
// kconfig-tree, shaped like osvb's) and on osvb's own tree.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppSpec, nodeHostProbe, parseAppSpec } from '../../src/config/appspec.js';
import { loadKconfig } from '../../src/config/kconfig/index.js';
import type { AppRequirements } from '../../src/config/requirements.js';
import {
  formatUnmet,
  osvbSrctree,
  overriddenRequirements,
  resolveAppConfig,
  unmetUserRequestsError,
} from '../../src/config/resolve.js';
import { ConfigError, formatError } from '../../src/errors.js';

const fixture = path.resolve(import.meta.dirname, '../fixtures/kconfig-tree');
const repo = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'osvb-resolve-'));
  copyFileSync('/bin/true', path.join(dir, 'hello'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spec(text: string): AppSpec {
  return parseAppSpec(text, 'app.yaml', dir, nodeHostProbe);
}

const dynamic: AppRequirements = {
  kind: 'dynamic',
  interpreter: '/lib64/ld-linux-x86-64.so.2',
  needed: ['libc.so.6'],
  go: false,
  python: false,
};

describe('resolution on the fixture tree', () => {
  it('a profile alone', async () => {
    const cfg = await resolveAppConfig({ srctree: fixture, profile: 'small' });
    expect(cfg.config.get('VM_SMALL')).toBe('y');
    expect(cfg.config.get('PCI')).toBe('n');
    expect(cfg.qemuMachine).toBe('microvm');
    expect(cfg.unmet).toEqual([]);
    expect(cfg.defconfig.text).toBe('CONFIG_VM_SMALL=y\n');
    const pci = await resolveAppConfig({ srctree: fixture, profile: 'pcibox' });
    expect([pci.config.get('PCI'), pci.config.get('LOG_LEVEL'), pci.qemuMachine]).toEqual(['y', '6', 'q35']);
  });

  it('a dynamic ELF gets the loader, the ABI, dynamic linking and file mmap', async () => {
    const app = spec('name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n');
    const cfg = await resolveAppConfig({ srctree: fixture, spec: app, requirements: dynamic });
    for (const s of ['ELF_LOADER', 'LINUX_ABI', 'ELF_DYNAMIC', 'VFS_MMAP_FILE'])
      expect(cfg.config.get(s)).toBe('y');
    expect(cfg.config.get('RUNTIME_GO')).toBe('n');
    expect(cfg.unmet).toEqual([]);
    expect(cfg.config.dotconfig()).toContain('CONFIG_ELF_DYNAMIC=y\n');
  });

  it('a static ELF does not get dynamic linking', async () => {
    const app = spec('name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n');
    const cfg = await resolveAppConfig({
      srctree: fixture,
      spec: app,
      requirements: { kind: 'static', needed: [], go: false, python: false },
    });
    expect(cfg.config.get('ELF_LOADER')).toBe('y');
    expect(cfg.config.get('ELF_DYNAMIC')).toBe('n');
    expect(cfg.config.get('VFS_MMAP_FILE')).toBe('n');
  });

  it('a Go binary gets RUNTIME_GO and what it selects', async () => {
    const app = spec('name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n');
    const cfg = await resolveAppConfig({
      srctree: fixture,
      spec: app,
      requirements: { kind: 'static', needed: [], go: true, python: false },
    });
    expect(cfg.config.get('RUNTIME_GO')).toBe('y');
    expect(cfg.config.get('FUTEX')).toBe('y');
    expect(cfg.config.explain('FUTEX').selectedBy.map((s) => [s.expr, s.value])).toEqual([
      ['RUNTIME_GO && LINUX_ABI', 'y'],
    ]);
  });

  it('app.yaml wins over the profile, and typed values reach the .config', async () => {
    const app = spec(
      'name: x\nkernel:\n  profile: pcibox\n  config:\n    LOG_LEVEL: 2\n    PHYS_BASE: 0x200000\n    HOSTNAME: "my box"\n    PCI: n\n',
    );
    const cfg = await resolveAppConfig({ srctree: fixture, spec: app });
    expect(cfg.config.get('LOG_LEVEL')).toBe('2');
    expect(cfg.config.get('PHYS_BASE')).toBe('0x200000');
    expect(cfg.config.get('HOSTNAME')).toBe('my box');
    expect(cfg.config.get('PCI')).toBe('n');
    expect(cfg.config.dotconfig()).toContain('CONFIG_HOSTNAME="my box"\n');
    expect(cfg.unmet).toEqual([]);
  });

  it('requests the resolver cannot honour are reported with the reason, never dropped', async () => {
    const app = spec(
      [
        'name: x', // 1
        'app:', // 2
        '  exec: hello', // 3
        'kernel:', // 4
        '  profile: small', // 5
        '  config:', // 6
        '    SMP: y', // 7
        '    LOG_LEVEL: 9', // 8
        '    PCI: y', // 9
        '    SELFTST: y', // 10
        '',
      ].join('\n'),
    );
    const cfg = await resolveAppConfig({
      srctree: fixture,
      spec: app,
      requirements: { ...dynamic, python: true },
    });
    const lines = cfg.unmet.map(formatUnmet);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(
      'RUNTIME_PYTHON=y requested, no such symbol: RUNTIME_PYTHON is not defined in the Kconfig tree (requested because the app is a Python program)',
    );
    expect(lines[1]).toMatch(/^app\.yaml:7:5: SMP=y requested, got n: .*APIC/);
    expect(lines[2]).toMatch(/^app\.yaml:8:5: LOG_LEVEL=9 requested, got 4: /);
    expect(lines[3]).toMatch(/^app\.yaml:9:5: PCI=y requested, got n: .*HAS_PCI/);
    expect(lines[4]).toBe(
      'app.yaml:10:5: SELFTST=y requested, no such symbol: SELFTST is not defined in the Kconfig tree (did you mean SELFTEST?)',
    );
    // osvb build fails on the user's unmet requests: one line per symbol, each naming app.yaml:line.
    const err = unmetUserRequestsError(cfg);
    expect(err).toBeInstanceOf(ConfigError);
    const printed = formatError(err as ConfigError).split('\n');
    expect(printed).toHaveLength(4);
    expect(printed.map((l) => l.slice(0, 24))).toEqual([
      'osvb: app.yaml:7:5: SMP=',
      'osvb: app.yaml:8:5: LOG_',
      'osvb: app.yaml:9:5: PCI=',
      'osvb: app.yaml:10:5: SEL',
    ]);
  });

  it('no error for build when only osvb-derived requests are unmet', async () => {
    const app = spec('name: x\napp:\n  exec: hello\nkernel:\n  profile: small\nrun:\n  cpus: 2\n');
    const cfg = await resolveAppConfig({ srctree: fixture, spec: app, requirements: dynamic });
    expect(cfg.unmet.map((u) => u.request.symbol)).toEqual(['SMP']);
    expect(formatUnmet(cfg.unmet[0]!)).toMatch(
      /^app\.yaml:7:9: run\.cpus is 2, but the kernel will use one CPU \(SMP cannot be enabled: .*APIC.*\)$/,
    );
    expect(unmetUserRequestsError(cfg)).toBeUndefined();
  });

  it('a profile request for a symbol nobody defines is reported at the profile line', async () => {
    const cfg = await resolveAppConfig({ srctree: fixture, profile: 'broken' });
    expect(cfg.unmet.map(formatUnmet)).toEqual([
      `${fixture}/kconfig/profiles/broken.defconfig:3:1: VIRTIO_MMIO=y requested, no such symbol: VIRTIO_MMIO is not defined in the Kconfig tree (requested by profile broken (${fixture}/kconfig/profiles/broken.defconfig line 3))`,
    ]);
  });

  it('the user can turn off what the app needs, with a warning', async () => {
    const app = spec(
      'name: x\napp:\n  exec: hello\nkernel:\n  profile: small\n  config:\n    ELF_DYNAMIC: n\n',
    );
    const cfg = await resolveAppConfig({ srctree: fixture, spec: app, requirements: dynamic });
    expect(cfg.config.get('ELF_DYNAMIC')).toBe('n');
    expect(cfg.unmet).toEqual([]);
    expect(overriddenRequirements(cfg)).toEqual([
      `app.yaml:7:5: ELF_DYNAMIC=n overrides ELF_DYNAMIC=y, which was requested because app.exec ${dir}/hello is a dynamic ELF with interpreter /lib64/ld-linux-x86-64.so.2`,
    ]);
  });

  it('a wrong-typed value is an error at its app.yaml line', async () => {
    const app = spec('name: x\nkernel:\n  profile: small\n  config:\n    LOG_LEVEL: high\n');
    await expect(resolveAppConfig({ srctree: fixture, spec: app })).rejects.toThrow(
      'LOG_LEVEL is an int symbol; use a decimal integer, got "high"',
    );
  });

  it('an unknown profile is an error at kernel.profile', async () => {
    const app = spec('name: x\nkernel:\n  profile: smal\n');
    await expect(resolveAppConfig({ srctree: fixture, spec: app })).rejects.toMatchObject({
      message: 'unknown kernel profile "smal"',
      hint: 'did you mean small?',
      loc: { file: 'app.yaml', line: 3, column: 12 },
    });
  });
});

describe("osvb's own tree", () => {
  it('is the default source tree', () => {
    expect(osvbSrctree()).toBe(repo);
  });

  it.each([
    ['microvm', 'PLATFORM_QEMU_MICROVM', 'n'],
    ['q35', 'PLATFORM_QEMU_Q35', 'y'],
    ['pc', 'PLATFORM_QEMU_PC', 'y'],
  ])('profile %s selects %s, PCI=%s, and names its QEMU machine', async (profile, platform, pci) => {
    const cfg = await resolveAppConfig({ profile });
    expect(cfg.config.get(platform)).toBe('y');
    expect(cfg.config.get('PCI')).toBe(pci);
    expect(cfg.qemuMachine).toBe(profile);
    expect(cfg.unmet).toEqual([]);
    expect(cfg.diagnostics.filter((d) => d.level !== 'info')).toEqual([]);
  });

  it('microvm has no PCI: a request for it is unmet with the reason', async () => {
    const app = spec('name: x\nkernel:\n  config:\n    PCI: y\n');
    const cfg = await resolveAppConfig({ spec: app });
    expect(cfg.unmet.map(formatUnmet)).toEqual([
      expect.stringMatching(/^app\.yaml:4:5: PCI=y requested, got n: .*PLATFORM_HAS_PCI/),
    ]);
  });

  it('examples/selftest/app.yaml resolves; SELFTEST is on or reported as missing', async () => {
    const { loadAppSpec } = await import('../../src/config/appspec.js');
    const st = await loadAppSpec(path.join(repo, 'examples/selftest/app.yaml'));
    expect(st.app).toBeUndefined();
    const cfg = await resolveAppConfig({ spec: st });
    const tree = await loadKconfig({ srctree: repo, kconfig: 'kconfig/Kconfig', onDiagnostic: () => {} });
    if (tree.symbolNames().includes('SELFTEST')) {
      expect(cfg.config.get('SELFTEST')).toBe('y');
      expect(cfg.unmet).toEqual([]);
    } else {
      // The selftest module has not landed on this branch: the request is reported, not dropped.
      expect(cfg.unmet.map((u) => [u.request.symbol, u.request.origin])).toEqual([['SELFTEST', 'app.yaml']]);
    }
    expect(cfg.requests.filter((r) => r.symbol === 'SELFTEST').map((r) => r.reason)).toEqual([
      'requested because kernel.cmdline has osvb.selftest=all',
      `requested by ${st.file} line 6`,
    ]);
  });
});
