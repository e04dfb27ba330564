// Differential test: random Kconfig trees and configs, resolved by Linux's conf
// and by osvb's engine, must give the same .config (and savedefconfig) for
// every target. Seeds are fixed, so a failure is reproducible.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKconfig, type Target } from '../../src/config/kconfig/index.js';
import { generateConfig, generateTree, Rng } from './gen.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
let conf = '';
let work = '';
const TREES = Number(process.env.OSVB_FUZZ_TREES ?? 60);
const SEED = Number(process.env.OSVB_FUZZ_SEED ?? 20250601);

beforeAll(() => {
  const tree = execFileSync(path.join(HERE, 'prepare-linux.sh'), {
    encoding: 'utf8',
    timeout: 600_000,
  }).trim();
  conf = path.join(tree, 'scripts/kconfig/conf');
  work = mkdtempSync(path.join(tmpdir(), 'osvb-fuzz-'));
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function runConf(dir: string, args: string[], config: string, extraEnv: Record<string, string> = {}): string {
  execFileSync(conf, ['-s', ...args, 'Kconfig'], {
    cwd: dir,
    env: { PATH: process.env.PATH, KCONFIG_CONFIG: config, ...extraEnv },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return readFileSync(path.join(dir, config), 'latin1');
}

describe('random trees: osvb and conf agree', () => {
  it(`${TREES} trees from seed ${SEED}, every target`, async () => {
    const failures: string[] = [];
    for (let t = 0; t < TREES; t++) {
      const seed = SEED + t;
      const r = new Rng(seed);
      const g = generateTree(r);
      const dir = path.join(work, String(seed));
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'Kconfig'), g.kconfig);
      const cfg = generateConfig(r, g);
      const allcfg = generateConfig(r, g);
      writeFileSync(path.join(dir, 'base.config'), cfg);
      writeFileSync(path.join(dir, 'all.config'), allcfg);
      const kc = await loadKconfig({ srctree: dir, env: {}, cwd: dir, onDiagnostic: () => {} });
      const check = (what: string, ours: string, linux: string): void => {
        if (ours !== linux) failures.push(`seed ${seed} ${what}`);
      };
      const targets: Target[] = [
        'olddefconfig',
        'defconfig',
        'allnoconfig',
        'allyesconfig',
        'allmodconfig',
        'alldefconfig',
      ];
      for (const target of targets) {
        const base = { text: cfg, file: 'base.config' };
        let linux: string;
        if (target === 'olddefconfig') {
          writeFileSync(path.join(dir, 'x.config'), cfg);
          linux = runConf(dir, ['--olddefconfig'], 'x.config');
        } else if (target === 'defconfig') {
          linux = runConf(dir, ['--defconfig=base.config'], 'x.config');
        } else {
          linux = runConf(dir, [`--${target}`], 'x.config');
        }
        const ours = kc.resolve({
          target,
          base: target === 'olddefconfig' || target === 'defconfig' ? base : undefined,
        });
        check(target, ours.dotconfig(), linux);
        if (target === 'olddefconfig') {
          writeFileSync(path.join(dir, 'x.config'), linux);
          runConf(dir, ['--savedefconfig=x.defconfig'], 'x.config');
          check('savedefconfig', ours.savedefconfig(), readFileSync(path.join(dir, 'x.defconfig'), 'latin1'));
        }
      }
      // KCONFIG_ALLCONFIG with a fragment.
      const linux = runConf(dir, ['--allyesconfig'], 'x.config', { KCONFIG_ALLCONFIG: 'all.config' });
      check(
        'allyesconfig+allconfig',
        kc.resolve({ target: 'allyesconfig', allconfig: { text: allcfg, file: 'all.config' } }).dotconfig(),
        linux,
      );
      if (!failures.some((f) => f.startsWith(`seed ${seed} `))) rmSync(dir, { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
  });
});
