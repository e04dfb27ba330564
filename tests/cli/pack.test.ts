// npm pack ships the CLI, the kernel sources and the examples, never built
// images or caches (an example built in place leaves .osvb/ and build/ behind).

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const planted = join(ROOT, 'examples', 'selftest', '.osvb', `pack-test-${process.pid}`);

afterAll(async () => {
  await rm(planted, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('leaves out built images and example binaries', async () => {
    await mkdir(planted, { recursive: true });
    await writeFile(join(planted, 'kernel.elf'), Buffer.alloc(1024));
    const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files.filter((p) => /(^|\/)\.osvb\/|^examples\/[^/]+\/build\/|\.tmp$/.test(p))).toEqual([]);
    expect(files).toContain('bin/osvb.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('kconfig/Kconfig');
    expect(files.some((p) => p.startsWith('modules/arch/'))).toBe(true);
    expect(files.some((p) => p.startsWith('examples/hello-c/'))).toBe(true);
  });
});
