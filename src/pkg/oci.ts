// osvb images as OCI images. An image manifest (application/vnd.oci.image.
// manifest.v1+json) whose gzip tar layers hold /osvb/kernel.elf,
// /osvb/rootfs.cpio and /osvb/manifest.json, one layer each (so a new app on an
// unchanged kernel re-uploads only the rootfs), with osvb's facts as
// annotations. A KubeVirt containerDisk is the same shape with one layer
// holding /disk/<name>.qcow2. Every blob is content-addressed (sha256) and
// checked on the way in.

import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { replaceDirAtomic } from '../kernel/atomic.js';
import { type Manifest, readManifest } from '../kernel/manifest.js';

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** Annotation keys osvb writes on the image manifest. */
export const ANNOTATION = {
  configHash: 'dev.osvb.config-hash',
  cmdline: 'dev.osvb.cmdline',
  version: 'dev.osvb.version',
  kind: 'dev.osvb.kind',
  title: 'org.opencontainers.image.title',
  created: 'org.opencontainers.image.created',
  refName: 'org.opencontainers.image.ref.name',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: typeof MT.manifest;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Blob {
  desc: Descriptor;
  data: Buffer;
}

/** An image in memory: the manifest's bytes (whose digest names it) and every blob it references. */
export interface OciImage {
  manifest: OciManifest;
  manifestBytes: Buffer;
  digest: string;
  blobs: Blob[];
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export class DigestError extends InputError {}

/** Refuses bytes whose digest or size is not what the descriptor says. */
export function verifyBlob(desc: Pick<Descriptor, 'digest' | 'size'>, data: Uint8Array, where: string): void {
  if (!/^sha256:[0-9a-f]{64}$/.test(desc.digest)) {
    throw new DigestError(`unsupported or malformed digest ${JSON.stringify(desc.digest)}`, {
      loc: { file: where },
    });
  }
  const got = sha256Digest(data);
  if (got !== desc.digest || data.length !== desc.size) {
    throw new DigestError(
      `blob ${desc.digest} failed verification: got ${got} (${data.length} bytes, expected ${desc.size})`,
      { loc: { file: where } },
    );
  }
}

/** A deterministic tar (mtime 0, root owner) of the given files, in order. */
export async function tarOf(
  files: { name: string; data: Buffer; mode?: number; uid?: number }[],
): Promise<Buffer> {
  const tar = await import('tar-stream');
  const pack = tar.pack();
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      pack.entry({
        name: `${d}/`,
        type: 'directory',
        mode: 0o755,
        mtime: new Date(0),
        uid: f.uid ?? 0,
        gid: f.uid ?? 0,
      });
    }
    pack.entry(
      { name: f.name, mode: f.mode ?? 0o644, mtime: new Date(0), uid: f.uid ?? 0, gid: f.uid ?? 0 },
      f.data,
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The regular files of a tar, by name (leading ./ and / removed). */
export async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const tar = await import('tar-stream');
  const ex = tar.extract();
  const out = new Map<string, Buffer>();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      if (e.header.type === 'file') out.set(e.header.name.replace(/^(\.\/|\/)+/, ''), Buffer.concat(chunks));
    }
  })();
  ex.end(data);
  await done;
  return out;
}

function blobOf(mediaType: string, data: Buffer, annotations?: Record<string, string>): Blob {
  return {
    desc: {
      mediaType,
      digest: sha256Digest(data),
      size: data.length,
      ...(annotations ? { annotations } : {}),
    },
    data,
  };
}

async function layerOf(
  files: Parameters<typeof tarOf>[0],
  title: string,
): Promise<{ blob: Blob; diffId: string }> {
  const tar = await tarOf(files);
  // gzip with mtime 0 and no name: the same input gives the same digest.
  return {
    blob: blobOf(MT.layer, gzipSync(tar, { level: 6 }), { [ANNOTATION.title]: title }),
    diffId: sha256Digest(tar),
  };
}

function assemble(
  layers: { blob: Blob; diffId: string }[],
  annotations: Record<string, string>,
  labels: Record<string, string>,
): OciImage {
  const config = blobOf(
    MT.config,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: labels },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    ),
  );
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: config.desc,
    layers: layers.map((l) => l.blob.desc),
    annotations,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    blobs: [config, ...layers.map((l) => l.blob)],
  };
}

export function osvbAnnotations(
  m: Manifest,
  version: string,
  kind: 'image' | 'containerdisk',
): Record<string, string> {
  return {
    [ANNOTATION.kind]: kind,
    [ANNOTATION.configHash]: m.configHash,
    [ANNOTATION.cmdline]: m.kernel.cmdline,
    [ANNOTATION.version]: version,
    [ANNOTATION.title]: m.name,
    // Reproducible images carry a time only when SOURCE_DATE_EPOCH gave one.
    ...(m.builtAt ? { [ANNOTATION.created]: m.builtAt } : {}),
  };
}

/** The OCI image of an osvb image directory. */
export async function imageFromDir(imageDir: string, version: string): Promise<OciImage> {
  const m = await readManifest(imageDir);
  const layers = [
    await layerOf(
      [{ name: 'osvb/kernel.elf', data: await readFile(join(imageDir, m.kernel.file)), mode: 0o755 }],
      'kernel.elf',
    ),
  ];
  if (m.rootfs) {
    layers.push(
      await layerOf(
        [{ name: 'osvb/rootfs.cpio', data: await readFile(join(imageDir, m.rootfs.file)) }],
        'rootfs.cpio',
      ),
    );
  }
  layers.push(
    await layerOf(
      [{ name: 'osvb/manifest.json', data: await readFile(join(imageDir, 'manifest.json')) }],
      'manifest.json',
    ),
  );
  const ann = osvbAnnotations(m, version, 'image');
  return assemble(layers, ann, ann);
}

