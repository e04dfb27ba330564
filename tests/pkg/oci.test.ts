// OCI images against a real registry (Debian's docker-registry on a free
// loopback port, temp storage, stopped after): osvb pushes (chunked and
// monolithic, cross-repo mount), skopeo reads back, osvb pulls and runs with
// every digest verified, and a corrupted blob is refused naming its digest.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readManifest } from '../../src/kernel/manifest.js';
import { ANNOTATION, containerDisk, MT, untar } from '../../src/pkg/oci.js';
import { dockerCredentials, parseRef } from '../../src/pkg/registry.js';
import { gunzipSync } from 'node:zlib';
import { buildFixture, fixtureConfig, tempDir } from '../kernel/helpers.js';

/** --json prints newline-delimited events; the last one is the result. */
function lastJson(out: string): unknown {
  const lines = out.trim().split('\n');
  for (const l of lines) JSON.parse(l); // every line is one JSON event
  const last = JSON.parse(lines.at(-1)!) as { event: string };
  expect(last.event).toBe('result');
  return last;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Runs the CLI in-process, capturing stdout and stderr. */
async function cli(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const status = await main(['node', 'osvb', ...args]);
    return { status, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let dir: string;
let imageDir: string;
let registry: ChildProcess | undefined;
let storage: string;
let host: string;

beforeAll(async () => {
  dir = await tempDir('osvb-oci-');
  vi.stubEnv('XDG_CACHE_HOME', join(dir, 'cache'));
  vi.stubEnv('DOCKER_CONFIG', join(dir, 'docker'));
  imageDir = join(dir, 'image');
  await buildFixture({
    cacheDir: join(dir, 'cache'),
    outDir: imageDir,
    config: fixtureConfig({ FIX_STATUS: '42' }),
    cmdline: 'osvb.fixture=1 "two words"',
  });
  // Give the image a root filesystem so every layer kind travels (the fixture kernel ignores it).
  const cpio = Buffer.alloc(300_000);
  for (let i = 0; i < cpio.length; i++) cpio[i] = (i * 7919) & 0xff;
  await writeFile(join(imageDir, 'rootfs.cpio'), cpio);
  const m = await readManifest(imageDir);
  const sha = createHash('sha256').update(cpio).digest('hex');
  await writeFile(
    join(imageDir, 'manifest.json'),
    JSON.stringify({
      ...m,
      rootfs: { file: 'rootfs.cpio', size: cpio.length, sha256: sha, key: sha, command: [], files: [] },
    }),
  );

  storage = join(dir, 'registry');
  await mkdir(storage);
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  await writeFile(
    join(dir, 'registry.yml'),
    `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${storage} }, delete: { enabled: true } }\nhttp: { addr: ${host} }\n`,
  );
  registry = spawn('docker-registry', ['serve', join(dir, 'registry.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('docker-registry did not start');
});

afterAll(() => {
  registry?.kill('SIGTERM');
  vi.unstubAllEnvs();
});

describe('references and credentials', () => {
  it('parses references and insists on a registry host', () => {
    expect(parseRef('localhost:5000/a/b:1.0')).toEqual({
      registry: 'localhost:5000',
      repository: 'a/b',
      tag: '1.0',
      digest: undefined,
    });
    expect(parseRef(`r.example/x@sha256:${'a'.repeat(64)}`).digest).toBe(`sha256:${'a'.repeat(64)}`);
    expect(() => parseRef('hello:1')).toThrow(/HOST\[:PORT\]/);
    expect(() => parseRef('localhost:5000/UPPER')).toThrow(/not HOST/);
  });

  it('reads credentials from the Docker config file', async () => {
    await mkdir(join(dir, 'docker'), { recursive: true });
    await writeFile(
      join(dir, 'docker', 'config.json'),
      JSON.stringify({ auths: { 'r.example:443': { auth: Buffer.from('ci:s3cr:et').toString('base64') } } }),
    );
    expect(await dockerCredentials('r.example:443')).toEqual({ username: 'ci', password: 's3cr:et' });
    expect(await dockerCredentials('other.example')).toBeUndefined();
  });
});

describe('a real registry round trip', () => {
  const ref = () => `${host}/osvb/fixture:1`;

  it('pushes in chunks; skopeo inspect reads the annotations and layers', async () => {
    const r = await cli(
      'pkg',
      imageDir,
      '--format',
      'oci',
      '--tag',
      ref(),
      '--push',
      '--chunk-size',
      '65536',
      '--json',
    );
    expect(r.status, r.err).toBe(0);
    const pushed = lastJson(r.out) as { uploaded: string[]; digest: string };
    expect(pushed.uploaded).toHaveLength(4); // config + kernel, rootfs, manifest layers
    const m = await readManifest(imageDir);
    const inspect = JSON.parse(
      (await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${ref()}`])).stdout,
    ) as {
      Digest: string;
      Labels: Record<string, string>;
      Layers: string[];
    };
    expect(inspect.Digest).toBe(pushed.digest);
    expect(inspect.Labels[ANNOTATION.configHash]).toBe(m.configHash);
    expect(inspect.Layers).toHaveLength(3);
    const raw = JSON.parse(
      (await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref()}`])).stdout,
    ) as { mediaType: string; annotations: Record<string, string>; layers: { mediaType: string }[] };
    expect(raw.mediaType).toBe(MT.manifest);
    expect(raw.annotations[ANNOTATION.cmdline]).toBe('osvb.fixture=1 "two words"');
    expect(raw.annotations[ANNOTATION.version]).toMatch(/^\d+\.\d+\.\d+/);
    expect(raw.layers.every((l) => l.mediaType === MT.layer)).toBe(true);
  });

  it('pushing again uploads nothing; another repository mounts every blob', async () => {
    const again = lastJson(
      (await cli('pkg', imageDir, '--format', 'oci', '--tag', ref(), '--push', '--json')).out,
    ) as {
      uploaded: string[];
      skipped: string[];
    };
    expect(again.uploaded).toEqual([]);
    expect(again.skipped).toHaveLength(4);
    const other = await cli(
      'pkg',
      imageDir,
      '--format',
      'oci',
      '--tag',
      `${host}/other/fixture:2`,
      '--push',
      '--mount-from',
      'osvb/fixture',
      '--json',
    );
    expect(other.status, other.err).toBe(0);
    expect((lastJson(other.out) as { mounted: string[] }).mounted).toHaveLength(4);
  });

  it('skopeo copy to an OCI layout; osvb pulls that layout and the registry image byte for byte', async () => {
    const layout = join(dir, 'skopeo-layout');
    await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref()}`, `oci:${layout}:v1`]);
    for (const source of [`oci-layout:${layout}:v1`, ref()]) {
      const out = join(dir, `pulled-${source.length}`);
      const r = await cli('pull', source, '-o', out);
      expect(r.status, r.err).toBe(0);
      for (const f of ['kernel.elf', 'rootfs.cpio', 'manifest.json']) {
        expect(
          (await readFile(join(out, f))).equals(await readFile(join(imageDir, f))),
          `${source} ${f}`,
        ).toBe(true);
      }
    }
  });

  it('osvb run oci:REF pulls and boots it with the image exit status', async () => {
    const r = await cli('run', `oci:${ref()}`, '--timeout', '60');
    expect(r.out).toContain('hello from the fixture kernel');
    expect(r.status).toBe(42);
  });

  it('writes an OCI layout with -o that skopeo reads', async () => {
    const out = join(dir, 'layout');
    const r = await cli(
      'pkg',
      imageDir,
      '--format',
      'oci',
      '--tag',
      `${host}/osvb/fixture:layout`,
      '-o',
      out,
    );
    expect(r.status, r.err).toBe(0);
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci:${out}:layout`])).stdout) as {
      Layers: string[];
    };
    expect(inspect.Layers).toHaveLength(3);
  });

  it('refuses a corrupted blob, naming the digest that failed', async () => {
    const m = JSON.parse(
      (await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref()}`])).stdout,
    ) as { layers: { digest: string }[] };
    const victim = m.layers[1]!.digest.slice('sha256:'.length);
    const data = join(storage, 'docker/registry/v2/blobs/sha256', victim.slice(0, 2), victim, 'data');
    const bytes = await readFile(data);
    const mid = bytes.length >> 1;
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
    await writeFile(data, bytes);
    const out = join(dir, 'pulled-corrupt');
    const r = await cli('pull', ref(), '-o', out);
    expect(r.status).toBe(1);
    expect(r.err).toContain(`blob sha256:${victim} failed verification`);
    expect(existsSync(out)).toBe(false);
    const run = await cli('run', `oci:${ref()}`, '--timeout', '30');
    expect(run.status).toBe(1);
    expect(run.err).toContain(`sha256:${victim}`);
  });
});

describe('containerDisk', () => {
  it('puts the disk under /disk/ owned by qemu (107), with osvb annotations', async () => {
    const disk = join(dir, 'fake.qcow2');
    await writeFile(disk, Buffer.from('QFI\xfbfake disk', 'latin1'));
    const m = await readManifest(imageDir);
    const img = await containerDisk(disk, m, '0.1.0');
    expect(img.manifest.annotations?.[ANNOTATION.kind]).toBe('containerdisk');
    expect(img.manifest.layers).toHaveLength(1);
    const layer = img.blobs.find((b) => b.desc.digest === img.manifest.layers[0]!.digest)!;
    const files = await untar(gunzipSync(layer.data));
    expect([...files.keys()]).toEqual(['disk/fixture.qcow2']);
    expect(files.get('disk/fixture.qcow2')!.toString('latin1')).toBe('QFI\xfbfake disk');
    expect((await readdir(dir)).some((n) => n.includes('.tmp-'))).toBe(false);
  });
});
