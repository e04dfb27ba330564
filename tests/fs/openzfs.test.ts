// A pool written by OpenZFS itself (zpool create and zfs in a Linux guest,
// made by tests/fs/openzfs/make-pool.sh, which also wrote the manifest) is
// mounted by osvb's kernel reader as a `format: zfs` data disk, and a Python
// program's listing of it (types, modes, sizes, sha256s, link targets) must
// equal the manifest line for line.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImage } from '../../src/hypervisor/run.js';
import { buildApp } from '../../src/kernel/app.js';
import { tempDir } from './helpers.js';

const FIXTURE = resolve(import.meta.dirname, 'openzfs');

// The same walk (and line format) make-pool.sh used for the manifest.
const SCRIPT = `
import hashlib, os, stat
def walk(d, rel):
    for name in sorted(os.listdir(d)):
        p, q = os.path.join(d, name), rel + "/" + name
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            print("link", q, os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            print("dir", q, oct(st.st_mode & 0o7777), len(os.listdir(p)))
            walk(p, q)
        else:
            with open(p, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()
            print("file", q, oct(st.st_mode & 0o7777), st.st_size, h)
print("openzfs: begin")
walk("/data", "")
print("openzfs: end")
`;

describe.skipIf(!existsSync('/usr/bin/python3'))(
  'a pool made by OpenZFS (zpool create in a Linux guest)',
  () => {
    let dir: string;
    let cleanup: () => void;
    let outDir: string;
    beforeAll(async () => {
      ({ dir, cleanup } = tempDir('openzfs'));
      const pool = join(dir, 'pool.img');
      writeFileSync(
        pool,
        execFileSync('xz', ['-dc', join(FIXTURE, 'pool.img.xz')], { maxBuffer: 128 << 20 }),
      );
      const app = join(dir, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'main.py'), SCRIPT);
      writeFileSync(
        join(app, 'app.yaml'),
        `name: openzfs\napp:\n  runtime: python\n  script: main.py\nrun:\n  memory: 256M\ndisks:\n  - { file: ${pool}, format: zfs, mount: /data }\n`,
      );
      outDir = (await buildApp(join(app, 'app.yaml'), { jobs: 2 })).outDir;
    }, 600_000);
    afterAll(() => cleanup?.());

    it('lists and reads back every file, directory and symlink as the manifest says', async () => {
      let out = '';
      let log = '';
      const r = await runImage(outDir, {
        timeoutSeconds: 240,
        accel: 'tcg',
        logLevel: 6,
        stdout: (s) => {
          out += s;
        },
        stderr: (s) => {
          log += s;
        },
      });
      const lines = out.replaceAll('\r', '').split('\n');
      const begin = lines.indexOf('openzfs: begin');
      const end = lines.indexOf('openzfs: end');
      expect(end, `${out}\n${log}`).toBeGreaterThan(begin);
      expect(begin).toBeGreaterThanOrEqual(0);
      const want = readFileSync(join(FIXTURE, 'manifest.txt'), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'));
      expect(want.length).toBeGreaterThan(300);
      expect(lines.slice(begin + 1, end)).toEqual(want);
      expect(log).toMatch(/zfs: pool osvbpool on vd[a-z] \(txg \d+, ZPL version 5, system attributes\)/);
      expect(r.status).toBe(0);
    }, 300_000);
  },
);
