// run.cpus / -c against the CPUs the kernel starts (NR_CPUS, 1 without SMP):
// a VM with more vCPUs than that would silently run on fewer.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseAppSpec } from '../../src/config/appspec.js';
import { ConfigError } from '../../src/errors.js';
import { runDefaults } from '../../src/kernel/app.js';
import { fixedConfig } from '../../src/kernel/config.js';
import { buildFixture, tempDir } from '../kernel/helpers.js';

const spec = (cpus: number) => parseAppSpec(`name: x\nrun:\n  cpus: ${cpus}\n`, 'app.yaml', '/tmp');
const machine = { QEMU_MACHINE: 'microvm' };

describe('run.cpus against NR_CPUS', () => {
  it('records the maximum in the run defaults when run.cpus fits', () => {
    const d = runDefaults(spec(4), fixedConfig({ ...machine, SMP: 'y', NR_CPUS: '4' }));
    expect(d).toMatchObject({ cpus: 4, maxCpus: 4 });
  });

  it('names app.yaml:line:col and NR_CPUS when run.cpus is larger', () => {
    const err = (() => {
      try {
        runDefaults(spec(8), fixedConfig({ ...machine, SMP: 'y', NR_CPUS: '4' }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe('run.cpus is 8, but this kernel uses at most 4 CPUs (NR_CPUS)');
    expect((err as ConfigError).loc).toMatchObject({ file: 'app.yaml', line: 3, column: 9 });
    expect((err as ConfigError).hint).toMatch(/NR_CPUS/);
  });

  it('says SMP is off when the kernel has one CPU', () => {
    expect(() => runDefaults(spec(2), fixedConfig({ ...machine, SMP: 'n', NR_CPUS: '1' }))).toThrow(
      'run.cpus is 2, but this kernel is built without SMP and uses 1 CPU',
    );
  });
});

describe('osvb run -c against the image', () => {
  let img: string;
  let err: string[];
  beforeAll(async () => {
    const dir = await tempDir();
    img = join(dir, 'img');
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    await buildFixture({ cacheDir: join(dir, 'cache/osvb'), outDir: img });
    const file = join(img, 'manifest.json');
    const m = JSON.parse(await readFile(file, 'utf8'));
    m.run.maxCpus = 2;
    await writeFile(file, JSON.stringify(m));
  });
  afterEach(() => vi.restoreAllMocks());

  it('refuses more vCPUs than the kernel starts, as a usage error', async () => {
    err = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '-c', '2'])).toBe(0);
    expect(await main(['node', 'osvb', 'run', img, '--dry-run', '-c', '3'])).toBe(2);
    expect(err.join('')).toContain("3 CPUs requested, but this image's kernel starts at most 2 (NR_CPUS)");
  });
});
