// Every ```yaml block of the README is an app.yaml a user may copy: each is
// built as written (with a static program for its app.exec and the host
// directories its files: name, the disk images its disks: name), so the reference cannot drift from what osvb accepts.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../kernel/helpers.js';

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

afterEach(() => vi.restoreAllMocks());

describe('README app.yaml examples', () => {
  it('has at least the reference block', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    expect(blocks[0]).toContain('name: web');
  });

  it.each(blocks.map((b, i) => [i, b] as const))(
    'block %i builds as written',
    async (_i, yaml) => {
      const dir = await tempDir('osvb-readme-');
      // What the block points at on the host: the program and the files: directories.
      const exec = /^\s+exec: (\S+)/m.exec(yaml)?.[1];
      if (exec) {
        const src = join(dir, 'prog.c');
        writeFileSync(src, 'int main(void) { return 0; }\n');
        execFileSync('musl-gcc', ['-static', '-O1', '-o', join(dir, exec), src]);
      }
      for (const m of yaml.matchAll(/^\s+\/\S+: (\.\/\S+)\s*$/gm))
        mkdirSync(join(dir, m[1]!), { recursive: true });
      // disks: entries name image files that must exist.
      for (const m of yaml.matchAll(/^\s+- file: (\S+)/gm))
        writeFileSync(join(dir, m[1]!), Buffer.alloc(1 << 20));
      const file = join(dir, 'app.yaml');
      writeFileSync(file, yaml);
      let err = '';
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
        err += String(s);
        return true;
      });
      const status = await main(['node', 'osvb', 'build', '--config', file]);
      vi.restoreAllMocks();
      expect(err).toBe('');
      expect(status).toBe(0);
    },
    300_000,
  );
});
