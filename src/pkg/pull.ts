// `osvb pull` and `osvb run oci:REF`: fetch an osvb OCI image (from a registry,
// or an OCI layout directory as oci-layout:DIR[:TAG]) into the cache, verified,
// as an image directory osvb run boots.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../kernel/cache.js';
import { touch } from '../kernel/lru.js';
import { readManifest } from '../kernel/manifest.js';
import type { Manifest } from '../kernel/manifest.js';
import { type OciImage, readLayout, unpackImage } from './oci.js';
import { type ClientOptions, parseRef, RegistryClient } from './registry.js';

export interface Pulled {
  dir: string;
  digest: string;
  manifest: Manifest;
}

export async function fetchImage(ref: string, opts: ClientOptions = {}): Promise<OciImage> {
  const layout = /^oci-layout:(.+?)(?::([\w][\w.-]*))?$/.exec(ref);
  if (layout) return readLayout(layout[1]!, layout[2]);
  const r = parseRef(ref);
  return new RegistryClient(r.registry, opts).pull(r);
}

/** Pulls `ref` into <cache>/images/<digest>/ (kept: the digest names its content). */
export async function pullImage(
  ref: string,
  opts: ClientOptions & { outDir?: string } = {},
): Promise<Pulled> {
  const env = opts.env ?? process.env;
  const img = await fetchImage(ref, opts);
  const dir = opts.outDir ?? join(cacheRoot(env), 'images', img.digest.replace(/^sha256:/, ''));
  const cached = !opts.outDir && existsSync(join(dir, 'manifest.json'));
  if (cached) await touch(join(dir, 'manifest.json')); // used now, for the cache's LRU order
  const manifest = cached ? await readManifest(dir) : await unpackImage(img, dir);
  return { dir, digest: img.digest, manifest };
}
