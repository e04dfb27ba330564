// A client for the OCI distribution API (v2): references, Docker-config
// credentials, Bearer-token and Basic auth, blob existence checks, cross-repo
// mounts, monolithic and chunked uploads, manifests; pulls verify every digest.
// No npm library does push with token auth and mounts today (the maintained
// one, @snyk/docker-registry-v2-client, only reads), so this is on fetch.

import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, OsvbError } from '../errors.js';
import {
  type Blob,
  DigestError,
  MT,
  type OciImage,
  parseManifest,
  verifyBlob,
  type Descriptor,
} from './oci.js';

export class RegistryError extends OsvbError {}

export interface ImageRef {
  /** host[:port] */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** HOST[:PORT]/REPO[:TAG][@sha256:...]; the registry must be named (no implicit default). */
export function parseRef(ref: string): ImageRef {
  const m =
    /^([^/]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(
      ref,
    );
  if (!m || !(m[1]!.includes('.') || m[1]!.includes(':') || m[1] === 'localhost')) {
    throw new InputError(
      `image reference ${JSON.stringify(ref)} is not HOST[:PORT]/REPOSITORY[:TAG][@DIGEST]`,
      {
        hint: 'name the registry, e.g. localhost:5000/hello:1.0',
        exitCode: 2,
      },
    );
  }
  return { registry: m[1]!, repository: m[2]!, tag: m[3] ?? (m[4] ? undefined : 'latest'), digest: m[4] };
}

export function formatRef(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Loopback registries speak plain HTTP (as docker allows); everything else HTTPS. */
export function registryBase(registry: string, env: NodeJS.ProcessEnv = process.env): string {
  const host = registry.replace(/:\d+$/, '');
  const insecure = (env.OSVB_INSECURE_REGISTRIES ?? '').split(',').includes(registry);
  const plain = insecure || host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  return `${plain ? 'http' : 'https'}://${registry}`;
}

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for a registry from $DOCKER_CONFIG/config.json or ~/.docker/config.json ("auths"). */
export async function dockerCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const file = join(env.DOCKER_CONFIG ?? join(env.HOME || homedir(), '.docker'), 'config.json');
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    cfg = JSON.parse(await readFile(file, 'utf8')) as typeof cfg;
  } catch {
    return undefined;
  }
  const entry =
    cfg.auths?.[registry] ?? cfg.auths?.[`https://${registry}`] ?? cfg.auths?.[`http://${registry}`];
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const s = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  return undefined;
}

function parseChallenge(h: string): { scheme: string; params: Record<string, string> } {
  const sp = h.indexOf(' ');
  const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of h.slice(sp + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

export interface ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Blobs larger than this go up in PATCH chunks of this size; smaller in one PUT. */
  chunkSize?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface PushResult {
  digest: string;
  uploaded: string[];
  skipped: string[];
  mounted: string[];
}

export class RegistryClient {
  private readonly base: string;
  private authHeader: string | undefined;
  private readonly opts: ClientOptions;

  constructor(
    readonly registry: string,
    opts: ClientOptions = {},
  ) {
    this.base = registryBase(registry, opts.env);
    this.opts = opts;
  }

  private async authenticate(res: Response, scope: string): Promise<boolean> {
    const ch = res.headers.get('www-authenticate');
    if (!ch) return false;
    const { scheme, params } = parseChallenge(ch);
    const creds = await dockerCredentials(this.registry, this.opts.env);
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      : undefined;
    if (scheme === 'basic') {
      if (!basic || this.authHeader === basic) return false;
      this.authHeader = basic;
      return true;
    }
    if (scheme !== 'bearer' || !params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? scope);
    const r = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    if (!r.ok) throw new RegistryError(`token request to ${url.origin} failed: HTTP ${r.status}`);
    const j = (await r.json()) as { token?: string; access_token?: string };
    const token = j.token ?? j.access_token;
    if (!token) throw new RegistryError(`token service ${url.origin} sent no token`);
    this.authHeader = `Bearer ${token}`;
    return true;
  }

  /** One request, authenticating on a 401 and retrying once. */
  private async request(
    method: string,
    path: string,
    scope: string,
    init: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.authHeader) headers.authorization = this.authHeader;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: init.body, redirect: 'follow' });
      } catch (err) {
        throw new RegistryError(
          `cannot reach registry ${this.registry}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
        );
      }
      if (res.status === 401 && attempt === 0 && (await this.authenticate(res, scope))) continue;
      return res;
    }
  }

  private async fail(res: Response, what: string): Promise<never> {
    const body = (await res.text().catch(() => '')).slice(0, 300).trim();
    const hint =
      res.status === 401 ? 'log in: put credentials for this registry in ~/.docker/config.json' : undefined;
    throw new RegistryError(`${what}: HTTP ${res.status}${body ? ` ${body}` : ''}`, { hint });
  }

  private location(res: Response): string {
    const loc = res.headers.get('location');
    if (!loc) throw new RegistryError('registry sent no upload location');
    return new URL(loc, this.base).toString();
  }

  private static withDigest(url: string, digest: string): string {
    const u = new URL(url);
    u.searchParams.set('digest', digest);
    return u.toString();
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, `repository:${repo}:pull`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `checking blob ${digest}`);
  }

  /** Uploads one blob unless the repository has it; tries a mount from `mountFrom` first. */
  async pushBlob(repo: string, blob: Blob, mountFrom?: string): Promise<'skipped' | 'mounted' | 'uploaded'> {
    const scope = `repository:${repo}:pull,push${mountFrom ? ` repository:${mountFrom}:pull` : ''}`;
    if (await this.hasBlob(repo, blob.desc.digest)) return 'skipped';
    const q = mountFrom ? `?mount=${blob.desc.digest}&from=${encodeURIComponent(mountFrom)}` : '';
    let res = await this.request('POST', `/v2/${repo}/blobs/uploads/${q}`, scope);
    if (res.status === 201) return 'mounted';
    if (res.status !== 202) return this.fail(res, `starting upload of ${blob.desc.digest}`);
    let url = this.location(res);
    const size = blob.data.length;
    const chunk = this.opts.chunkSize ?? 16 * 1024 * 1024;
    if (size > chunk) {
      for (let off = 0; off < size; off += chunk) {
        const part = blob.data.subarray(off, Math.min(size, off + chunk));
        res = await this.request('PATCH', url, scope, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${off}-${off + part.length - 1}`,
            'content-length': String(part.length),
          },
          body: part,
        });
        if (res.status !== 202) return this.fail(res, `uploading ${blob.desc.digest} at byte ${off}`);
        url = this.location(res);
        this.opts.onProgress?.(blob.desc.digest, off + part.length, size);
      }
      res = await this.request('PUT', RegistryClient.withDigest(url, blob.desc.digest), scope, {
        headers: { 'content-length': '0' },
      });
    } else {
      res = await this.request('PUT', RegistryClient.withDigest(url, blob.desc.digest), scope, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: blob.data,
      });
      this.opts.onProgress?.(blob.desc.digest, size, size);
    }
    if (res.status !== 201) return this.fail(res, `finishing upload of ${blob.desc.digest}`);
    return 'uploaded';
  }

  async push(repo: string, tag: string, img: OciImage, mountFrom?: string): Promise<PushResult> {
    const r: PushResult = { digest: img.digest, uploaded: [], skipped: [], mounted: [] };
    for (const b of img.blobs) r[await this.pushBlob(repo, b, mountFrom)].push(b.desc.digest);
    const res = await this.request('PUT', `/v2/${repo}/manifests/${tag}`, `repository:${repo}:pull,push`, {
      headers: { 'content-type': MT.manifest },
      body: img.manifestBytes,
    });
    if (res.status !== 201) return this.fail(res, `putting manifest ${repo}:${tag}`);
    const sent = res.headers.get('docker-content-digest');
    if (sent && sent !== img.digest) {
      throw new DigestError(`registry stored manifest ${repo}:${tag} as ${sent}, expected ${img.digest}`);
    }
    return r;
  }

  private async getBytes(
    path: string,
    scope: string,
    accept?: string,
  ): Promise<{ data: Buffer; type: string }> {
    const res = await this.request('GET', path, scope, accept ? { headers: { accept } } : {});
    if (!res.ok) return this.fail(res, `GET ${path}`);
    return { data: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
  }

  /** Fetches an image by tag or digest; every byte is checked against its digest before it is returned. */
  async pull(ref: ImageRef): Promise<OciImage> {
    const repo = ref.repository;
    const scope = `repository:${repo}:pull`;
    const where = formatRef(ref);
    let reference = ref.digest ?? ref.tag ?? 'latest';
    let expect: Pick<Descriptor, 'digest' | 'size'> | undefined;
    for (let depth = 0; depth < 2; depth++) {
      const { data, type } = await this.getBytes(
        `/v2/${repo}/manifests/${reference}`,
        scope,
        `${MT.manifest}, ${MT.index}`,
      );
      if (expect) verifyBlob(expect, data, where);
      else if (ref.digest) verifyBlob({ digest: ref.digest, size: data.length }, data, where);
      const j = JSON.parse(data.toString('utf8')) as { mediaType?: string; manifests?: Descriptor[] };
      if (type.startsWith(MT.index) || j.mediaType === MT.index) {
        const d = (j.manifests ?? []).find(
          (x) => !x.platform || (x.platform.architecture === 'amd64' && x.platform.os === 'linux'),
        );
        if (!d) throw new RegistryError(`${where} has no linux/amd64 image`);
        reference = d.digest;
        expect = d;
        continue;
      }
      const manifest = parseManifest(data, where);
      const digest = expect?.digest ?? ref.digest ?? (await import('./oci.js')).sha256Digest(data);
      const blobs: Blob[] = [];
      for (const d of [manifest.config, ...manifest.layers]) {
        const { data: b } = await this.getBytes(`/v2/${repo}/blobs/${d.digest}`, scope);
        verifyBlob(d, b, where);
        blobs.push({ desc: d, data: b });
        this.opts.onProgress?.(d.digest, d.size, d.size);
      }
      return { manifest, manifestBytes: data, digest, blobs };
    }
    throw new RegistryError(`${where}: index nests another index`);
  }
}
