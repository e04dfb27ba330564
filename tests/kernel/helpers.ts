import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { type BuildConfig, fixedConfig } from '../../src/kernel/config.js';
import { buildImage, type BuildResult } from '../../src/kernel/pipeline.js';

export const FIXTURE = resolve(import.meta.dirname, '../fixtures/kernel-min');
export const FIXTURE_APP = resolve(import.meta.dirname, '../fixtures/kernel-min-app/app.yaml');

export type FixtureMode = 'EXIT' | 'NORECORD' | 'HANG' | 'PANIC' | 'FAULT';

/** The fixture kernel's configuration with overrides (values as in .config, strings unquoted). */
export function fixtureConfig(over: Record<string, string> = {}, mode: FixtureMode = 'EXIT'): BuildConfig {
  return fixedConfig({
    FIX_ARCH: 'y',
    FIX_MAIN: 'y',
    FIX_STATUS: '0',
    FIX_BANNER: 'y',
    FIX_BANNER_TEXT: 'hello from the fixture kernel',
    [`FIX_MODE_${mode}`]: 'y',
    QEMU_MACHINE: 'microvm',
    ...over,
  });
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A temporary directory removed after the test file. */
export async function tempDir(prefix = 'osvb-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A private copy of the fixture source tree, for tests that edit sources. */
export async function copyFixture(): Promise<string> {
  const d = await tempDir('osvb-srctree-');
  await cp(FIXTURE, d, { recursive: true });
  return d;
}

export interface FixtureBuild {
  cacheDir: string;
  outDir: string;
  srctree?: string;
  config?: BuildConfig;
  env?: NodeJS.ProcessEnv;
  cmdline?: string;
  machine?: 'microvm' | 'q35' | 'pc';
}

export function buildFixture(b: FixtureBuild): Promise<BuildResult> {
  return buildImage({
    name: 'fixture',
    srctree: b.srctree ?? FIXTURE,
    config: b.config ?? fixtureConfig(),
    outDir: b.outDir,
    cmdline: b.cmdline ?? '',
    run: { machine: b.machine ?? 'microvm', memory: '64M', cpus: 1 },
    env: b.env,
    cacheDir: b.cacheDir,
    jobs: 2,
  });
}

/** Display paths of the units that ran the compiler. */
export function compiledUnits(r: BuildResult): string[] {
  return r.objects.filter((o) => o.compiled).map((o) => o.unit.display);
}
