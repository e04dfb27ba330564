// Token auth as registries with a token service do it: a 401 with a Bearer
// challenge, a token fetched from the realm with the Docker config's
// credentials (Basic), the request retried with the token. The "registry"
// here is a small HTTP server on a loopback port that only does auth and
// serves one image's bytes; the real-registry round trip is in oci.test.ts.

import { createServer, type Server } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageFromDir } from '../../src/pkg/oci.js';
import { RegistryClient } from '../../src/pkg/registry.js';
import { buildFixture, tempDir } from '../kernel/helpers.js';

let server: Server;
let port = 0;
let dockerDir = '';
const seen: string[] = [];

beforeAll(async () => {
  const dir = await tempDir('osvb-auth-');
  const image = join(dir, 'image');
  await buildFixture({ cacheDir: join(dir, 'cache'), outDir: image });
  const img = await imageFromDir(image, '0.0.0');
  const blobs = new Map(img.blobs.map((b) => [b.desc.digest, b.data]));
  await mkdir(join(dir, 'docker'));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname} ${req.headers.authorization?.split(' ')[0] ?? '-'}`);
    if (url.pathname === '/token') {
      const ok = req.headers.authorization === `Basic ${Buffer.from('ci:s3cret').toString('base64')}`;
      const scope = url.searchParams.get('scope');
      res.writeHead(ok && scope === 'repository:team/app:pull' ? 200 : 401, {
        'content-type': 'application/json',
      });
      res.end(ok ? JSON.stringify({ token: 'tok-123' }) : '{}');
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-123') {
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake",scope="repository:team/app:pull"`,
      });
      res.end();
      return;
    }
    if (url.pathname === '/v2/team/app/manifests/1') {
      res.writeHead(200, { 'content-type': img.manifest.mediaType });
      res.end(img.manifestBytes);
      return;
    }
    const m = /^\/v2\/team\/app\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const b = m ? blobs.get(m[1]!) : undefined;
    res.writeHead(b ? 200 : 404);
    res.end(b);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
  dockerDir = join(dir, 'docker');
  await writeFile(
    join(dir, 'docker', 'config.json'),
    JSON.stringify({
      auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from('ci:s3cret').toString('base64') } },
    }),
  );
});

afterAll(() => {
  server?.close();
});

describe('registry token auth', () => {
  it('fetches a token with the Docker config credentials and retries', async () => {
    const env = { ...process.env, DOCKER_CONFIG: dockerDir };
    const client = new RegistryClient(`127.0.0.1:${port}`, { env });
    const img = await client.pull({ registry: `127.0.0.1:${port}`, repository: 'team/app', tag: '1' });
    expect(img.manifest.layers.length).toBeGreaterThan(0);
    expect(seen.slice(0, 3)).toEqual([
      'GET /v2/team/app/manifests/1 -',
      'GET /token Basic',
      'GET /v2/team/app/manifests/1 Bearer',
    ]);
    // The token is kept: blob requests go straight through.
    expect(seen.slice(3).every((s) => s.endsWith('Bearer'))).toBe(true);
  });

  it('without credentials the token service says no, and the error says so', async () => {
    const env = { ...process.env, DOCKER_CONFIG: '/nonexistent' };
    const client = new RegistryClient(`127.0.0.1:${port}`, { env });
    await expect(
      client.pull({ registry: `127.0.0.1:${port}`, repository: 'team/app', tag: '1' }),
    ).rejects.toThrow(/token request to http:\/\/127\.0\.0\.1:\d+ failed: HTTP 401/);
  });
});
