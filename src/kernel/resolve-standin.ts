// Stand-in for the Kconfig resolver (src/config/resolve.ts on branch kconfig)
// until it lands: the profile's defconfig plus app.yaml's kernel.config, taken
// literally, with no Kconfig defaults or dependencies. Replaced by the engine.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppSpec } from '../config/appspec.js';
import { ConfigError } from '../errors.js';
import { type BuildConfig, fixedConfig, parseDotconfig } from './config.js';

export async function resolveStandin(spec: AppSpec, srctree: string): Promise<BuildConfig> {
  const file = join(srctree, 'kconfig', 'profiles', `${spec.kernel.profile}.defconfig`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError(`unknown profile "${spec.kernel.profile}"`, {
      loc: spec.locs['kernel.profile'] ?? { file: spec.file },
      hint: `no ${file}`,
    });
  }
  const values = parseDotconfig(text, file);
  for (const e of spec.kernel.config) values.set(e.symbol, e.value.text);
  return fixedConfig(Object.fromEntries(values));
}
