// osvb's own tree (kconfig/Kconfig + modules/*/Kconfig) is ordinary Kconfig:
// Linux's conf must read it and write the same .config as osvb's engine, for
// the all*config targets and for every profile.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKconfig } from '../../src/cli/kconfig.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PROFILES = readdirSync(path.join(ROOT, 'kconfig/profiles')).filter((f) => f.endsWith('.defconfig'));
let confBin = '';
let work = '';

beforeAll(() => {
  const tree = execFileSync(path.join(ROOT, 'tests/conformance/prepare-linux.sh'), {
    encoding: 'utf8',
  }).trim();
  confBin = path.join(tree, 'scripts/kconfig/conf');
  work = mkdtempSync(path.join(tmpdir(), 'osvb-own-tree-'));
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function withoutHeader(config: string): string {
  return config
    .split('\n')
    .filter((l) => !/^# (Automatically generated|osvb kernel configuration|Linux)/.test(l))
    .join('\n')
    .replace(/^#\n(?:#\n)*/, '');
}

function linuxConf(args: string[], out: string): string {
  // conf writes include/config/ into its working directory: keep that out of the checkout.
  execFileSync(confBin, ['-s', ...args, 'kconfig/Kconfig'], {
    cwd: work,
    env: { ...process.env, srctree: ROOT, KCONFIG_CONFIG: out },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return readFileSync(out, 'utf8');
}

async function osvbConf(target: string, out: string, defconfig?: string): Promise<string> {
  const status = await runKconfig(target, {
    srctree: ROOT,
    kconfig: 'kconfig/Kconfig',
    config: out,
    out,
    silent: true,
    ...(defconfig ? { defconfig } : {}),
  });
  expect(status).toBe(0);
  return readFileSync(out, 'utf8');
}

describe("osvb's own Kconfig tree against Linux's conf", () => {
  for (const target of ['alldefconfig', 'allnoconfig', 'allyesconfig']) {
    it(target, async () => {
      const linux = linuxConf([`--${target}`], path.join(work, `linux.${target}`));
      const ours = await osvbConf(target, path.join(work, `osvb.${target}`));
      expect(withoutHeader(ours)).toBe(withoutHeader(linux));
      expect(ours).toContain('CONFIG_SCHED=y');
    });
  }
  for (const profile of PROFILES) {
    it(`profile ${profile}`, async () => {
      const file = path.join(ROOT, 'kconfig/profiles', profile);
      const linux = linuxConf([`--defconfig=${file}`], path.join(work, `linux.${profile}`));
      const ours = await osvbConf('defconfig', path.join(work, `osvb.${profile}`), file);
      expect(withoutHeader(ours)).toBe(withoutHeader(linux));
    });
  }
});
