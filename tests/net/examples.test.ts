// The network examples as a user runs them: copied to a temp directory,
// built (make), booted with `osvb run --config app.yaml -p PORT:GUESTPORT`;
// the host fetches a file and checks its sha256, uploads 8 MiB and checks
// the checksum the server computed, then asks the server to stop (status 0).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../kernel/helpers.js';
import { freePort, get, sha } from './helpers.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

afterEach(() => vi.restoreAllMocks());

async function serve(
  name: string,
  guestPort: number,
  talk: (base: string) => Promise<void>,
): Promise<{ status: number; out: string }> {
  const copy = join(dir, name);
  cpSync(join(EXAMPLES, name), copy, { recursive: true, filter: (src) => !/\/(build|\.osvb)$/.test(src) });
  if (existsSync(join(copy, 'Makefile'))) execFileSync('make', ['-s', '-C', copy], { stdio: 'ignore' });
  const port = await freePort();
  let out = '';
  const capture = (s: unknown) => {
    out += String(s);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const run = main([
    'node',
    'osvb',
    'run',
    '--config',
    join(copy, 'app.yaml'),
    '-p',
    `${port}:${guestPort}`,
    '--timeout',
    '250',
  ]);
  try {
    await talk(`http://127.0.0.1:${port}`);
  } finally {
    const status = await run;
    vi.restoreAllMocks();
    out = out.replaceAll('\r', '');
    // biome-ignore lint/correctness/noUnsafeFinally: the run's status is the result
    return { status, out };
  }
}

async function upload(base: string): Promise<void> {
  const body = randomBytes(8 << 20);
  const r = await fetch(`${base}/echo`, { method: 'POST', body, signal: AbortSignal.timeout(120_000) });
  expect((await r.text()).trim()).toBe(`${sha(body)} ${body.length}`);
}

describe('network examples', () => {
  it('http-python: http.server file GET (sha256), 8 MiB upload, stop', async () => {
    const r = await serve('http-python', 8000, async (base) => {
      const got = await get(`${base}/hello.txt`, Date.now() + 200_000);
      expect(sha(got)).toBe(sha(readFileSync(join(EXAMPLES, 'http-python/www/hello.txt'))));
      await upload(base);
      expect((await get(`${base}/quit`, Date.now() + 10_000)).toString()).toBe('bye');
    });
    expect(r.out).toMatch(/"GET \/hello.txt HTTP\/1.1" 200/);
    expect(r.out).toContain('http-python: stopped');
    expect(r.status).toBe(0);
  }, 400_000);

  it('http-go: net/http 3 MB GET (sha256), 8 MiB upload, stop', async () => {
    const r = await serve('http-go', 8080, async (base) => {
      const got = await get(`${base}/file/3000000`, Date.now() + 200_000);
      const want = Buffer.alloc(3000000);
      for (let i = 0; i < want.length; i++) want[i] = ((i * 7) ^ (i >> 8)) & 0xff;
      expect(got.length).toBe(want.length);
      expect(sha(got)).toBe(sha(want));
      await upload(base);
      expect((await get(`${base}/quit`, Date.now() + 10_000)).toString()).toBe('bye');
    });
    expect(r.out).toContain('http-go: stopped');
    expect(r.status).toBe(0);
  }, 400_000);
});