/** A KubeVirt containerDisk: the qcow2 disk under /disk/, owned by uid 107 (qemu in virt-launcher). */
export async function containerDisk(diskFile: string, m: Manifest, version: string): Promise<OciImage> {
  const layer = await layerOf(
    [{ name: `disk/${m.name}.qcow2`, data: await readFile(diskFile), mode: 0o440, uid: 107 }],
    `${m.name}.qcow2`,
  );
  const ann = osvbAnnotations(m, version, 'containerdisk');
  return assemble([layer], ann, ann);
}

/** Checks a manifest's shape before anything it names is trusted. */
export function parseManifest(bytes: Buffer, where: string): OciManifest {
  let j: unknown;
  try {
    j = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InputError('image manifest is not JSON', { loc: { file: where } });
  }
  const ok = (d: unknown): d is Descriptor =>
    typeof d === 'object' &&
    d !== null &&
    typeof (d as Descriptor).digest === 'string' &&
    Number.isSafeInteger((d as Descriptor).size) &&
    (d as Descriptor).size >= 0 &&
    typeof (d as Descriptor).mediaType === 'string';
  const m = j as OciManifest;
  if (
    typeof j !== 'object' ||
    j === null ||
    m.schemaVersion !== 2 ||
    !ok(m.config) ||
    !Array.isArray(m.layers) ||
    !m.layers.every(ok)
  ) {
    throw new InputError('not an OCI image manifest (schemaVersion 2 with config and layers)', {
      loc: { file: where },
    });
  }
  return m;
}

const IMAGE_FILES: Record<string, string> = {
  'osvb/kernel.elf': 'kernel.elf',
  'osvb/rootfs.cpio': 'rootfs.cpio',
  'osvb/manifest.json': 'manifest.json',
};

/** Unpacks a verified osvb OCI image into an image directory osvb run can boot (replaced atomically). */
export async function unpackImage(img: OciImage, dir: string): Promise<Manifest> {
  const files = new Map<string, Buffer>();
  for (const layer of img.manifest.layers) {
    if (layer.mediaType !== MT.layer && layer.mediaType !== 'application/vnd.oci.image.layer.v1.tar') {
      throw new InputError(`layer ${layer.digest} has media type ${layer.mediaType}, not an osvb layer`);
    }
    const blob = img.blobs.find((b) => b.desc.digest === layer.digest);
    if (!blob) throw new InputError(`layer ${layer.digest} is missing`);
    const tar = layer.mediaType === MT.layer ? gunzipSync(blob.data) : blob.data;
    for (const [name, data] of await untar(tar)) {
      const target = IMAGE_FILES[name];
      if (target) files.set(target, data);
    }
  }
  if (!files.has('manifest.json') || !files.has('kernel.elf')) {
    throw new InputError(
      `image ${img.digest} is not an osvb image (no /osvb/manifest.json and /osvb/kernel.elf)`,
    );
  }
  await replaceDirAtomic(dir, async (tmp) => {
    for (const [name, data] of files)
      await writeFile(join(tmp, name), data, { mode: name === 'kernel.elf' ? 0o755 : 0o644 });
  });
  return readManifest(dir);
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/*) with the image tagged `tag`. */
export async function writeLayout(img: OciImage, dir: string, tag: string): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    const blobs = join(tmp, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = (digest: string, data: Buffer) =>
      writeFile(join(blobs, digest.slice('sha256:'.length)), data);
    for (const b of img.blobs) await put(b.desc.digest, b.data);
    await put(img.digest, img.manifestBytes);
    await writeFile(join(tmp, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const index = {
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [
        {
          mediaType: MT.manifest,
          digest: img.digest,
          size: img.manifestBytes.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { [ANNOTATION.refName]: tag },
        },
      ],
    };
    await writeFile(join(tmp, 'index.json'), JSON.stringify(index));
  });
}

/** Reads (and verifies) the image tagged `tag` (or the only one) from an OCI layout. */
export async function readLayout(dir: string, tag?: string): Promise<OciImage> {
  const indexFile = join(dir, 'index.json');
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(await readFile(indexFile, 'utf8')) as typeof index;
  } catch {
    throw new InputError('not an OCI image layout (no readable index.json)', { loc: { file: dir } });
  }
  const ms = (index.manifests ?? []).filter(
    (d) => tag === undefined || d.annotations?.[ANNOTATION.refName] === tag,
  );
  if (ms.length !== 1)
    throw new InputError(`OCI layout has ${ms.length} images${tag ? ` tagged ${tag}` : ''}`, {
      loc: { file: indexFile },
    });
  const blobPath = (d: string) => join(dir, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const md = ms[0]!;
  if (!/^sha256:[0-9a-f]{64}$/.test(md.digest))
    throw new DigestError(`malformed digest ${md.digest}`, { loc: { file: indexFile } });
  const manifestBytes = await readFile(blobPath(md.digest));
  verifyBlob(md, manifestBytes, dir);
  const manifest = parseManifest(manifestBytes, dir);
  const blobs: Blob[] = [];
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!/^sha256:[0-9a-f]{64}$/.test(d.digest))
      throw new DigestError(`malformed digest ${d.digest}`, { loc: { file: dir } });
    const data = await readFile(blobPath(d.digest));
    verifyBlob(d, data, dir);
    blobs.push({ desc: d, data });
  }
  return { manifest, manifestBytes, digest: md.digest, blobs };
}
