import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePycHeader, pythonSourceHash, uncheckedHashPatch } from '../../src/fs/pyc.js';
import { prng, tempDir } from './helpers.js';

const PY = '/usr/bin/python3';
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('pyc'));
});
afterAll(() => cleanup());

const minor = Number(
  execFileSync(PY, ['-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8' }),
);
const stdlib = `/usr/lib/python3.${minor}`;
const osPyc = `${stdlib}/__pycache__/os.cpython-3${minor}.pyc`;
const magic = (): Buffer => readFileSync(osPyc).subarray(0, 4);

describe('source hash', () => {
  it('matches importlib.util.source_hash for every length up to 40 and random data', () => {
    const rnd = prng(11);
    const inputs: Buffer[] = [];
    for (let n = 0; n <= 40; n++)
      inputs.push(Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))));
    inputs.push(readFileSync(`${stdlib}/os.py`));
    const script =
      'import sys, json, importlib.util\n' +
      'for h in json.load(sys.stdin): print(importlib.util.source_hash(bytes.fromhex(h)).hex())\n';
    const theirs = execFileSync(PY, ['-c', script], {
      input: JSON.stringify(inputs.map((b) => b.toString('hex'))),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    })
      .trim()
      .split('\n');
    const ours = inputs.map((b) => Buffer.from(pythonSourceHash(magic(), b, minor)).toString('hex'));
    expect(ours).toEqual(theirs);
  });
});

describe('unchecked-hash .pyc', () => {
  it('turns a fresh timestamp .pyc into one Python loads without looking at the source mtime', () => {
    const pkg = join(dir, 'mod');
    mkdirSync(pkg, { recursive: true });
    const src = join(pkg, 'm.py');
    writeFileSync(src, 'VALUE = "compiled"\n');
    execFileSync(PY, ['-m', 'py_compile', src]);
    const pyc = join(pkg, '__pycache__', `m.cpython-3${minor}.pyc`);
    const head = readFileSync(pyc);
    expect(parsePycHeader(head)?.flags).toBe(0);
    const source = readFileSync(src);
    const patch = uncheckedHashPatch(head, source, Math.floor(statSync(src).mtimeMs / 1000), minor);
    expect(patch).toBeDefined();
    const patched = Buffer.from(head);
    patched.set(patch!.bytes, patch!.offset);
    writeFileSync(pyc, patched);
    // The pyc now carries the real source hash (py_compile --invalidation-mode unchecked-hash gives the same header).
    const check = execFileSync(
      PY,
      [
        '-c',
        `import importlib.util,sys; d=open(sys.argv[1],'rb').read(); print(d[4:8].hex(), d[8:16] == importlib.util.source_hash(open(sys.argv[2],'rb').read()))`,
        pyc,
        src,
      ],
      { encoding: 'utf8' },
    );
    expect(check.trim()).toBe('01000000 True');
    // Change the source behind its back (content and mtime): an unchecked pyc is still used.
    writeFileSync(src, 'VALUE = "edited"\n');
    utimesSync(src, 0, 0);
    const out = execFileSync(PY, ['-c', 'import m; print(m.VALUE)'], {
      cwd: pkg,
      encoding: 'utf8',
      env: { PYTHONPATH: pkg },
    });
    expect(out.trim()).toBe('compiled');
  });

  it('leaves out a stale .pyc (different mtime or size), and anything not a timestamp pyc', () => {
    const head = readFileSync(osPyc).subarray(0, 16);
    const source = readFileSync(`${stdlib}/os.py`);
    const mtime = Math.floor(statSync(`${stdlib}/os.py`).mtimeMs / 1000);
    expect(uncheckedHashPatch(head, source, mtime, minor)).toBeDefined();
    expect(uncheckedHashPatch(head, source, mtime + 1, minor)).toBeUndefined();
    expect(uncheckedHashPatch(head, source.subarray(1), mtime, minor)).toBeUndefined();
    const hashed = Buffer.from(head);
    hashed[4] = 1;
    expect(uncheckedHashPatch(hashed, source, mtime, minor)).toBeUndefined();
    expect(uncheckedHashPatch(Buffer.from('not a pyc at all'), source, mtime, minor)).toBeUndefined();
  });
});
